#include "core/akismet/comment_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "core/akismet/keys.hpp"
#include "core/akismet/records.hpp"
#include "core/classify/model_io.hpp"
#include "core/common/strings.hpp"

namespace gf::akismet {
namespace {

// A model snapshot as stored: the last training-log record it includes, its spam and ham
// counts, the serialised classifier.
struct ModelSnapshot {
  std::uint64_t seq = 0;
  std::uint64_t spam = 0;
  std::uint64_t ham = 0;
  classify::Classifier classifier;
};

std::string encode_snapshot(std::uint64_t seq, std::uint64_t spam, std::uint64_t ham,
                            const classify::Classifier& c) {
  classify::ByteWriter w;
  w.u64(seq);
  w.u64(spam);
  w.u64(ham);
  w.bytes(c.serialize());
  return w.take();
}

Result<ModelSnapshot> decode_snapshot(std::string_view bytes) {
  classify::ByteReader r(bytes);
  ModelSnapshot s;
  std::string_view rest;
  if (!r.u64(s.seq) || !r.u64(s.spam) || !r.u64(s.ham) || !r.bytes(r.remaining(), rest)) {
    return fail(Errc::InvalidInput, "cut short");
  }
  auto c = classify::Classifier::deserialize(rest);
  if (!c) {
    return tl::unexpected(c.error());
  }
  s.classifier = std::move(*c);
  return s;
}

}  // namespace

std::string site_name(std::string_view blog) { return sanitize_line(blog, 200); }

CommentModel::CommentModel(const ModelOptions& o, KvStore& kv, LogSink& log)
    : opts_(o), kv_(kv), log_(log) {
  if (opts_.shared) {
    SharedLogOptions so;
    so.counter_key = std::string(key::kTrainingCounter);
    so.key_of = [](std::uint64_t seq) { return key::training(seq); };
    so.max_records = opts_.shared_max_records;
    shared_ = std::make_unique<SharedLog>(kv_, std::move(so));
  }
}

std::optional<std::pair<CommentRequest, bool>> CommentModel::decode_training(
    std::string_view value) {
  auto rec = decode_check(value);
  if (!rec) {
    return std::nullopt;
  }
  Form form;
  form.fields = rec->fields;
  return std::pair{comment_from_form(form), rec->kind == 's'};
}

bool CommentModel::ready_locked(std::uint64_t spam, std::uint64_t ham) const {
  return spam >= opts_.min_training && ham >= opts_.min_training;
}

bool CommentModel::trained() const {
  std::shared_lock lock(mu_);
  return ready_locked(trained_spam_, trained_ham_);
}

std::size_t CommentModel::site_count() const {
  std::shared_lock lock(mu_);
  return sites_.size();
}

CommentModel::Size CommentModel::size() const {
  std::shared_lock lock(mu_);
  return Size{trained_spam_, trained_ham_, classifier_.model_features(), sites_.size()};
}

Result<void> CommentModel::load() {
  std::unique_lock lock(mu_);
  auto snap = kv_.get(key::kModel);
  if (!snap) {
    return tl::unexpected(snap.error());
  }
  if (*snap) {
    if (auto m = decode_snapshot(**snap); !m) {
      log_.write(LogLevel::Warn,
                 fmt::format("akismet: model snapshot unreadable ({}); starting from the "
                             "training log",
                             m.error().message));
    } else {
      classifier_ = std::move(m->classifier);
      trained_seq_ = m->seq;
      saved_seq_ = m->seq;
      trained_spam_ = m->spam;
      trained_ham_ = m->ham;
    }
  }
  std::uint64_t replay_from = trained_seq_;
  if (opts_.site_models) {
    if (auto ok = load_site_models(replay_from); !ok) {
      return ok;
    }
  }
  return replay_log(replay_from);
}

// Replays feedback that arrived after the snapshot (or all of it, to rebuild a site model).
Result<void> CommentModel::replay_log(std::uint64_t replay_from) {
  std::size_t replayed = 0;
  const std::uint64_t snapshot_seq = trained_seq_;
  std::uint64_t last = trained_seq_;
  std::vector<std::uint64_t> above;  // shared: the records past the snapshot, now trained
  auto ok = kv_.scan(key::kTrainingPrefix, [&](std::string_view k, std::string_view value) {
    const std::optional<std::uint64_t> seq = key::parse_training_seq(k);
    if (!seq) {
      return true;
    }
    last = std::max(last, *seq);
    if (*seq <= replay_from) {
      return true;
    }
    auto rec = decode_training(value);
    if (!rec) {
      return true;
    }
    replayed += *seq > trained_seq_ ? 1 : 0;
    if (*seq > snapshot_seq) {
      above.push_back(*seq);
    }
    train_locked(rec->first, rec->second, *seq);
    return true;
  });
  if (!ok) {
    return ok;
  }
  next_seq_ = last + 1;
  if (shared_) {
    shared_->start(snapshot_seq, above);
  }
  log_.write(LogLevel::Info,
             fmt::format("akismet: model trained on {} spam and {} ham ({} replayed from the log)",
                         trained_spam_, trained_ham_, replayed));
  if (opts_.site_models) {
    log_.write(LogLevel::Info, fmt::format("akismet: {} site models (at most {})", sites_.size(),
                                           opts_.max_site_models));
  }
  return {};
}

Result<void> CommentModel::load_site_models(std::uint64_t& replay_from) {
  std::size_t loaded = 0;
  std::size_t rebuilt = 0;
  std::size_t skipped = 0;
  auto ok = kv_.scan(key::kSiteModelPrefix, [&](std::string_view k, std::string_view value) {
    const std::string site(k.substr(key::kSiteModelPrefix.size()));
    if (sites_.size() >= opts_.max_site_models) {
      ++skipped;
      return true;
    }
    auto snap = decode_snapshot(value);
    SiteModel& m = sites_[site];
    if (!snap) {
      // Start this site empty and retrain it from every training record still kept.
      log_.write(LogLevel::Warn,
                 fmt::format("akismet: site model snapshot of {} unreadable ({}); rebuilding it "
                             "from the training log",
                             sanitize_line(site, 100), snap.error().message));
      replay_from = 0;
      ++rebuilt;
      return true;
    }
    m.classifier = std::move(snap->classifier);
    m.seq = snap->seq;
    m.saved_seq = snap->seq;
    m.spam = snap->spam;
    m.ham = snap->ham;
    ++loaded;
    return true;
  });
  if (!ok) {
    return ok;
  }
  if (skipped != 0) {
    log_.write(LogLevel::Warn,
               fmt::format("akismet: {} site model snapshots not loaded: max_site_models is {}",
                           skipped, opts_.max_site_models));
  }
  log_.write(LogLevel::Info, fmt::format("akismet: {} site model snapshots loaded, {} to rebuild",
                                         loaded, rebuilt));
  return {};
}

CommentModel::Scores CommentModel::score(const CommentRequest& r, const std::string& site) const {
  Scores s;
  s.trained = trained();
  if (!s.trained) {
    return s;
  }
  // Tokenising needs only the (fixed) tokenizer settings: done outside the lock, so that
  // feedback, which takes the lock alone, waits only for the scoring.
  const classify::FeatureVector f = features_of(r);
  std::shared_lock lock(mu_);
  s.text = classifier_.score(f);
  if (opts_.site_models) {
    const auto it = sites_.find(site);
    if (it != sites_.end() && ready_locked(it->second.spam, it->second.ham)) {
      s.site = it->second.classifier.score(f);
    }
  }
  return s;
}

Result<void> CommentModel::learn(const CommentRequest& r, bool spam, std::string record) {
  const classify::FeatureVector features = features_of(r);  // outside the lock: checks go on
  if (shared_) {
    // The number comes from the deployment's counter; the store calls run without the lock.
    auto seq = shared_->append(std::move(record));
    std::unique_lock lock(mu_);
    if (!seq) {
      // Not in the log: trained here only (other nodes never see it).
      train_locked(r, spam, trained_seq_ + 1, &features, true);
      return tl::unexpected(seq.error());
    }
    train_locked(r, spam, *seq, &features, true);
    return {};
  }
  std::unique_lock lock(mu_);
  const std::uint64_t seq = next_seq_++;
  auto logged = kv_.put(key::training(seq), std::move(record));
  train_locked(r, spam, seq, &features);
  return logged;
}

Result<std::size_t> CommentModel::sync() {
  if (!shared_) {
    return 0;
  }
  std::lock_guard one(sync_mu_);
  auto entries = shared_->poll();
  if (!entries) {
    return tl::unexpected(entries.error());
  }
  std::vector<std::pair<std::uint64_t, std::pair<CommentRequest, bool>>> decoded;
  decoded.reserve(entries->size());
  for (const SharedLog::Entry& e : *entries) {
    if (auto rec = decode_training(e.record)) {
      decoded.emplace_back(e.seq, std::move(*rec));
    }
  }
  std::vector<classify::FeatureVector> features;
  features.reserve(decoded.size());
  for (const auto& d : decoded) {
    features.push_back(features_of(d.second.first));  // outside the lock: checks go on
  }
  std::unique_lock lock(mu_);
  for (std::size_t i = 0; i < decoded.size(); ++i) {
    train_locked(decoded[i].second.first, decoded[i].second.second, decoded[i].first, &features[i],
                 true);
  }
  return decoded.size();
}

SharedLog::Stats CommentModel::shared_stats() const {
  return shared_ ? shared_->stats() : SharedLog::Stats{};
}

Result<void> CommentModel::save() {
  // Shared: the snapshot holds every record up to the log's position (read with no sync
  // between its poll and its training).
  std::unique_lock<std::mutex> one;
  std::uint64_t position = 0;
  if (shared_) {
    one = std::unique_lock(sync_mu_);
    position = shared_->stats().position;
  }
  std::string bytes;
  std::uint64_t seq = 0;
  struct SiteSnapshot {
    std::string site;
    std::uint64_t seq;
    std::string bytes;
  };
  std::vector<SiteSnapshot> site_bytes;
  {
    std::shared_lock lock(mu_);
    for (const auto& [site, m] : sites_) {
      if (m.seq != m.saved_seq) {
        site_bytes.push_back(
            {site, m.seq,
             encode_snapshot(shared_ ? position : m.seq, m.spam, m.ham, m.classifier)});
      }
    }
    if (trained_seq_ == saved_seq_ && site_bytes.empty()) {
      return {};
    }
    seq = trained_seq_;
    bytes = encode_snapshot(shared_ ? position : trained_seq_, trained_spam_, trained_ham_,
                            classifier_);
  }
  one = {};
  // Sites first: the store commits puts in order, so a deployment snapshot that made it to
  // disk implies the site snapshots taken with it did, and the replay from its sequence
  // number covers every site.
  for (SiteSnapshot& s : site_bytes) {
    if (auto ok = kv_.put(key::site_model(s.site), std::move(s.bytes)); !ok) {
      return ok;
    }
  }
  if (auto ok = kv_.put(key::kModel, std::move(bytes)); !ok) {
    return ok;
  }
  std::unique_lock lock(mu_);
  saved_seq_ = seq;
  for (const SiteSnapshot& s : site_bytes) {
    sites_[s.site].saved_seq = s.seq;
  }
  return {};
}

std::uint64_t CommentModel::unsaved() const {
  std::shared_lock lock(mu_);
  return trained_seq_ - saved_seq_;
}

classify::FeatureVector CommentModel::features_of(const CommentRequest& r) const {
  classify::CommentFields f;
  f.content = r.comment_content;
  f.author = r.comment_author;
  f.author_email = r.comment_author_email;
  f.author_url = r.comment_author_url;
  f.context = r.comment_context;
  f.comment_type = r.comment_type;
  return classifier_.features(f);
}

CommentModel::SiteModel* CommentModel::site_locked(const std::string& site, bool create) {
  if (auto it = sites_.find(site); it != sites_.end()) {
    return &it->second;
  }
  if (!create) {
    return nullptr;
  }
  if (sites_.size() >= opts_.max_site_models) {
    if (!site_limit_logged_) {
      site_limit_logged_ = true;
      log_.write(LogLevel::Warn,
                 fmt::format("akismet: max_site_models ({}) reached; {} and later new sites get "
                             "no model of their own",
                             opts_.max_site_models, sanitize_line(site, 100)));
    }
    return nullptr;
  }
  return &sites_[site];
}

void CommentModel::train_locked(const CommentRequest& r, bool spam, std::uint64_t seq,
                                const classify::FeatureVector* features, bool fresh) {
  const bool deployment = fresh || seq > trained_seq_;
  SiteModel* site = opts_.site_models ? site_locked(site_name(r.blog), deployment) : nullptr;
  if (site != nullptr && !fresh && seq <= site->seq) {
    site = nullptr;
  }
  if (!deployment && site == nullptr) {
    return;
  }
  const classify::FeatureVector f = features != nullptr ? *features : features_of(r);
  if (deployment) {
    classifier_.train(f, spam);
    ++(spam ? trained_spam_ : trained_ham_);
    // Fresh records may come out of order; a change bumps the number so save() sees it.
    trained_seq_ = fresh ? std::max(trained_seq_, seq) + (seq <= trained_seq_ ? 1 : 0) : seq;
  }
  if (site != nullptr) {
    site->classifier.train(f, spam);
    ++(spam ? site->spam : site->ham);
    site->seq = fresh ? std::max(site->seq, seq) + (seq <= site->seq ? 1 : 0) : seq;
  }
}

}  // namespace gf::akismet
