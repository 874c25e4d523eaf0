#pragma once
// HistoryService: the decision history of `greyflux serve` (core/history/log.hpp) as the daemon
// wires it: one history::Log behind a mutex that every front door appends to, its store (the
// comment API's store, LMDB akismet.store_path or Redis PREFIX a:, under the key prefix h:,
// attached by the [http] door; none with history.persist = false), a timer that drops expired
// learn payloads and writes the rows appended or changed since the last tick, and the admin API
// routes GET /api/v1/history, GET /api/v1/history/ID and POST /api/v1/history/learn. The
// history is off when http.listen is empty (nothing could read it) or history.size is 0.
//
// Relearning calls the door's own trainer (set_trainer): the comment API's submit path
// (CommentService::relearn, what submit-spam / submit-ham do) and the mail scanner's TELL
// path (SpamdService::relearn, Scanner::learn of the kept Prepared). It decides nothing itself:
// the log says which rows can be learned, the trainer learns.
//
// Threading: record() and handle() are safe from any thread; record() holds the mutex for an
// append (no I/O: the store is written by the timer). Learns are serialised by a second mutex
// so that one row is never learned twice at once. Errors: open() fails on a store that cannot
// be opened (start-up error); store write failures later are counted and logged rate-limited;
// stored rows that cannot be decoded are skipped with one warning.
#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/common/kv_store.hpp"
#include "core/common/result.hpp"
#include "core/history/log.hpp"
#include "io/net/http_server.hpp"

namespace gf::io {
class PeriodicTimer;
}

namespace gf::app {

class Values;

[[nodiscard]] history::Limits history_limits(const Values& v);

class HistoryService {
 public:
  [[nodiscard]] static std::unique_ptr<HistoryService> open(const Values& v);
  ~HistoryService();

  // Persists the log in `kv` (keys h:<id>) from now on, after restoring the rows stored there
  // (history.persist; call once, before serving). `kv` must stay alive until detach_store().
  [[nodiscard]] Result<void> attach_store(KvStore& kv, std::int64_t now_s);
  // Writes the last changes and forgets the store (before the store is closed).
  void detach_store();

  // Logs one decision (nothing when history.size is 0). Safe from any thread.
  void record(history::Row row);
  [[nodiscard]] bool enabled() const { return enabled_; }

  // Learns `payload` (the row's learn payload) as spam or ham; true when the model changed,
  // false when the door's model already had it as this class.
  using Trainer = std::function<Result<bool>(std::string_view payload, bool spam)>;
  void set_trainer(history::Door door, Trainer t);

  // /api/v1/history and /api/v1/history/...: JSON answers, errors {"error":..,"message":..}.
  [[nodiscard]] io::HttpResponse handle(const io::HttpRequest& r);
  [[nodiscard]] static bool routes(std::string_view path) {
    return path == "/api/v1/history" || path.starts_with("/api/v1/history/");
  }

  // The timer (history payload expiry and store writes, every second) on a thread of its own:
  // a batch of store writes (thousands of rows after a burst, each a Redis round trip or a
  // timeout when the store is down) never holds up an io thread's connections.
  void start();
  void stop();  // cancels the timer and joins the thread (a tick in progress finishes)
  // One tick: expire payloads older than the retention at `now_s`, write the changes a bounded
  // batch at a time (decisions that record a row wait on the lock for one batch's copy at most).
  void tick(std::int64_t now_s);
  void reload(const Values& v);  // history.size, relearn_retention, relearn_memory

 private:
  HistoryService() = default;
  io::HttpResponse list(const io::HttpRequest& r);
  io::HttpResponse one(std::string_view id_text);
  io::HttpResponse learn(const io::HttpRequest& r);
  bool persist(KvStore& kv, history::Changes&& c);

  bool enabled_ = true;
  mutable std::mutex mu_;
  history::Log log_;  // guarded by mu_
  std::mutex learn_mu_;
  std::array<Trainer, history::kDoorCount> trainers_;
  bool persist_ = true;
  KvStore* kv_ = nullptr;  // null: not persisted
  std::atomic<std::uint64_t> store_errors_{0};
  boost::asio::io_context writer_ioc_;
  std::unique_ptr<io::PeriodicTimer> timer_;
  std::thread writer_;
};

}  // namespace gf::app
