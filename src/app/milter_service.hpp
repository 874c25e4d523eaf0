#pragma once
// The milter front door in `greyflux serve` (`[milter] listen`), wiring only: the decisions are
// in core/milter (filter.hpp: Filter, Conversation), the bytes move in io::LineServer.
//
// Life of a milter connection (docs/milter.md, docs/architecture.md): LineServer accepts on
// `milter.listen` and puts the connection on an io pool thread; make_frame gives it its own
// milter::Conversation; every read goes to Conversation::feed(in, out, wall clock), which
// decodes packets, decides (the greylist Engine for connect and RCPT, SpamdService::evaluate
// at end of message) and appends replies that LineServer writes. A protocol error closes that
// connection with one rate-limited log line; a client that stops mid-packet gets one line too.
//
// Threading: the Filter is shared by all io threads (its ports are the thread-safe Engine and
// SpamdService); a Conversation lives on its connection's thread. SIGHUP swaps the
// FilterConfig. Errors: validate_milter() at config load; start() failures are start-up errors.
#include <functional>
#include <memory>
#include <string>

#include "app/settings.hpp"
#include "core/metrics/metrics.hpp"
#include "core/milter/filter.hpp"

namespace boost::asio {
class io_context;
}

namespace gf::io {
class BlockingPool;
struct LineServerStats;
}  // namespace gf::io

namespace gf::app {

class Engine;
class HistoryService;
class SpamdService;

// Checks [milter] and greylist.mode (names the setting and the rule).
[[nodiscard]] Result<void> validate_milter(const Values& v);

// The reloadable decision settings of a validated config.
[[nodiscard]] milter::FilterConfig milter_config(const Values& v);

class MilterRuntime {
 public:
  MilterRuntime();
  ~MilterRuntime();
  // Does nothing when milter.listen is empty. `scanner` is the running mail scanner
  // (SpamdRuntime::service(), non-null when milter.listen is set); `engine` and `scanner` must
  // outlive the runtime's connections (drain() and the loop's end). `blocking` (null unless
  // the store is Redis, whose greylist reads block): every packet is handled there instead of
  // on the io thread; it must be joined before the runtime is destroyed.
  [[nodiscard]] Result<void> start(boost::asio::io_context& ioc,
                                   std::function<boost::asio::io_context&()> connection_context,
                                   const Values& v, Engine& engine, SpamdService* scanner,
                                   io::BlockingPool* blocking = nullptr);
  // The decision history (may be null): greylist rows of the RCPT stage (the scans are logged
  // by the scanner). Call before start().
  void set_history(HistoryService* h);
  void reload(const Values& v);  // SIGHUP: the decision settings
  void drain();                  // SIGTERM: stop accepting, close connections between packets
  // "milter.NAME\tN" lines for the admin stats command; empty when the milter is off.
  [[nodiscard]] std::string stats_text() const;
  // For /metrics; null when the milter is off.
  [[nodiscard]] const milter::FilterCounters* counters() const;
  [[nodiscard]] const io::LineServerStats* server_stats() const;
  // Per read that produced replies: packets decoded, decided (the scan at end of message) and
  // the replies encoded.
  [[nodiscard]] const metrics::Histogram* latency() const;

  struct Impl;  // the .cpp's (its frame functions name it)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace gf::app
