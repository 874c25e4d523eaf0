#include "app/akismet_service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "app/settings.hpp"
#include "core/akismet/protocol.hpp"
#include "core/akismet/records.hpp"
#include "core/classify/model_io.hpp"
#include "core/common/strings.hpp"
#include "io/store/lmdb_kv.hpp"

namespace gf::app {

namespace ak = gf::akismet;

namespace {

constexpr std::string_view kModelKey = "m:model";
constexpr std::string_view kSiteModelPrefix = "m:s:";  // + site_name(blog)
constexpr char kSep = '\x1f';

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A UUIDv7-shaped id whose text sorts by creation time (the first 48 bits are Unix ms), so
// stored checks are kept in time order and retention trims from the front.
std::string make_guid(std::int64_t ms) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  const std::uint64_t a = rng();
  const std::uint64_t b = rng();
  const auto t = static_cast<std::uint64_t>(ms);
  // "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}" of (t >> 16, t & 0xffff, a's 12 bits, the variant
  // and a's next 14 bits, b's 48 bits), written by hand: it runs on every check.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string g(36, '-');
  const auto put = [&](std::size_t at, std::uint64_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i) {
      g[at + static_cast<std::size_t>(i)] = kHex[v & 15];
      v >>= 4;
    }
  };
  put(0, (t >> 16) & 0xffffffffULL, 8);
  put(9, t & 0xffffULL, 4);
  g[14] = '7';
  put(15, a & 0xfffULL, 3);
  put(19, 0x8000ULL | ((a >> 12) & 0x3fffULL), 4);
  put(24, b & 0xffffffffffffULL, 12);
  return g;
}

std::string guid_floor(std::int64_t ms) {
  const auto t = static_cast<std::uint64_t>(std::max<std::int64_t>(ms, 0));
  return fmt::format("{:08x}-{:04x}", (t >> 16) & 0xffffffffULL, t & 0xffffULL);
}

io::HttpResponse to_http(ak::Reply&& r) {
  io::HttpResponse h;
  h.status = r.status;
  h.content_type = std::move(r.content_type);
  h.headers = std::move(r.headers);
  h.body = std::move(r.body);
  return h;
}

std::string site_name(std::string_view blog) { return sanitize_line(blog, 200); }

// A model snapshot as stored (the deployment's under m:model, a site's under m:s:<site>): the
// last training-log record it includes, its spam and ham counts, the serialised classifier.
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

AkismetConfig akismet_config(const Values& v) {
  AkismetConfig c;
  c.store_path = v.str("akismet.store_path");
  c.map_size = v.size("akismet.map_size");
  c.commit_interval = v.duration("store.commit_interval");
  c.sync = v.boolean("store.sync");
  c.check_retention = v.duration("akismet.check_retention");
  c.max_checks = static_cast<std::size_t>(v.integer("akismet.max_checks"));
  c.usage_limit = static_cast<std::uint64_t>(v.integer("akismet.usage_limit"));
  c.min_training = static_cast<std::size_t>(v.integer("akismet.min_training"));
  c.model_save_interval = v.duration("akismet.model_save_interval");
  c.site_models = v.boolean("akismet.site_models");
  c.max_site_models = static_cast<std::size_t>(v.integer("akismet.max_site_models"));
  // Validated with the config; a Values that skipped validation keeps the default.
  if (auto t = number_setting(v, "akismet.spam_threshold", -kAkismetThresholdRange,
                              kAkismetThresholdRange)) {
    c.decision.threshold = *t;
  }
  c.form.max_bytes = v.size("http.max_body");
  return c;
}

AkismetService::AkismetService(const AkismetConfig& cfg) : cfg_(cfg) {}

Result<std::unique_ptr<AkismetService>> AkismetService::open(const AkismetConfig& cfg) {
  std::unique_ptr<AkismetService> s(new AkismetService(cfg));
  io::KvOptions o;
  o.path = cfg.store_path;
  o.map_size = cfg.map_size;
  o.commit_interval = cfg.commit_interval;
  o.sync = cfg.sync;
  o.writer_thread = cfg.writer_thread;
  auto kv = io::LmdbKv::open(o);
  if (!kv) {
    return tl::unexpected(kv.error());
  }
  s->kv_ = std::move(*kv);
  if (!cfg.writer_thread) {
    return s;  // the CLI: keys and stored checks only, no model
  }
  if (auto ok = s->load_model(); !ok) {
    return tl::unexpected(ok.error());
  }
  {
    const Millis keep = cfg.check_retention;
    auto floor = [keep] { return guid_floor(wall_ms() - keep.count()); };
    if (auto ok = s->kv_->add_retention({"c:", cfg.max_checks, floor}); !ok) {
      return tl::unexpected(ok.error());
    }
    if (auto ok = s->kv_->add_retention({"t:", cfg.max_checks, {}}); !ok) {
      return tl::unexpected(ok.error());
    }
  }
  return s;
}

AkismetService::~AkismetService() {
  if (kv_) {
    if (auto ok = save_model(); !ok) {
      spdlog::error("akismet: cannot save the model: {}", ok.error().message);
    }
    (void)kv_->flush();
  }
}

Result<void> AkismetService::load_model() {
  auto snap = kv_->get(kModelKey);
  if (!snap) {
    return tl::unexpected(snap.error());
  }
  if (*snap) {
    if (auto m = decode_snapshot(**snap); !m) {
      spdlog::warn("akismet: model snapshot unreadable ({}); starting from the training log",
                   m.error().message);
    } else {
      classifier_ = std::move(m->classifier);
      trained_seq_ = m->seq;
      saved_seq_ = m->seq;
      trained_spam_ = m->spam;
      trained_ham_ = m->ham;
    }
  }
  std::uint64_t replay_from = trained_seq_;
  if (cfg_.site_models) {
    if (auto ok = load_site_models(replay_from); !ok) {
      return ok;
    }
  }
  // Replay feedback that arrived after the snapshot (or all of it, to rebuild a site model).
  std::size_t replayed = 0;
  std::uint64_t last = trained_seq_;
  auto ok = kv_->scan("t:", [&](std::string_view key, std::string_view value) {
    const std::uint64_t seq = std::strtoull(std::string(key.substr(2)).c_str(), nullptr, 16);
    last = std::max(last, seq);
    if (seq <= replay_from) {
      return true;
    }
    auto rec = ak::decode_check(value);
    if (!rec) {
      return true;
    }
    ak::Form form;
    form.fields = rec->fields;
    const ak::CommentRequest req = ak::comment_from_form(form);
    replayed += seq > trained_seq_ ? 1 : 0;
    train_locked(req, rec->kind == 's', seq);
    return true;
  });
  if (!ok) {
    return ok;
  }
  next_seq_ = last + 1;
  spdlog::info("akismet: model trained on {} spam and {} ham ({} replayed from the log)",
               trained_spam_, trained_ham_, replayed);
  if (cfg_.site_models) {
    spdlog::info("akismet: {} site models (at most {})", sites_.size(), cfg_.max_site_models);
  }
  return {};
}

Result<void> AkismetService::load_site_models(std::uint64_t& replay_from) {
  std::size_t loaded = 0;
  std::size_t rebuilt = 0;
  std::size_t skipped = 0;
  auto ok = kv_->scan(kSiteModelPrefix, [&](std::string_view key, std::string_view value) {
    const std::string site(key.substr(kSiteModelPrefix.size()));
    if (sites_.size() >= cfg_.max_site_models) {
      ++skipped;
      return true;
    }
    auto snap = decode_snapshot(value);
    SiteModel& m = sites_[site];
    if (!snap) {
      // Start this site empty and retrain it from every training record still kept.
      spdlog::warn("akismet: site model snapshot of {} unreadable ({}); rebuilding it from {}",
                   sanitize_line(site, 100), snap.error().message, "the training log");
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
    spdlog::warn("akismet: {} site model snapshots not loaded: max_site_models is {}", skipped,
                 cfg_.max_site_models);
  }
  spdlog::info("akismet: {} site model snapshots loaded, {} to rebuild", loaded, rebuilt);
  return {};
}

Result<void> AkismetService::save_model() {
  std::string bytes;
  std::uint64_t seq = 0;
  struct SiteSnapshot {
    std::string site;
    std::uint64_t seq;
    std::string bytes;
  };
  std::vector<SiteSnapshot> site_bytes;
  {
    std::shared_lock lock(model_mu_);
    for (const auto& [site, m] : sites_) {
      if (m.seq != m.saved_seq) {
        site_bytes.push_back({site, m.seq, encode_snapshot(m.seq, m.spam, m.ham, m.classifier)});
      }
    }
    if (trained_seq_ == saved_seq_ && site_bytes.empty()) {
      return {};
    }
    seq = trained_seq_;
    bytes = encode_snapshot(trained_seq_, trained_spam_, trained_ham_, classifier_);
  }
  // Sites first: the store commits puts in order, so a deployment snapshot that made it to
  // disk implies the site snapshots taken with it did, and the replay from its sequence
  // number covers every site.
  for (SiteSnapshot& s : site_bytes) {
    if (auto ok = kv_->put(std::string(kSiteModelPrefix) + s.site, std::move(s.bytes)); !ok) {
      return ok;
    }
  }
  if (auto ok = kv_->put(kModelKey, std::move(bytes)); !ok) {
    return ok;
  }
  std::unique_lock lock(model_mu_);
  saved_seq_ = seq;
  for (const SiteSnapshot& s : site_bytes) {
    sites_[s.site].saved_seq = s.seq;
  }
  return {};
}

Result<void> AkismetService::flush() { return kv_->flush(); }

classify::FeatureVector AkismetService::features_of(const ak::CommentRequest& r) const {
  classify::CommentFields f;
  f.content = r.comment_content;
  f.author = r.comment_author;
  f.author_email = r.comment_author_email;
  f.author_url = r.comment_author_url;
  f.context = r.comment_context;
  f.comment_type = r.comment_type;
  return classifier_.features(f);
}

AkismetService::SiteModel* AkismetService::site_locked(const std::string& site, bool create) {
  if (auto it = sites_.find(site); it != sites_.end()) {
    return &it->second;
  }
  if (!create) {
    return nullptr;
  }
  if (sites_.size() >= cfg_.max_site_models) {
    if (!site_limit_logged_) {
      site_limit_logged_ = true;
      spdlog::warn("akismet: max_site_models ({}) reached; {} and later new sites get {}",
                   cfg_.max_site_models, sanitize_line(site, 100), "no model of their own");
    }
    return nullptr;
  }
  return &sites_[site];
}

void AkismetService::train_locked(const ak::CommentRequest& r, bool spam, std::uint64_t seq,
                                  const classify::FeatureVector* features) {
  const bool deployment = seq > trained_seq_;
  SiteModel* site = cfg_.site_models ? site_locked(site_name(r.blog), deployment) : nullptr;
  if (site != nullptr && seq <= site->seq) {
    site = nullptr;
  }
  if (!deployment && site == nullptr) {
    return;
  }
  const classify::FeatureVector f = features != nullptr ? *features : features_of(r);
  if (deployment) {
    classifier_.train(f, spam);
    ++(spam ? trained_spam_ : trained_ham_);
    trained_seq_ = seq;
  }
  if (site != nullptr) {
    site->classifier.train(f, spam);
    ++(spam ? site->spam : site->ham);
    site->seq = seq;
  }
}

std::string AkismetService::key_of(const ak::Form& form, const io::HttpRequest& req) const {
  if (const std::string* k = form.find("api_key"); k != nullptr && !k->empty()) {
    return *k;
  }
  if (const std::string* k = form.find("key"); k != nullptr && !k->empty()) {
    return *k;
  }
  return ak::key_from_host(req.host);
}

std::string AkismetService::key_problem(const std::string& key) {
  if (key.empty() || !ak::well_formed_key(key)) {
    return key_record_problem(key, std::nullopt);
  }
  auto rec = kv_->get("k:" + key);
  if (!rec) {
    ++counters_.store_errors;
    return "Temporary store failure; please retry";
  }
  return key_record_problem(key, *rec);
}

std::string AkismetService::key_record_problem(const std::string& key,
                                               const std::optional<std::string>& rec) {
  if (key.empty()) {
    return "Empty \"api_key\" value";
  }
  if (!ak::well_formed_key(key)) {
    return "Invalid API key: keys are 12 letters or digits";
  }
  if (!rec) {
    return "Invalid API key. Create one with `greyflux keys add --blog URL`";
  }
  auto k = ak::decode_key(*rec);
  if (!k) {
    return "Invalid API key";
  }
  if (k->revoked) {
    return "This API key has been revoked";
  }
  return {};
}

namespace {

ak::Reputation reputation_of(const std::optional<std::string>& stored) {
  if (!stored) {
    return {};
  }
  auto r = ak::decode_reputation(*stored);
  if (!r) {
    return {};
  }
  return ak::Reputation{r->spam, r->ham};
}

}  // namespace

void AkismetService::add_reputation(const std::string& store_key, bool spam, std::int64_t now_s) {
  auto ok = kv_->update(store_key, [&](std::optional<std::string_view> cur) {
    ak::ReputationRecord r;
    if (cur) {
      if (auto d = ak::decode_reputation(*cur)) {
        r = *d;
      }
    }
    ++(spam ? r.spam : r.ham);
    r.last_s = now_s;
    return ak::encode_reputation(r);
  });
  if (!ok) {
    ++counters_.store_errors;
  }
}

namespace {

// The usage record of a key, month and site (site_name() of the blog).
std::string usage_key(const std::string& key, std::string_view site, std::int64_t now_s) {
  std::string k = "u:";
  k += key;
  k += kSep;
  k += ak::month_of(now_s);
  k += kSep;
  k += site;
  return k;
}

// what: 0 check ham, 1 check spam, 2 submit-spam, 3 submit-ham
std::string bump_usage(std::optional<std::string_view> cur, int what) {
  ak::SiteUsage u;
  if (cur) {
    if (auto d = ak::decode_usage(*cur)) {
      u = *d;
    }
  }
  ++u.api_calls;
  switch (what) {
    case 0:
      ++u.ham;
      break;
    case 1:
      ++u.spam;
      break;
    case 2:
      ++u.missed_spam;
      break;
    default:
      ++u.false_positives;
      break;
  }
  return ak::encode_usage(u);
}

}  // namespace

void AkismetService::count_usage(const std::string& key, const std::string& blog,
                                 std::int64_t now_s, int what) {
  auto ok =
      kv_->update(usage_key(key, site_name(blog), now_s),
                  [what](std::optional<std::string_view> cur) { return bump_usage(cur, what); });
  if (!ok) {
    ++counters_.store_errors;
  }
}

io::HttpResponse AkismetService::handle(const io::HttpRequest& req, std::int64_t now_s) {
  const ak::Endpoint ep = ak::endpoint_of(req.path);
  if (ep == ak::Endpoint::Unknown) {
    return to_http(ak::reply_http_error(404, "Not Found"));
  }
  const bool get_ok = ep == ak::Endpoint::KeySites || ep == ak::Endpoint::UsageLimit;
  if (req.method != "POST" && !(get_ok && req.method == "GET")) {
    auto r = ak::reply_http_error(405, "Method Not Allowed");
    r.headers.emplace_back("Allow", get_ok ? "GET, POST" : "POST");
    return to_http(std::move(r));
  }
  std::string joined;  // body and query together, only when there is a query
  if (!req.query.empty()) {
    joined = req.body.empty() ? req.query : req.body + "&" + req.query;
  }
  const std::string_view text = req.query.empty() ? std::string_view(req.body) : joined;
  auto form = ak::decode_form(text, cfg_.form);
  if (form && form->repaired && ak::is_latin1_charset(form->get("blog_charset"))) {
    form = ak::decode_form(text, cfg_.form, true);
  }
  if (!form) {
    ++counters_.invalid;
    return to_http(ak::reply_invalid("Could not decode the form body: " + form.error().message));
  }
  switch (ep) {
    case ak::Endpoint::VerifyKey:
      return verify(*form, req);
    case ak::Endpoint::CommentCheck:
      return check(std::move(*form), req, now_s);
    case ak::Endpoint::SubmitSpam:
      return submit(*form, req, true, now_s);
    case ak::Endpoint::SubmitHam:
      return submit(*form, req, false, now_s);
    case ak::Endpoint::KeySites:
      return key_sites(*form, req, now_s);
    case ak::Endpoint::UsageLimit:
      return usage_limit(*form, req, now_s);
    case ak::Endpoint::Unknown:
      break;
  }
  return to_http(ak::reply_http_error(404, "Not Found"));
}

io::HttpResponse AkismetService::verify(const ak::Form& form, const io::HttpRequest& req) {
  const std::string key = key_of(form, req);
  if (const std::string why = key_problem(key); !why.empty()) {
    ++counters_.invalid;
    return to_http(ak::reply_invalid(why));
  }
  if (form.get("blog").empty()) {
    ++counters_.invalid;
    return to_http(ak::reply_invalid("Empty \"blog\" value"));
  }
  return to_http(ak::reply_valid());
}

io::HttpResponse AkismetService::check(ak::Form&& form, const io::HttpRequest& req,
                                       std::int64_t now_s) {
  const std::string key = key_of(form, req);
  if (key.empty() || !ak::well_formed_key(key)) {
    ++counters_.invalid;
    return to_http(ak::reply_invalid(key_record_problem(key, std::nullopt)));
  }
  const ak::CommentRequest r = ak::comment_from_form(form);
  const ak::Analysis a = ak::analyze(r);
  // One read of everything stored that this check needs: the key, then the reputation of the
  // IP, the e-mail, the author URL and link hosts (at most five), and the exact text.
  std::vector<std::string> reads;
  reads.reserve(9);
  reads.push_back("k:" + key);
  reads.push_back("r:i:" + r.user_ip);
  reads.push_back(a.email.empty() ? std::string() : "r:e:" + a.email);
  if (!a.author_url_host.empty()) {
    reads.push_back("r:u:" + a.author_url_host);
  }
  for (std::size_t i = 0; i < a.link_hosts.size() && reads.size() < 8; ++i) {
    reads.push_back("r:u:" + a.link_hosts[i]);
  }
  const std::size_t text_at = reads.size();
  if (a.text_hash != 0) {
    reads.push_back(fmt::format("r:t:{:016x}", a.text_hash));
  }
  auto stored = kv_->get_many(reads);
  if (!stored) {
    ++counters_.store_errors;
    ++counters_.invalid;
    return to_http(ak::reply_invalid("Temporary store failure; please retry"));
  }
  if (const std::string why = key_record_problem(key, (*stored)[0]); !why.empty()) {
    ++counters_.invalid;
    return to_http(ak::reply_invalid(why));
  }
  if (auto missing = ak::missing_required(ak::Endpoint::CommentCheck, r)) {
    ++counters_.invalid;
    return to_http(ak::reply_missing_field(*missing));
  }
  const std::string site = site_name(r.blog);
  ak::Signals s;
  s.now_s = now_s;
  s.ip = reputation_of((*stored)[1]);
  s.email = reputation_of((*stored)[2]);
  for (std::size_t i = 3; i < text_at; ++i) {
    const ak::Reputation rep = reputation_of((*stored)[i]);
    if (rep.spam > s.url.spam || (s.url.spam == 0 && rep.ham > s.url.ham)) {
      s.url = rep;
    }
  }
  if (flux_lookup_) {
    if (const auto index = flux_lookup_(); index) {
      const auto flagged = [&](const std::string& h) {
        if (index->match_host(h) &&
            std::find(s.fast_flux_domains.begin(), s.fast_flux_domains.end(), h) ==
                s.fast_flux_domains.end()) {
          s.fast_flux_domains.push_back(h);
        }
      };
      if (!a.author_url_host.empty()) {
        flagged(a.author_url_host);
      }
      for (const std::string& h : a.link_hosts) {
        flagged(h);
      }
    }
  }
  if (a.text_hash != 0) {
    s.text = reputation_of((*stored)[text_at]);
    const std::uint64_t blog_hash = classify::hash_feature(site);
    std::lock_guard lock(flood_mu_);
    s.text_sites = r.is_test || !r.recheck_reason.empty()
                       ? flood_.count(a.text_hash, blog_hash, now_s)
                       : flood_.observe(a.text_hash, blog_hash, now_s);
  }
  {
    bool ready = false;
    {
      std::shared_lock lock(model_mu_);
      ready = trained_spam_ >= cfg_.min_training && trained_ham_ >= cfg_.min_training;
    }
    // Tokenising needs only the (fixed) tokenizer settings: done outside the lock, so that
    // feedback, which takes the lock alone, waits only for the scoring.
    const classify::FeatureVector f = ready ? features_of(r) : classify::FeatureVector();
    std::shared_lock lock(model_mu_);
    if (ready) {
      s.text_probability = classifier_.score(f);
      if (cfg_.site_models) {
        const auto it = sites_.find(site);
        if (it != sites_.end() && it->second.spam >= cfg_.min_training &&
            it->second.ham >= cfg_.min_training) {
          s.site_probability = it->second.classifier.score(f);
        }
      }
    }
  }
  const ak::Decision d = ak::decide(r, a, s, cfg_.decision);
  const std::string guid = make_guid(wall_ms());

  ak::CheckRecord rec;
  rec.kind = 'c';
  rec.time_s = now_s;
  rec.spam = d.spam;
  rec.discard = d.discard;
  rec.is_test = r.is_test;
  rec.score = d.score;
  rec.key = key;
  rec.reasons = ak::format_symbols(d.symbols, 32);
  rec.fields = std::move(form.fields);
  const int what = d.spam ? 1 : 0;
  if (auto ok = kv_->put_and_update(
          "c:" + guid, ak::encode_check(rec), usage_key(key, site, now_s),
          [what](std::optional<std::string_view> cur) { return bump_usage(cur, what); });
      !ok) {
    ++counters_.store_errors;
  }
  ++counters_.checks;
  ++(d.spam ? counters_.spam : counters_.ham);
  if (spdlog::should_log(spdlog::level::debug)) {  // the arguments cost two copies per check
    spdlog::debug("comment-check guid={} verdict={} score={:.2f} blog={} ip={} reasons={}", guid,
                  d.spam ? "spam" : "ham", d.score, sanitize_line(r.blog, 100),
                  sanitize_line(r.user_ip, 64), rec.reasons);
  }
  return to_http(ak::reply_check(d, guid, rec.reasons));
}

io::HttpResponse AkismetService::submit(const ak::Form& form, const io::HttpRequest& req, bool spam,
                                        std::int64_t now_s) {
  const std::string key = key_of(form, req);
  if (const std::string why = key_problem(key); !why.empty()) {
    ++counters_.invalid;
    return to_http(ak::reply_invalid(why));
  }
  const ak::CommentRequest r = ak::comment_from_form(form);
  if (auto missing =
          ak::missing_required(spam ? ak::Endpoint::SubmitSpam : ak::Endpoint::SubmitHam, r)) {
    ++counters_.invalid;
    return to_http(ak::reply_missing_field(*missing));
  }
  ++counters_.submits;
  count_usage(key, r.blog, now_s, spam ? 2 : 3);
  if (r.is_test) {
    return to_http(ak::reply_thanks());  // Akismet: is_test never trains
  }
  ak::CheckRecord rec;
  rec.kind = spam ? 's' : 'h';
  rec.time_s = now_s;
  rec.spam = spam;
  rec.key = key;
  rec.fields = form.fields;
  const classify::FeatureVector features = features_of(r);  // outside the lock: checks go on
  {
    std::unique_lock lock(model_mu_);
    const std::uint64_t seq = next_seq_++;
    if (auto ok = kv_->put("t:" + ak::seq_key(seq), ak::encode_check(rec)); !ok) {
      ++counters_.store_errors;
      spdlog::warn("akismet: cannot log feedback: {}", ok.error().message);
    }
    train_locked(r, spam, seq, &features);
  }
  ++counters_.trained;
  const ak::Analysis a = ak::analyze(r);
  add_reputation("r:i:" + r.user_ip, spam, now_s);
  if (!a.email.empty()) {
    add_reputation("r:e:" + a.email, spam, now_s);
  }
  if (!a.author_url_host.empty()) {
    add_reputation("r:u:" + a.author_url_host, spam, now_s);
  }
  if (a.link_hosts.size() <= 3) {
    for (const std::string& h : a.link_hosts) {
      add_reputation("r:u:" + h, spam, now_s);
    }
  }
  if (a.text_hash != 0) {
    add_reputation(fmt::format("r:t:{:016x}", a.text_hash), spam, now_s);
  }
  spdlog::info("{} blog={} ip={} author={}", spam ? "submit-spam" : "submit-ham",
               sanitize_line(r.blog, 100), sanitize_line(r.user_ip, 64),
               sanitize_line(r.comment_author, 64));
  return to_http(ak::reply_thanks());
}

io::HttpResponse AkismetService::key_sites(const ak::Form& form, const io::HttpRequest& req,
                                           std::int64_t now_s) {
  const std::string key = key_of(form, req);
  if (const std::string why = key_problem(key); !why.empty()) {
    ++counters_.invalid;
    return to_http(ak::reply_invalid(why));
  }
  const ak::KeySitesQuery q = ak::key_sites_query(form, ak::month_of(now_s));
  std::vector<ak::SiteUsage> sites;
  const std::string prefix = fmt::format("u:{}{}{}{}", key, kSep, q.month, kSep);
  auto ok = kv_->scan(prefix, [&](std::string_view k, std::string_view v) {
    if (auto u = ak::decode_usage(v)) {
      u->site = std::string(k.substr(prefix.size()));
      sites.push_back(std::move(*u));
    }
    return sites.size() < 100000;
  });
  if (!ok) {
    return to_http(ak::reply_http_error(503, "Service Unavailable"));
  }
  return to_http(ak::reply_key_sites(q, key, std::move(sites)));
}

io::HttpResponse AkismetService::usage_limit(const ak::Form& form, const io::HttpRequest& req,
                                             std::int64_t now_s) {
  const std::string key = key_of(form, req);
  if (const std::string why = key_problem(key); !why.empty()) {
    ++counters_.invalid;
    return to_http(ak::reply_invalid(why));
  }
  std::uint64_t usage = 0;
  const std::string prefix = fmt::format("u:{}{}{}{}", key, kSep, ak::month_of(now_s), kSep);
  auto ok = kv_->scan(prefix, [&](std::string_view, std::string_view v) {
    if (auto u = ak::decode_usage(v)) {
      usage += u->api_calls;
    }
    return true;
  });
  if (!ok) {
    return to_http(ak::reply_http_error(503, "Service Unavailable"));
  }
  return to_http(ak::reply_usage_limit(cfg_.usage_limit, usage));
}

Result<std::string> AkismetService::add_key(std::string_view blog, std::int64_t now_s) {
  if (trim_ws(blog).empty()) {
    return fail(Errc::InvalidInput, "keys add needs --blog URL");
  }
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::string key;
    for (std::size_t i = 0; i < ak::kKeyLength; ++i) {
      key.push_back(kAlphabet[rd() % 36]);
    }
    auto existing = kv_->get("k:" + key);
    if (!existing) {
      return tl::unexpected(existing.error());
    }
    if (*existing) {
      continue;
    }
    ak::KeyRecord rec{std::string(trim_ws(blog)), now_s, false};
    if (auto ok = kv_->put("k:" + key, ak::encode_key(rec)); !ok) {
      return tl::unexpected(ok.error());
    }
    if (auto ok = kv_->flush(); !ok) {
      return tl::unexpected(ok.error());
    }
    return key;
  }
  return fail(Errc::StoreFailure, "could not find an unused key");
}

Result<std::string> AkismetService::list_keys() {
  std::string out = "key\tblog\tcreated\tstate\n";
  auto ok = kv_->scan("k:", [&](std::string_view k, std::string_view v) {
    if (auto rec = ak::decode_key(v)) {
      out += fmt::format("{}\t{}\t{}\t{}\n", k.substr(2), sanitize_line(rec->blog, 200),
                         rec->created_s, rec->revoked ? "revoked" : "active");
    }
    return true;
  });
  if (!ok) {
    return tl::unexpected(ok.error());
  }
  return out;
}

Result<std::string> AkismetService::get_existing(const std::string& key, std::string missing) {
  auto v = kv_->get(key);
  if (!v) {
    return tl::unexpected(v.error());
  }
  if (!*v) {
    return fail(Errc::NotFound, std::move(missing));
  }
  return std::move(**v);
}

Result<void> AkismetService::revoke_key(std::string_view key) {
  auto v = get_existing("k:" + std::string(key), fmt::format("no key {}", key));
  if (!v) {
    return tl::unexpected(v.error());
  }
  auto rec = ak::decode_key(*v);
  if (!rec) {
    return tl::unexpected(rec.error());
  }
  rec->revoked = true;
  if (auto ok = kv_->put("k:" + std::string(key), ak::encode_key(*rec)); !ok) {
    return ok;
  }
  return kv_->flush();
}

Result<std::string> AkismetService::show_check(std::string_view guid) {
  auto v = get_existing("c:" + std::string(guid), fmt::format("no stored check {}", guid));
  if (!v) {
    return tl::unexpected(v.error());
  }
  auto rec = ak::decode_check(*v);
  if (!rec) {
    return tl::unexpected(rec.error());
  }
  return ak::check_to_json(guid, *rec) + "\n";
}

std::string AkismetService::stats_text() {
  std::string out;
  out += fmt::format("akismet.checks\t{}\n", counters_.checks.load());
  out += fmt::format("akismet.spam\t{}\n", counters_.spam.load());
  out += fmt::format("akismet.ham\t{}\n", counters_.ham.load());
  out += fmt::format("akismet.submits\t{}\n", counters_.submits.load());
  out += fmt::format("akismet.trained\t{}\n", counters_.trained.load());
  out += fmt::format("akismet.invalid\t{}\n", counters_.invalid.load());
  out += fmt::format("akismet.store_errors\t{}\n", counters_.store_errors.load());
  if (cfg_.site_models) {
    std::shared_lock lock(model_mu_);
    out += fmt::format("akismet.site_models\t{}\n", sites_.size());
  }
  out += fmt::format("akismet.checks_stored\t{}\n", kv_->retained_count("c:"));
  out += fmt::format("akismet.store_writer_promotions\t{}\n", kv_->stats().writer_promotions);
  return out;
}

}  // namespace gf::app
