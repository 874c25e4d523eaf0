#pragma once
// AkismetService: the Akismet-compatible comment API as the daemon and the CLI share it.
//
// Flow of one comment-check (docs/architecture.md, "Life of a comment-check"): decode the form
// (core/akismet/form) -> find the key (body api_key/key, else the Host prefix) and check it in
// the store -> required fields -> analyze() the fields, look up reputation (IP, e-mail, URL
// hosts, exact text) and the flood tracker, score the text with the classifier when it has
// been trained on both classes -> decide() -> store the check (guid, verdict, reasons, every
// field) and count usage -> reply exactly as Akismet does. submit-spam / submit-ham append the
// comment to the training log, train the model online and update reputation (never for
// is_test=1).
//
// State: an LmdbKv of its own (keys, usage, reputation, checks, training log, model snapshot);
// the classifier in memory behind a shared_mutex (checks share it, training takes it alone),
// snapshotted every `model_save_interval` and on shutdown with the sequence number of the last
// training record it includes, so that a restart (even after kill -9) replays the newer
// records from the log and loses no feedback. With `site_models`, each site (blog) that sends
// feedback also gets a model of its own (classify/site_model.hpp; at most `max_site_models`),
// under the same lock, snapshotted the same way under "m:s:<site>" (each with its own sequence
// number; the sites are written before the deployment model, so the replay from the deployment
// snapshot's sequence number covers them too; a site whose snapshot is unreadable is rebuilt
// from the whole training log).
//
// Threading: handle() is safe from any thread. Errors: handle() never throws for bad input
// (Akismet-style replies); open() returns a Result (startup error).
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/akismet/decision.hpp"
#include "core/akismet/evidence.hpp"
#include "core/akismet/form.hpp"
#include "core/classify/classifier.hpp"
#include "core/classify/site_model.hpp"
#include "core/common/result.hpp"
#include "core/common/time.hpp"
#include "core/flux/lookup.hpp"
#include "io/net/http_server.hpp"

namespace gf::io {
class LmdbKv;
}

namespace gf::app {

class Values;

struct AkismetConfig {
  std::string store_path = "var/akismet.lmdb";
  std::uint64_t map_size = 4ULL << 30;
  Millis commit_interval{100};
  bool sync = true;
  Millis check_retention{std::chrono::hours(24 * 30)};
  std::size_t max_checks = 1000000;
  std::uint64_t usage_limit = 0;  // per key and month; 0 = none
  std::size_t min_training = 10;  // spam and ham examples before the classifier has a say
  bool site_models = false;       // a model per site besides the deployment's
  std::size_t max_site_models = 1000;
  Millis model_save_interval{std::chrono::seconds(30)};
  akismet::DecisionOptions decision;
  akismet::FormLimits form;
  bool writer_thread = true;
};

// akismet.spam_threshold lies strictly inside +-this, the scores the test hooks and the
// discard level use (DecisionOptions::discard_at).
inline constexpr double kAkismetThresholdRange = 8.0;

[[nodiscard]] AkismetConfig akismet_config(const Values& v);

// `greyflux keys ...` / `greyflux akismet show GUID` (args include the subcommand word).
int akismet_cli(const std::string& config_path, const std::vector<std::string>& overrides,
                const std::vector<std::string>& args, const std::string& blog);

struct AkismetCounters {
  std::atomic<std::uint64_t> checks{0};
  std::atomic<std::uint64_t> spam{0};
  std::atomic<std::uint64_t> ham{0};
  std::atomic<std::uint64_t> submits{0};
  std::atomic<std::uint64_t> trained{0};
  std::atomic<std::uint64_t> invalid{0};
  std::atomic<std::uint64_t> store_errors{0};
};

class AkismetService {
 public:
  [[nodiscard]] static Result<std::unique_ptr<AkismetService>> open(const AkismetConfig& cfg);
  ~AkismetService();  // saves the model and commits what is pending

  [[nodiscard]] io::HttpResponse handle(const io::HttpRequest& req, std::int64_t now_s);

  // Key administration (also used by `greyflux keys`).
  [[nodiscard]] Result<std::string> add_key(std::string_view blog, std::int64_t now_s);
  [[nodiscard]] Result<std::string> list_keys();
  [[nodiscard]] Result<void> revoke_key(std::string_view key);
  // `greyflux akismet show GUID`
  [[nodiscard]] Result<std::string> show_check(std::string_view guid);

  // Writes the model snapshot if it changed since the last one.
  [[nodiscard]] Result<void> save_model();
  [[nodiscard]] Result<void> flush();
  AkismetCounters& counters() { return counters_; }

  // The fast-flux detector's current index (may return null). Set once, before serving: link
  // and author-URL hosts it flags become the FAST_FLUX_LINK symbol.
  using FluxLookup = std::function<std::shared_ptr<const flux::FluxIndex>()>;
  void set_flux_lookup(FluxLookup lookup) { flux_lookup_ = std::move(lookup); }
  [[nodiscard]] std::string stats_text();

 private:
  explicit AkismetService(const AkismetConfig& cfg);
  Result<void> load_model();
  // The stored value of `key`, or NotFound with `missing` as the message.
  Result<std::string> get_existing(const std::string& key, std::string missing);
  io::HttpResponse check(akismet::Form&& form, const io::HttpRequest& req, std::int64_t now_s);
  io::HttpResponse submit(const akismet::Form& form, const io::HttpRequest& req, bool spam,
                          std::int64_t now_s);
  io::HttpResponse verify(const akismet::Form& form, const io::HttpRequest& req);
  io::HttpResponse key_sites(const akismet::Form& form, const io::HttpRequest& req,
                             std::int64_t now_s);
  io::HttpResponse usage_limit(const akismet::Form& form, const io::HttpRequest& req,
                               std::int64_t now_s);
  // Empty when the key is good; else the Akismet debug-help text.
  std::string key_problem(const std::string& key);
  // The same for a key record already read (nullopt: no such key).
  static std::string key_record_problem(const std::string& key,
                                        const std::optional<std::string>& rec);
  std::string key_of(const akismet::Form& form, const io::HttpRequest& req) const;
  classify::FeatureVector features_of(const akismet::CommentRequest& r) const;
  void add_reputation(const std::string& store_key, bool spam, std::int64_t now_s);
  void count_usage(const std::string& key, const std::string& blog, std::int64_t now_s, int what);
  struct SiteModel {
    classify::Classifier classifier{classify::site_classifier_options()};
    std::uint64_t spam = 0;
    std::uint64_t ham = 0;
    std::uint64_t seq = 0;        // last training-log record included
    std::uint64_t saved_seq = 0;  // seq of the stored snapshot (0: none)
  };
  // Trains, with training-log record `seq`, the models that do not include it yet: the
  // deployment model, and with site_models the site's (made here when `seq` is newer than the
  // deployment model, within max_site_models). Needs model_mu_ held exclusively.
  // `features`: features_of(r) if already computed (outside the lock), else null.
  void train_locked(const akismet::CommentRequest& r, bool spam, std::uint64_t seq,
                    const classify::FeatureVector* features = nullptr);
  SiteModel* site_locked(const std::string& site, bool create);
  // Loads the "m:s:" snapshots; lowers `replay_from` to 0 when one must be rebuilt.
  Result<void> load_site_models(std::uint64_t& replay_from);

  AkismetConfig cfg_;
  std::unique_ptr<io::LmdbKv> kv_;
  mutable std::shared_mutex model_mu_;  // guards classifier_ and the training counters
  classify::Classifier classifier_;
  std::uint64_t trained_spam_ = 0;
  std::uint64_t trained_ham_ = 0;
  std::uint64_t trained_seq_ = 0;  // last training-log record included in classifier_
  std::uint64_t saved_seq_ = 0;
  std::unordered_map<std::string, SiteModel> sites_;  // by site_name(blog); under model_mu_
  bool site_limit_logged_ = false;                    // under model_mu_
  std::uint64_t next_seq_ = 1;
  std::mutex flood_mu_;
  akismet::FloodTracker flood_;
  AkismetCounters counters_;
  FluxLookup flux_lookup_;
};

}  // namespace gf::app
