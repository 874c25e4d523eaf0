#pragma once
// The milter decision layer: what greyflux answers at each step of an SMTP transaction that
// Postfix or Sendmail shows it, on top of the codec (codec.hpp) and the per-connection protocol
// state (session.hpp).
//
// Flow: the io adapter owns one Conversation per connection and hands it every chunk of bytes
// it reads: feed(in, out, now) decodes each complete packet, lets the Session answer what the
// protocol itself decides (negotiation, limits, no-reply steps), and decides the rest:
//   connect  -> FilterPorts::check_client (the greylist's client whitelists and flux-agent
//               rule, greylist.flux_agents): a flux agent gets 451 4.7.1 or 550 5.7.1;
//   RCPT     -> mode Always: FilterPorts::check_recipient, the policy server's greylist check
//               (same core, same store) -> 451 4.7.1 <greylist.text> for a deferral;
//   headers, body -> kept (up to FilterConfig::max_scan_bytes) for the scan;
//   end of message -> FilterPorts::scan (the spamd path, spamd::evaluate) -> over the reject
//               score: 550 5.7.1, or quarantine / discard (FilterConfig::over_reject); mode
//               Suspicious and a score in [grey_min, grey_max): every accepted recipient goes
//               through check_recipient, and one deferral tempfails the message as greylisted
//               (a known triplet passes at once); otherwise the X-Spam-* headers are added
//               (incoming ones removed) and the message goes on.
// Scanner or store trouble gives FilterConfig::on_failure (accept or a 451 4.3.0 tempfail),
// counted in FilterCounters. The adapter writes `out` and closes on Close or Error.
//
// Threading: a Filter is shared by every connection (the ports must be thread-safe; the config
// is an immutable snapshot swapped under a lock; counters are atomics). A Conversation belongs
// to one connection. Time comes in as `now`. Errors: feed() returns an error line for a packet
// that does not decode or breaks the protocol; the adapter logs it once and closes that
// connection only. Memory per connection: one packet (Limits::max_packet_bytes) plus the kept
// message (max_scan_bytes).
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/log_sink.hpp"
#include "core/common/result.hpp"
#include "core/common/time.hpp"
#include "core/greylist/greylist.hpp"
#include "core/milter/codec.hpp"
#include "core/milter/session.hpp"
#include "core/policy/request.hpp"
#include "core/spamd/evaluate.hpp"

namespace gf::milter {

// greylist.mode: where the milter greylists (greylist::Settings::mode, greylist::parse_mode).
using GreylistMode = greylist::Settings::Mode;
// milter.on_failure: the answer when the store or the scanner fails.
enum class Fallback { Accept, Tempfail };

[[nodiscard]] Result<GreylistMode> parse_greylist_mode(std::string_view text);
[[nodiscard]] Result<Fallback> parse_fallback(std::string_view text);
[[nodiscard]] Result<spamd::OverReject> parse_over_reject(std::string_view text);

struct FilterConfig {
  GreylistMode mode = GreylistMode::Always;
  double grey_min = 2.0;   // Suspicious: grey_min <= score < grey_max is greylisted
  double grey_max = 15.0;  //   (scores at or over the reject score are rejected first)
  Fallback on_failure = Fallback::Accept;
  spamd::OverReject over_reject = spamd::OverReject::Reject;
  std::size_t max_scan_bytes = 10 * 1024 * 1024;  // bigger messages pass unscanned
  std::string checker = "greyflux";               // X-Spam-Checker-Version text
  std::string version;
};

// The services a milter decision needs; each must be safe to call from many threads.
struct FilterPorts {
  // Client whitelists and the flux-agent rule (greylist::Greylist::check_client).
  std::function<greylist::Decision(std::string_view address, std::string_view client_name)>
      check_client;
  // One recipient, as the policy server checks it (greylist::Greylist::check).
  std::function<greylist::Decision(const policy::Request& req, TimePoint now)> check_recipient;
  // The content scan of a whole message (headers, blank line, body); an error = scanner trouble.
  std::function<Result<spamd::Evaluation>(std::string_view message)> scan;
};

struct FilterCounters {
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> messages{0};          // end of message reached
  std::atomic<std::uint64_t> aborted{0};           // ABORT inside a message
  std::atomic<std::uint64_t> connect_deferred{0};  // flux agent, 451 at connect
  std::atomic<std::uint64_t> connect_rejected{0};  // flux agent, 550 at connect
  std::atomic<std::uint64_t> rcpt_greylisted{0};   // mode always: 451 at RCPT
  std::atomic<std::uint64_t> scanned{0};
  std::atomic<std::uint64_t> unscanned_large{0};  // over max_scan_bytes
  std::atomic<std::uint64_t> spam_tagged{0};      // spam, headers added, delivered
  std::atomic<std::uint64_t> rejected{0};         // 550 at end of message
  std::atomic<std::uint64_t> quarantined{0};
  std::atomic<std::uint64_t> discarded{0};
  std::atomic<std::uint64_t> grey_deferred{0};  // mode suspicious: grey band, new triplet
  std::atomic<std::uint64_t> grey_passed{0};    // mode suspicious: grey band, known triplet
  std::atomic<std::uint64_t> too_large{0};      // 552 from the session's size limit
  std::atomic<std::uint64_t> store_failures{0};
  std::atomic<std::uint64_t> scan_failures{0};
  std::atomic<std::uint64_t> fallback_tempfails{0};  // failures answered with 451 4.3.0
  std::atomic<std::uint64_t> protocol_errors{0};
};

inline constexpr std::string_view kScanFailReply =
    "451 4.3.0 Content scan temporarily unavailable, try again later";
inline constexpr std::string_view kStoreFailReply =
    "451 4.3.0 Greylisting temporarily unavailable, try again later";

class Filter {
 public:
  // `log` (not owned, may be null) gets one line per decision that refuses or changes a message.
  Filter(FilterPorts ports, std::shared_ptr<const FilterConfig> config, const Limits& limits,
         LogSink* log = nullptr);

  void set_config(std::shared_ptr<const FilterConfig> config);
  [[nodiscard]] std::shared_ptr<const FilterConfig> config() const;
  [[nodiscard]] const Limits& limits() const { return limits_; }
  [[nodiscard]] const FilterPorts& ports() const { return ports_; }
  FilterCounters& counters() { return counters_; }
  [[nodiscard]] const FilterCounters& counters() const { return counters_; }
  LogSink& log() { return *log_; }
  // What greyflux asks for in negotiation (docs/milter.md): add and change headers, quarantine;
  // skip nothing it judges, no replies for headers, body, end of headers, DATA, unknown.
  [[nodiscard]] static OptionNegotiation wants();
  // "name value\n..." lines for the admin stats command.
  [[nodiscard]] std::string stats_text() const;

 private:
  FilterPorts ports_;
  mutable std::mutex mu_;  // guards config_ (the pointer)
  std::shared_ptr<const FilterConfig> config_;
  Limits limits_;
  NullLog null_log_;
  LogSink* log_;
  FilterCounters counters_;
};

enum class FeedStatus { Continue, Close, Error };

struct FeedResult {
  FeedStatus status = FeedStatus::Continue;
  std::string error;  // for Error: one line, safe to log
};

class Conversation {
 public:
  // `filter` must outlive the conversation; `peer` names the connection in log lines and in the
  // greylist's message instance.
  Conversation(Filter& filter, std::string peer);
  ~Conversation();
  Conversation(const Conversation&) = delete;
  Conversation& operator=(const Conversation&) = delete;

  // Consumes every complete packet at the front of `in` (a partial one stays), appends the
  // replies to `out`. After Close or Error the caller writes `out` and closes the connection.
  FeedResult feed(std::string& in, std::string& out, TimePoint now);

  [[nodiscard]] const Session& session() const { return session_; }

 private:
  struct Visitor;

  std::string decide(const Command& command, TimePoint now);
  std::string on_connect(const Connect& c);
  std::string on_rcpt(const Rcpt& r, TimePoint now);
  std::string on_end_of_message(TimePoint now);
  std::string finish_message(const spamd::Evaluation* e, const FilterConfig& cfg,
                             std::string_view action, std::string_view extra);
  std::string fallback(const FilterConfig& cfg, std::string_view reply_on_tempfail,
                       std::string_view what, std::string_view error);
  std::string greylist_suspicious(const FilterConfig& cfg, const spamd::Evaluation& e,
                                  TimePoint now, bool& deferred);
  policy::Request request_for(std::string_view recipient) const;
  void keep_header(const Header& h);
  void keep_body(std::string_view chunk);
  void reset_message();
  void log(LogLevel level, std::string_view line);

  Filter& filter_;
  std::string peer_;
  Session session_;
  std::vector<std::string> accepted_rcpts_;
  std::string message_;  // headers, blank line, body, while under max_scan_bytes
  bool headers_done_ = false;
  bool scan_overflow_ = false;
  std::string message_id_;
  std::vector<std::pair<std::string, std::uint32_t>> incoming_spam_headers_;  // name, count
  std::vector<std::pair<std::string, std::string>> greylist_headers_;         // X-Greylist
  std::uint64_t message_no_ = 0;
};

}  // namespace gf::milter
