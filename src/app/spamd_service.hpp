#pragma once
// The mail scanner front doors in `greyflux serve`: the spamd protocol on its own listener and
// Rspamd's /checkv2 on the [http] one, over one learned mail model (reader/writer lock,
// periodic save). This file is wiring: the decisions are in core/spamd (evaluate.hpp), the
// settings mapping in spamd_settings.hpp, the model and RPZ files in io/mail and io/flux,
// `greyflux learn` / `greyflux classify` in mail_cli.hpp.
//
// Life of a spamd request (docs/architecture.md): LineServer reads bytes -> on_frame/on_eof
// call spamd::parse_request (NeedMore until the request line, headers and Content-length bytes,
// or the client's half-close, are in) -> answer(): mime::parse_message -> evaluate() =
// spamd::evaluate under the shared lock (scan + action) -> spamd::make_verdict ->
// spamd::format_reply -> LineServer writes it, half-closes and closes. TELL takes the exclusive
// lock to learn, appends the TELL to the journal (spamd.journal, core/spamd/tell_journal.hpp:
// durable at the store's next group commit) and marks the model dirty; a timer saves the model
// every save_interval, or sooner once spamd.journal_max TELLs are journaled, and the journal
// entries the saved file holds are then erased. Start: model file, then the journal's replay.
//
// [store] backend = "redis": every node keeps its own model (scans read only it, so a scan never
// waits for Redis and goes on while Redis is down), and the nodes share their training through
// the shared mail training log (core/common/shared_log.hpp, keys "ml:" in the comment API's
// prefix): a TELL (or a history relearn) that changed the model queues its learn record
// (spamd::encode_shared_learn), which is appended at once off the TELL's thread; every
// store.model_sync_interval each node learns the records the others appended (Scanner::learn of
// the Prepared: idempotent by the message fingerprint, so nothing counts twice). A start-up
// replays the records the ring still holds (spamd.shared_log_records). TELL's Remove is local.
//
// Threading: on_frame/on_eof/checkv2 run on many io threads at once. Errors: protocol errors
// become one reply line and one rate-limited log line; a model file or RPZ that cannot be read
// is a startup error (on reload a bad RPZ keeps the previous names).
#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>

#include "app/settings.hpp"
#include "app/spamd_settings.hpp"
#include "core/common/kv_store.hpp"
#include "core/common/shared_log.hpp"
#include "core/metrics/metrics.hpp"
#include "core/spamd/evaluate.hpp"
#include "core/spamd/protocol.hpp"
#include "core/spamd/scanner.hpp"
#include "core/spamd/tell_journal.hpp"
#include "io/net/http_server.hpp"
#include "io/net/line_server.hpp"

namespace boost::asio {
class io_context;
}

namespace gf::io {
class BlockingPool;
}

namespace gf::app {

class HistoryService;

struct SpamdCounters {
  std::atomic<std::uint64_t> checked{0};
  std::atomic<std::uint64_t> spam{0};
  std::atomic<std::uint64_t> learned{0};
  std::atomic<std::uint64_t> auto_learned{0};  // spamd.auto_learn
  std::atomic<std::uint64_t> protocol_errors{0};
  std::atomic<std::uint64_t> journal_errors{0};  // a TELL the journal could not take
  // Connections closed without sending a byte (health checks, port probes): not errors.
  std::atomic<std::uint64_t> empty_connections{0};
  // A scan (spamd CHECK/SYMBOLS/REPORT..., Rspamd /checkv2), parse to reply.
  metrics::Histogram latency;
};

class SpamdService {
 public:
  // Loads the model file named by spamd.model (a missing file starts an empty model), then
  // replays spamd.journal (SpamdRuntime saves the model at its first tick when that replayed
  // anything).
  [[nodiscard]] static Result<std::unique_ptr<SpamdService>> open(const Values& v);
  ~SpamdService();

  // LineServer hooks: one request per connection.
  io::FrameResult on_frame(std::string& in, std::string& out, const std::string& peer);
  void on_eof(std::string& in, std::string& out, const std::string& peer);

  // Rspamd's HTTP API on the [http] listener: POST /checkv2 (the message is the body; reply
  // JSON with action, score, required_score, symbols) and GET /ping.
  [[nodiscard]] io::HttpResponse checkv2(const io::HttpRequest& req);

  // The one scan-to-action path (spamd::evaluate) under the shared lock, with the current
  // reject_score and flux names; the spamd answer and /checkv2 both come through here.
  [[nodiscard]] spamd::Evaluation evaluate(const mime::Message& m, bool explain,
                                           spamd::Scanner::Prepared* keep = nullptr) const;
  // evaluate(), and with a history set, the decision's row (with what relearning needs) logged
  // there; `via` names the front door ("spamd", "checkv2", "milter").
  [[nodiscard]] spamd::Evaluation evaluate_and_record(const mime::Message& m, bool explain,
                                                      std::string_view via,
                                                      std::string_view client);
  // The decision history (may be null); set once, before serving.
  void set_history(HistoryService* h) { history_ = h; }
  // History relearn: TELL's learn of a kept learn record (Scanner::learn of the Prepared), under
  // the exclusive lock; false when the model already had the message as this class.
  [[nodiscard]] Result<bool> relearn(std::string_view payload, bool spam);

  // Applies the reloadable settings (threshold, reject score, allow_tell, max_message, flux_rpz).
  void reload(const Values& v);
  // Writes the model file if it changed since the last save (atomically: temp file + rename).
  [[nodiscard]] Result<void> save_if_dirty();
  // Shared log (Redis): appends the queued TELLs, then learns the other nodes' records; answers
  // how many records of other nodes were read. Not shared: 0.
  [[nodiscard]] Result<std::size_t> sync();
  // Appends the queued TELLs only (posted after each TELL by the runtime).
  [[nodiscard]] Result<void> push_shared();
  [[nodiscard]] bool shared() const { return shared_log_ != nullptr; }
  // Called after a TELL queued a record (the runtime posts push_shared() to its loop).
  void set_shared_wake(std::function<void()> wake) { shared_wake_ = std::move(wake); }
  // "spamd.shared_log.position\t12\n..." for `greyflux stats`; empty when not shared.
  [[nodiscard]] std::string shared_stats_text() const;
  [[nodiscard]] Result<void> save();
  [[nodiscard]] bool dirty() const { return dirty_; }
  // TELLs journaled since the last save (0 without a journal).
  [[nodiscard]] std::uint64_t unsaved_tells() const { return journal_ ? journal_->unsaved() : 0; }
  [[nodiscard]] const SpamdCounters& counters() const { return counters_; }
  // The running fast-flux detector's index, preferred over spamd.flux_rpz when it returns one.
  // Set once, before serving.
  using FluxLookup = std::function<std::shared_ptr<const flux::FluxIndex>()>;
  void set_flux_lookup(FluxLookup lookup) { flux_lookup_ = std::move(lookup); }
  // The fast-flux names and agents in use: the live detector's index, else spamd.flux_rpz's
  // (null when neither). Safe from any thread.
  [[nodiscard]] std::shared_ptr<const flux::FluxIndex> flux() const;
  [[nodiscard]] std::uint64_t spam_learned() const;
  [[nodiscard]] std::uint64_t ham_learned() const;
  // Features with a non-zero weight in the mail model (a scan of the weight array: ~1 ms).
  [[nodiscard]] std::size_t model_features() const;

 private:
  SpamdService(spamd::Scanner scanner, std::string model_path, std::string host);
  io::FrameResult step(std::string& in, std::string& out, const std::string& peer, bool eof);
  std::string answer(const spamd::Request& req, const std::string& peer);
  std::string tell(const spamd::Request& req, const std::string& peer);
  void count(const spamd::Evaluation& e);
  // spamd.auto_learn: learns `keep` as Scanner::auto_learn_class says (exclusive lock).
  [[nodiscard]] bool auto_learning() const;
  void auto_learn(const spamd::Evaluation& e, const spamd::Scanner::Prepared& keep);
  // Queues a learn that changed the model for the shared log (no-op when not shared).
  void share(const spamd::Scanner::Prepared& p, bool spam);
  [[nodiscard]] Result<void> open_shared(const Values& v);
  // Applies `e` under the exclusive lock and journals it when it changed the model.
  bool apply_and_journal(const spamd::TellEntry& e);
  [[nodiscard]] Result<void> open_journal(const Values& v, std::uint64_t file_hash);

  mutable std::mutex flux_mu_;
  std::shared_ptr<const flux::FluxIndex> flux_;  // names for URI_FLUX; null = off
  FluxLookup flux_lookup_;
  mutable std::shared_mutex mu_;
  spamd::Scanner scanner_;
  std::string model_path_;
  std::unique_ptr<KvStore> journal_kv_;          // spamd.journal (null: off)
  std::unique_ptr<spamd::TellJournal> journal_;  // over journal_kv_
  std::string checker_;                          // "greyflux VERSION on HOST"
  std::atomic<bool> dirty_{false};
  std::atomic<bool> allow_tell_{true};
  std::atomic<double> reject_score_{15.0};
  std::atomic<std::size_t> max_message_{10 * 1024 * 1024};
  SpamdCounters counters_;
  HistoryService* history_ = nullptr;
  // Shared log (Redis only): the comment API's Redis store, the log on it, the TELLs not yet
  // appended (at most kMaxOutbox; older ones are dropped and counted while Redis is down).
  static constexpr std::size_t kMaxOutbox = 10000;
  std::unique_ptr<KvStore> shared_kv_;
  std::unique_ptr<SharedLog> shared_log_;
  std::function<void()> shared_wake_;
  mutable std::mutex outbox_mu_;
  std::deque<std::string> outbox_;
  std::atomic<std::uint64_t> outbox_dropped_{0};
  std::atomic<std::uint64_t> shared_learned_{0};  // other nodes' records that changed the model
};

// Wiring for `greyflux serve`; does nothing when spamd.listen and milter.listen are empty.
class SpamdRuntime {
 public:
  SpamdRuntime();
  ~SpamdRuntime();
  // Listeners and timers live on `ioc`, connections where `connection_context` says (empty:
  // on strands of `ioc`). `flux` (may be empty): the daemon's live fast-flux index, for URI_FLUX.
  // `blocking` (null unless the store is Redis): the shared training log's appends and polls run
  // there instead of on `ioc`; it must be joined before finish().
  [[nodiscard]] Result<void> start(boost::asio::io_context& ioc,
                                   std::function<boost::asio::io_context&()> connection_context,
                                   const Values& v, SpamdService::FluxLookup flux = {},
                                   io::BlockingPool* blocking = nullptr);
  void reload(const Values& v);  // SIGHUP
  // The scanner, when spamd.listen or milter.listen is set (null otherwise); lives until the
  // runtime is destroyed.
  [[nodiscard]] SpamdService* service();
  // The spamd listener's counters; null when spamd.listen is empty.
  [[nodiscard]] const io::LineServerStats* server_stats() const;
  // Answers the Rspamd endpoints when the scanner runs; nullopt for any other request.
  [[nodiscard]] std::optional<io::HttpResponse> http(const io::HttpRequest& req);
  void drain();   // SIGTERM: stop accepting, finish open requests
  void finish();  // after the loop: save the model if it changed

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gf::app
