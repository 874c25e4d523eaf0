#pragma once
// CommentModel: the comment API's text classifiers and their persistence: the deployment's
// model, and with `site_models` one model per site (blog) that sent feedback (at most
// `max_site_models`; classify/site_model.hpp says how their opinions combine).
//
// Flow: load() at startup reads the snapshots ("m:model", "m:s:<site>", key::) and replays the
// training log ("t:<seq>") newer than them, so a restart, even after kill -9, loses no
// feedback; a site whose snapshot is unreadable is rebuilt from the whole log. Each check asks
// score(); each submit calls learn(), which appends the record to the training log under the
// next sequence number and trains the models that do not include it yet. save() writes the
// snapshots that changed, sites before the deployment's, so that the replay from the
// deployment snapshot's sequence number covers every site.
//
// Shared (`shared`, with [store] backend = "redis"): the training log is one SharedLog of the
// deployment (core/common/shared_log.hpp): learn() takes its sequence number from the counter
// every node shares ("m:next"), and sync(), on an interval, trains this node's model on the
// records other nodes appended since. Scoring never waits for the store; a node sees another's
// feedback within one sync interval. A snapshot stores the log position up to which every
// record is in it (records above it that it also holds may be trained twice after a restart
// from it: at most one interval's worth).
//
// The classifier has a say only once it has seen `min_training` examples of each class
// (trained()); before that the heuristics decide alone (a cold start).
//
// Threading: every method is safe from any thread: checks share a shared_mutex, training takes
// it alone; tokenising happens outside the lock. Errors: Result when the store fails; an
// unreadable snapshot or log record is logged and skipped, never fatal.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "core/akismet/request.hpp"
#include "core/classify/classifier.hpp"
#include "core/classify/site_model.hpp"
#include "core/common/kv_store.hpp"
#include "core/common/log_sink.hpp"
#include "core/common/result.hpp"
#include "core/common/shared_log.hpp"

namespace gf::akismet {

struct ModelOptions {
  std::size_t min_training = 10;  // spam and ham examples before the classifier has a say
  bool site_models = false;       // a model per site besides the deployment's
  std::size_t max_site_models = 1000;
  bool shared = false;                   // several nodes share the store: see above
  std::uint64_t shared_max_records = 0;  // the shared log's ring size; 0 = unbounded
};

// The site name a blog URL is kept under (models, usage records).
[[nodiscard]] std::string site_name(std::string_view blog);

class CommentModel {
 public:
  // `kv` and `log` outlive the model.
  CommentModel(const ModelOptions& o, KvStore& kv, LogSink& log);

  // Startup: snapshots, then the training log.
  [[nodiscard]] Result<void> load();

  struct Scores {
    bool trained = false;        // the deployment model has seen enough of both
    std::optional<double> text;  // its P(spam), when trained
    std::optional<double> site;  // the site model's, when that one is trained too
  };
  [[nodiscard]] Scores score(const CommentRequest& r, const std::string& site) const;

  // Appends `record` (an encoded CheckRecord of the submit) to the training log and trains on
  // `r`. An error means the log write failed; the models in memory were trained anyway.
  [[nodiscard]] Result<void> learn(const CommentRequest& r, bool spam, std::string record);

  // Writes the snapshots that changed since the last save.
  [[nodiscard]] Result<void> save();
  // Training-log records the deployment snapshot does not include yet (what a start replays).
  [[nodiscard]] std::uint64_t unsaved() const;

  // Shared: trains on the records other nodes appended since the last sync; answers how many.
  // Not shared: 0. The store calls are made without the model's lock (checks go on).
  [[nodiscard]] Result<std::size_t> sync();
  // Shared: the log's position and counts (zeros when not shared).
  [[nodiscard]] SharedLog::Stats shared_stats() const;

  [[nodiscard]] std::size_t site_count() const;
  [[nodiscard]] bool trained() const;

  // The deployment model's size, for /metrics: comments trained per class and features with
  // a non-zero weight (a scan of the weight array under the shared lock, ~1 ms).
  struct Size {
    std::uint64_t spam = 0;
    std::uint64_t ham = 0;
    std::size_t features = 0;
    std::size_t sites = 0;
  };
  [[nodiscard]] Size size() const;

 private:
  struct SiteModel {
    classify::Classifier classifier{classify::site_classifier_options()};
    std::uint64_t spam = 0;
    std::uint64_t ham = 0;
    std::uint64_t seq = 0;        // last training-log record included
    std::uint64_t saved_seq = 0;  // seq of the stored snapshot (0: none)
  };
  [[nodiscard]] classify::FeatureVector features_of(const CommentRequest& r) const;
  [[nodiscard]] bool ready_locked(std::uint64_t spam, std::uint64_t ham) const;
  // Trains, with training-log record `seq`, the models that do not include it yet: the
  // deployment model, and with site_models the site's (made here when `seq` is newer than the
  // deployment model, within max_site_models). Needs mu_ held exclusively.
  // `features`: features_of(r) if already computed (outside the lock), else null.
  // `fresh`: a record handed over by the shared log (trained once whatever its number).
  void train_locked(const CommentRequest& r, bool spam, std::uint64_t seq,
                    const classify::FeatureVector* features = nullptr, bool fresh = false);
  SiteModel* site_locked(const std::string& site, bool create);
  // Loads the "m:s:" snapshots; lowers `replay_from` to 0 when one must be rebuilt.
  [[nodiscard]] Result<void> load_site_models(std::uint64_t& replay_from);
  [[nodiscard]] Result<void> replay_log(std::uint64_t replay_from);
  // The training record of a log entry as a request; nullopt when it is unreadable.
  [[nodiscard]] static std::optional<std::pair<CommentRequest, bool>> decode_training(
      std::string_view value);

  ModelOptions opts_;
  KvStore& kv_;
  LogSink& log_;
  mutable std::shared_mutex mu_;  // guards everything below
  classify::Classifier classifier_;
  std::uint64_t trained_spam_ = 0;
  std::uint64_t trained_ham_ = 0;
  std::uint64_t trained_seq_ = 0;  // last training-log record included in classifier_
  std::uint64_t saved_seq_ = 0;
  std::unordered_map<std::string, SiteModel> sites_;  // by site_name(blog)
  bool site_limit_logged_ = false;
  std::uint64_t next_seq_ = 1;
  std::unique_ptr<SharedLog> shared_;  // with opts_.shared
  std::mutex sync_mu_;                 // a sync's poll and training vs. a snapshot's position
};

}  // namespace gf::akismet
