#pragma once
// AkismetService: the wiring of the comment API (akismet::CommentService, src/core/akismet)
// as the daemon and the CLI share it: the settings mapping (akismet_config), an io::LmdbKv of
// its own (keys, usage, reputation, checks, training log, model snapshots; key layout in
// core/akismet/keys.hpp) with the retention of stored checks and training records, the random
// sources, a LogSink over spdlog, and the translation between io::HttpRequest/HttpResponse and
// the core's ApiRequest/Reply. It decides nothing: docs/architecture.md, "Life of a
// comment-check", follows a request through the core.
//
// Threading: handle() is safe from any thread. Errors: handle() never throws for bad input
// (Akismet-style replies); open() returns a Result (startup error).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/akismet/comment_service.hpp"
#include "core/akismet/decision.hpp"
#include "core/akismet/form.hpp"
#include "core/common/result.hpp"
#include "core/common/time.hpp"
#include "core/flux/lookup.hpp"
#include "io/net/http_server.hpp"
#include "io/store/redis_client.hpp"

namespace gf::io {
class LmdbKv;
class SystemRandom;
class SecureRandom;
}  // namespace gf::io

namespace gf::app {

class Values;

struct AkismetConfig {
  std::string store_path = "var/akismet.lmdb";
  std::uint64_t map_size = 4ULL << 30;
  Millis commit_interval{100};
  bool sync = true;
  bool journal = true;  // store.journal
  Millis check_retention{std::chrono::hours(24 * 30)};
  std::size_t max_checks = 1000000;
  Millis model_save_interval{std::chrono::seconds(30)};
  Millis model_sync_interval{std::chrono::seconds(5)};  // store.model_sync_interval (Redis)
  // usage limit, training, site models, decision threshold (akismet_settings.hpp), form limits.
  akismet::ServiceOptions service;
  bool writer_thread = true;
  // [store] backend = "redis": the comment store is io::RedisKv on the process's shared client.
  bool redis = false;
  io::RedisOptions redis_options;
  std::string redis_prefix = "gf:a:";
};

[[nodiscard]] AkismetConfig akismet_config(const Values& v);

class AkismetService;

// For the commands that work on the comment store beside a running daemon (`keys`,
// `akismet show`, `admin-token`): loads the configuration, prepares the state directories and
// opens the store without a writer thread. On failure: prints one line to stderr, returns null.
[[nodiscard]] std::unique_ptr<AkismetService> open_comment_store_for_cli(
    const std::string& config_path, const std::vector<std::string>& overrides);

// `greyflux keys ...` / `greyflux akismet show GUID` (args include the subcommand word).
int akismet_cli(const std::string& config_path, const std::vector<std::string>& overrides,
                const std::vector<std::string>& args, const std::string& blog);

using AkismetCounters = akismet::CommentCounters;

class AkismetService {
 public:
  [[nodiscard]] static Result<std::unique_ptr<AkismetService>> open(const AkismetConfig& cfg);
  ~AkismetService();  // saves the model and commits what is pending

  // `now_s`: the wall clock (Unix seconds) as the daemon read it; stored check GUIDs get the
  // milliseconds of the wall clock when it is the same second.
  [[nodiscard]] io::HttpResponse handle(const io::HttpRequest& req, std::int64_t now_s);
  // handle() in two steps around the comment-check's one read (CommentService::begin/finish):
  // the HTTP door awaits store().get_many_async() of the pending check's `reads` between them
  // when store().reads_async().
  using Pending = std::unique_ptr<akismet::CommentService::PendingCheck>;
  [[nodiscard]] std::variant<io::HttpResponse, Pending> begin(const io::HttpRequest& req,
                                                              std::int64_t now_s);
  [[nodiscard]] io::HttpResponse finish(
      akismet::CommentService::PendingCheck& p,
      const Result<std::vector<std::optional<std::string>>>& stored);
  // CommentService::finish_scans_usage(): finish() makes a blocking store call too.
  [[nodiscard]] bool finish_scans_usage() const;

  // Key administration (also used by `greyflux keys`).
  [[nodiscard]] Result<std::string> add_key(std::string_view blog, std::int64_t now_s);
  [[nodiscard]] Result<std::string> list_keys();
  [[nodiscard]] Result<void> revoke_key(std::string_view key);
  // `greyflux akismet show GUID`
  [[nodiscard]] Result<std::string> show_check(std::string_view guid);

  // Writes the model snapshot if it changed since the last one.
  [[nodiscard]] Result<void> save_model();
  // Shared store (Redis): trains on other nodes' feedback since the last call; 0 otherwise.
  [[nodiscard]] Result<std::size_t> sync_model();
  // Feedback reports the stored model snapshot does not include (replayed by a start).
  [[nodiscard]] std::uint64_t model_unsaved() const;
  [[nodiscard]] Result<void> flush();
  AkismetCounters& counters();
  [[nodiscard]] akismet::CommentModel::Size model_size() const;
  // The comment API's store: the admin API keeps its tokens in it (core/admin/tokens.hpp), the
  // decision history its rows.
  [[nodiscard]] KvStore& store() { return *kv_; }
  // The decision history: every comment-check's row (CommentService::set_history).
  void set_history(akismet::CommentService::HistorySink sink);
  // History relearn: submit-spam / submit-ham of a check's history payload.
  [[nodiscard]] Result<void> relearn(std::string_view payload, bool spam, std::int64_t now_s);

  using FluxLookup = akismet::CommentService::FluxLookup;
  void set_flux_lookup(FluxLookup lookup);
  [[nodiscard]] std::string stats_text();

 private:
  AkismetService();
  [[nodiscard]] Result<void> start_core(const AkismetConfig& cfg);
  class SpdLog;

  std::unique_ptr<KvStore> kv_;
  io::LmdbKv* lmdb_ = nullptr;        // kv_ when the store is LMDB (retention, stats)
  io::RedisClient* redis_ = nullptr;  // the client of kv_ when the store is Redis
  std::unique_ptr<io::SystemRandom> ids_;
  std::unique_ptr<io::SecureRandom> secrets_;
  std::unique_ptr<SpdLog> log_;
  std::unique_ptr<akismet::CommentService> core_;  // last: uses the ports above
};

}  // namespace gf::app
