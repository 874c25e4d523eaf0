#pragma once
// CommentService: the Akismet-compatible comment API as a core service over ports. One HTTP
// request's worth of values in (ApiRequest), one Akismet reply out (Reply); the adapter
// (app/akismet_service over io::HttpServer) only translates.
//
// Flow of handle() (docs/architecture.md, "Life of a comment-check"): endpoint_of(path) and the
// method -> decode_form(body [& query]) -> per endpoint:
//   comment-check: key_of() (body api_key/key, else the Host prefix) -> comment_from_form() ->
//     analyze() -> ONE KvStore::get_many() of the key record and the reputation of the IP,
//     e-mail, URL hosts and exact text (key:: builds every key) -> key and required-field
//     checks -> the flood tracker and the fast-flux index -> CommentModel::score() -> decide()
//     -> ONE KvStore::put_and_update() of the stored check (c:<guid>) and the usage counter ->
//     reply_check().
//   submit-spam / submit-ham: key check -> usage -> (never for is_test) CommentModel::learn()
//     (training log + online training) -> reputation updates.
//   verify-key, key-sites, usage-limit, get-subscription, get-stats, deactivate: key check,
//     then a read or a scan of usage records.
//   Every reply to a good key carries Akismet's usage alert headers (X-akismet-alert-*) while
//   the key is over akismet.usage_limit this month; a comment-check with a revoked key is
//   `invalid` with X-akismet-error (WordPress holds the comment for moderation); a check with
//   recheck_reason ("Check for Spam") is logged at Info with its guid.
// Time comes in as `now` (milliseconds: the GUID of a stored check carries them); GUIDs come
// from the injected RandomSource, API keys from the second one (secret quality); the service
// reads no clock and no device.
//
// Threading: every method is safe from any thread (the store is; the model has its own lock;
// the flood tracker has a mutex). Errors: handle() never throws for bad input and answers as
// Akismet does; a store failure becomes a "retry" reply (checks), a 503 (scans) or is counted
// and the request still answered (usage, reputation, training log). load() and the key
// administration return Results.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/akismet/comment_model.hpp"
#include "core/akismet/decision.hpp"
#include "core/akismet/evidence.hpp"
#include "core/akismet/form.hpp"
#include "core/akismet/protocol.hpp"
#include "core/common/kv_store.hpp"
#include "core/common/log_sink.hpp"
#include "core/common/random.hpp"
#include "core/common/result.hpp"
#include "core/flux/lookup.hpp"
#include "core/history/row.hpp"

namespace gf::akismet {

// What the service reads of an HTTP request. Views into the caller's request: valid for the
// call only.
struct ApiRequest {
  std::string_view method;  // "POST", "GET", ...
  std::string_view path;    // "/1.1/comment-check"
  std::string_view query;   // after '?', undecoded
  std::string_view host;    // the Host header (a key may be its first label)
  std::string_view body;    // application/x-www-form-urlencoded
};

using WallTime = std::chrono::sys_time<std::chrono::milliseconds>;

// What a comment-check answers when its store read fails (Redis down or too slow).
enum class OnStoreFailure {
  Retry,       // Akismet's "invalid" with a debug help that says to retry
  Heuristics,  // decide from the comment alone: the key is not verified, no reputation is read,
               // the check is not stored; X-Greyflux-Reasons says STORE_UNAVAILABLE
};

struct ServiceOptions {
  ModelOptions model;
  std::uint64_t usage_limit = 0;  // per key and month; 0 = none
  DecisionOptions decision;
  FormLimits form;
  OnStoreFailure on_store_failure = OnStoreFailure::Retry;
  // Distinct comment texts the flood tracker remembers at most (akismet.flood_texts).
  std::size_t flood_texts = 200000;
};

struct CommentCounters {
  std::atomic<std::uint64_t> checks{0};
  std::atomic<std::uint64_t> spam{0};
  std::atomic<std::uint64_t> ham{0};
  std::atomic<std::uint64_t> submits{0};
  std::atomic<std::uint64_t> trained{0};
  std::atomic<std::uint64_t> invalid{0};
  std::atomic<std::uint64_t> store_errors{0};
  std::atomic<std::uint64_t> store_fallbacks{0};  // checks decided on heuristics alone
};

class CommentService {
 public:
  // The ports outlive the service. `ids` makes check GUIDs (fast), `secrets` API keys.
  CommentService(const ServiceOptions& o, KvStore& kv, RandomSource& ids, RandomSource& secrets,
                 LogSink& log);

  // Startup: the model snapshots and the training log (CommentModel::load()).
  [[nodiscard]] Result<void> load();

  [[nodiscard]] Reply handle(const ApiRequest& req, WallTime now);

  // handle() in two steps, for an adapter that reads the store without blocking its thread:
  // begin() answers every request but a comment-check that gets as far as its one read, for
  // which it gives the keys to read (`reads`, in one KvStore::get_many() or get_many_async());
  // finish() completes that check with what the read gave (an error: the store-failure
  // fallback, as handle() does). handle() == begin() + get_many() + finish().
  struct PendingCheck {
    Form form;
    CommentRequest r;
    Analysis a;
    std::string key;
    std::vector<std::string> reads;
    std::size_t text_at = 0;
    WallTime now{};
  };
  using Begun = std::variant<Reply, std::unique_ptr<PendingCheck>>;
  [[nodiscard]] Begun begin(const ApiRequest& req, WallTime now);
  [[nodiscard]] Reply finish(PendingCheck& p,
                             const Result<std::vector<std::optional<std::string>>>& stored);
  // True when finish() also scans the key's usage counters (usage_limit set: the usage alert
  // headers), a store call of its own that the adapter must not make on a thread that may not
  // block.
  [[nodiscard]] bool finish_scans_usage() const { return opts_.usage_limit != 0; }

  // Key administration (`greyflux keys`): each flushes the store.
  [[nodiscard]] Result<std::string> add_key(std::string_view blog, std::int64_t now_s);
  [[nodiscard]] Result<std::string> list_keys();
  [[nodiscard]] Result<void> revoke_key(std::string_view key);
  // `greyflux akismet show GUID`: the stored check as JSON.
  [[nodiscard]] Result<std::string> show_check(std::string_view guid);

  // Writes the model snapshots that changed since the last save.
  [[nodiscard]] Result<void> save_model() { return model_.save(); }
  // Shared store: trains on the feedback other nodes logged since the last call (CommentModel::
  // sync()); answers how many records.
  [[nodiscard]] Result<std::size_t> sync_model() { return model_.sync(); }
  [[nodiscard]] std::uint64_t model_unsaved() const { return model_.unsaved(); }
  [[nodiscard]] CommentModel::Size model_size() const { return model_.size(); }
  CommentCounters& counters() { return counters_; }
  // "akismet.checks\t12\n..." for the admin `stats` command.
  [[nodiscard]] std::string stats_text() const;

  // The decision history (core/history): each comment-check's row, with its stored check
  // (form fields and key) as the learn payload. Set once, before serving; empty = none.
  using HistorySink = std::function<void(history::Row)>;
  void set_history(HistorySink sink) { history_ = std::move(sink); }
  // Relearns a comment-check from its history payload (encode_check of the check) exactly as
  // submit-spam / submit-ham with the same fields and key would: usage, training log, online
  // training, reputations. Errors: a payload that cannot be decoded, or the submit's refusal
  // (a revoked key, a missing field) as InvalidInput with Akismet's reason.
  [[nodiscard]] Result<void> relearn(std::string_view payload, bool spam, std::int64_t now_s);

  // The fast-flux detector's current index (may return null). Set once, before serving: link
  // and author-URL hosts it flags become the FAST_FLUX_LINK symbol.
  using FluxLookup = std::function<std::shared_ptr<const flux::FluxIndex>()>;
  void set_flux_lookup(FluxLookup lookup) { flux_lookup_ = std::move(lookup); }

 private:
  Begun route(const ApiRequest& req, WallTime now);
  Begun begin_check(Form&& form, const ApiRequest& req, WallTime now);
  Reply submit(const Form& form, const ApiRequest& req, bool spam, std::int64_t now_s);
  Reply verify(const Form& form, const ApiRequest& req, std::int64_t now_s);
  Reply deactivate(const Form& form, const ApiRequest& req, std::int64_t now_s);
  // With akismet.usage_limit set: the Akismet usage alert headers on `r` when `key` is over
  // the limit this month (one scan of the key's usage records of the month).
  void alert_usage(Reply& r, const std::string& key, std::int64_t now_s);
  Reply key_sites(const Form& form, const ApiRequest& req, std::int64_t now_s);
  // usage-limit and get-subscription: the key's calls this month, answered by `answer`.
  using UsageAnswer = Reply (*)(std::uint64_t limit, std::uint64_t usage);
  Reply usage_report(const Form& form, const ApiRequest& req, std::int64_t now_s,
                     UsageAnswer answer);
  Reply stats(const Form& form, const ApiRequest& req, std::int64_t now_s);
  // API calls of `key` this month over all its sites (usage-limit, get-subscription).
  [[nodiscard]] Result<std::uint64_t> month_usage(const std::string& key, std::int64_t now_s);
  // Empty when the key is good; else the Akismet debug-help text.
  std::string key_problem(const std::string& key);
  // nullopt when the key is good; else the Akismet `invalid` reply, counted.
  std::optional<Reply> refuse_bad_key(const std::string& key);
  // The same for a key record already read (nullopt: no such key).
  static std::string key_record_problem(const std::string& key,
                                        const std::optional<std::string>& rec);
  static std::string key_of(const Form& form, const ApiRequest& req);
  // The stored value of `store_key`, or NotFound with `missing` as the message.
  [[nodiscard]] Result<std::string> get_existing(const std::string& store_key, std::string missing);
  // Reputation of the IP, e-mail, URL hosts and text from stored records, flood, flux.
  Signals signals_of(const CommentRequest& r, const Analysis& a,
                     const std::vector<std::optional<std::string>>& stored, std::size_t text_at,
                     const std::string& site, std::int64_t now_s);
  void add_reputation(const std::string& store_key, bool spam, std::int64_t now_s);
  void add_reputations(const CommentRequest& r, bool spam, std::int64_t now_s);
  void count_usage(const std::string& key, const std::string& blog, std::int64_t now_s, int what);

  ServiceOptions opts_;
  KvStore& kv_;
  RandomSource& ids_;
  RandomSource& secrets_;
  LogSink& log_;
  CommentModel model_;
  std::mutex flood_mu_;
  FloodTracker flood_;  // guarded by flood_mu_
  CommentCounters counters_;
  FluxLookup flux_lookup_;
  HistorySink history_;
};

}  // namespace gf::akismet
