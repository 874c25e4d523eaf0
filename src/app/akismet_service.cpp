#include "app/akismet_service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/akismet_settings.hpp"
#include "app/redis_wiring.hpp"
#include "app/settings.hpp"
#include "core/akismet/ids.hpp"
#include "core/akismet/keys.hpp"
#include "core/common/check.hpp"
#include "core/common/log_sink.hpp"
#include "io/store/lmdb_kv.hpp"
#include "io/store/redis_kv.hpp"
#include "io/sys/random.hpp"

namespace gf::app {

namespace ak = gf::akismet;

namespace {

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

io::HttpResponse to_http(ak::Reply&& r) {
  io::HttpResponse h;
  h.status = r.status;
  h.content_type = std::move(r.content_type);
  h.headers = std::move(r.headers);
  h.body = std::move(r.body);
  return h;
}

spdlog::level::level_enum spd_level(LogLevel l) {
  switch (l) {
    case LogLevel::Debug:
      return spdlog::level::debug;
    case LogLevel::Info:
      return spdlog::level::info;
    case LogLevel::Warn:
      return spdlog::level::warn;
    case LogLevel::Error:
      break;
  }
  return spdlog::level::err;
}

}  // namespace

class AkismetService::SpdLog final : public LogSink {
 public:
  bool enabled(LogLevel l) const override { return spdlog::should_log(spd_level(l)); }
  void write(LogLevel l, std::string_view line) override { spdlog::log(spd_level(l), "{}", line); }
};

AkismetConfig akismet_config(const Values& v) {
  AkismetConfig c;
  c.store_path = v.str("akismet.store_path");
  c.map_size = v.size("akismet.map_size");
  c.commit_interval = v.duration("store.commit_interval");
  c.sync = v.boolean("store.sync");
  c.journal = v.boolean("store.journal");
  c.check_retention = v.duration("akismet.check_retention");
  c.max_checks = static_cast<std::size_t>(v.integer("akismet.max_checks"));
  c.model_save_interval = v.duration("akismet.model_save_interval");
  GF_CHECK_OK(apply_bindings(akismet_bindings(), v, c.service),
              "the comment API settings were validated");
  c.service.form.max_bytes = v.size("http.max_body");
  if (v.str("store.backend") == "redis") {
    if (auto o = redis_options(v)) {  // validated with the config
      c.redis = true;
      c.redis_options = *o;
      c.redis_prefix = redis_comment_prefix(v);
      // Every node trains on every node's feedback (the training log is shared, in a ring of
      // max_checks records, as LMDB keeps the newest max_checks).
      c.service.model.shared = true;
      c.service.model.shared_max_records = c.max_checks;
      c.model_sync_interval = v.duration("store.model_sync_interval");
    }
  }
  return c;
}

AkismetService::AkismetService()
    : ids_(std::make_unique<io::SystemRandom>()),
      secrets_(std::make_unique<io::SecureRandom>()),
      log_(std::make_unique<SpdLog>()) {}

Result<std::unique_ptr<AkismetService>> AkismetService::open(const AkismetConfig& cfg) {
  std::unique_ptr<AkismetService> s(new AkismetService());
  if (cfg.redis) {
    auto client = shared_redis_client(cfg.redis_options);
    if (!client) {
      return tl::unexpected(client.error());
    }
    auto kv = std::make_unique<io::RedisKv>(*client, cfg.redis_prefix);
    // Stored checks expire in Redis after check_retention, and the newest akismet.max_checks
    // are kept (in 16 hash-tagged buckets, each trimmed by the check's own write), as on LMDB.
    // The training log is a ring of max_checks records (shared_max_records above).
    kv->set_capped(std::string(ak::key::kCheckPrefix), cfg.max_checks,
                   std::chrono::duration_cast<Seconds>(cfg.check_retention));
    s->redis_ = client->get();
    s->kv_ = std::move(kv);
    if (auto ok = s->start_core(cfg); !ok) {
      return tl::unexpected(ok.error());
    }
    return s;
  }
  io::KvOptions o;
  o.path = cfg.store_path;
  o.map_size = cfg.map_size;
  o.commit_interval = cfg.commit_interval;
  o.sync = cfg.sync;
  o.writer_thread = cfg.writer_thread;
  o.journal = cfg.journal;
  auto kv = io::LmdbKv::open(o);
  if (!kv) {
    return tl::unexpected(kv.error());
  }
  s->lmdb_ = kv->get();
  s->kv_ = std::move(*kv);
  if (auto ok = s->start_core(cfg); !ok) {
    return tl::unexpected(ok.error());
  }
  if (!cfg.writer_thread) {
    return s;  // the CLI: keys and stored checks only, no model
  }
  // Stored checks go after check_retention (their GUIDs sort by time) or beyond max_checks;
  // the training log keeps the newest max_checks records.
  const Millis keep = cfg.check_retention;
  auto floor = [keep] { return ak::guid_floor(wall_ms() - keep.count()); };
  if (auto ok =
          s->lmdb_->add_retention({std::string(ak::key::kCheckPrefix), cfg.max_checks, floor});
      !ok) {
    return tl::unexpected(ok.error());
  }
  if (auto ok =
          s->lmdb_->add_retention({std::string(ak::key::kTrainingPrefix), cfg.max_checks, {}});
      !ok) {
    return tl::unexpected(ok.error());
  }
  return s;
}

// The core service on kv_; with the writer (the daemon), the model is loaded too.
Result<void> AkismetService::start_core(const AkismetConfig& cfg) {
  core_ = std::make_unique<ak::CommentService>(cfg.service, *kv_, *ids_, *secrets_, *log_);
  if (!cfg.writer_thread) {
    return {};
  }
  if (auto ok = core_->load(); !ok) {
    return ok;
  }
  // Snapshot what the start replayed, so that a crash loop does not replay a growing log; and
  // commit it before serving, so that this large write is not in the first commits under load
  // (a long commit widens what a kill -9 then loses).
  if (const std::uint64_t n = core_->model_unsaved(); n > 0) {
    if (auto ok = core_->save_model(); !ok) {
      return ok;
    }
    if (auto ok = kv_->flush(); !ok) {
      return ok;
    }
    spdlog::info("akismet: model snapshot written after replaying {} reports", n);
  }
  return {};
}

AkismetService::~AkismetService() {
  if (kv_ && core_) {
    if (auto ok = core_->save_model(); !ok) {
      spdlog::error("akismet: cannot save the model: {}", ok.error().message);
    }
    if (auto ok = kv_->flush(); !ok) {
      spdlog::error("akismet: cannot commit the store: {}", ok.error().message);
    }
  }
}

io::HttpResponse AkismetService::handle(const io::HttpRequest& req, std::int64_t now_s) {
  const std::int64_t ms = wall_ms();
  const std::int64_t now_ms = ms / 1000 == now_s ? ms : now_s * 1000;
  const ak::ApiRequest r{req.method, req.path, req.query, req.host, req.body};
  return to_http(core_->handle(r, ak::WallTime(Millis(now_ms))));
}

std::variant<io::HttpResponse, AkismetService::Pending> AkismetService::begin(
    const io::HttpRequest& req, std::int64_t now_s) {
  const std::int64_t ms = wall_ms();
  const std::int64_t now_ms = ms / 1000 == now_s ? ms : now_s * 1000;
  const ak::ApiRequest r{req.method, req.path, req.query, req.host, req.body};
  ak::CommentService::Begun begun = core_->begin(r, ak::WallTime(Millis(now_ms)));
  if (auto* reply = std::get_if<ak::Reply>(&begun)) {
    return to_http(std::move(*reply));
  }
  return std::move(std::get<Pending>(begun));
}

io::HttpResponse AkismetService::finish(
    ak::CommentService::PendingCheck& p,
    const Result<std::vector<std::optional<std::string>>>& stored) {
  return to_http(core_->finish(p, stored));
}

Result<std::string> AkismetService::add_key(std::string_view blog, std::int64_t now_s) {
  return core_->add_key(blog, now_s);
}
Result<std::string> AkismetService::list_keys() { return core_->list_keys(); }
Result<void> AkismetService::revoke_key(std::string_view key) { return core_->revoke_key(key); }
Result<std::string> AkismetService::show_check(std::string_view guid) {
  return core_->show_check(guid);
}
bool AkismetService::finish_scans_usage() const { return core_->finish_scans_usage(); }
Result<void> AkismetService::save_model() { return core_->save_model(); }
Result<std::size_t> AkismetService::sync_model() { return core_->sync_model(); }
std::uint64_t AkismetService::model_unsaved() const { return core_->model_unsaved(); }
Result<void> AkismetService::flush() { return kv_->flush(); }
AkismetCounters& AkismetService::counters() { return core_->counters(); }
akismet::CommentModel::Size AkismetService::model_size() const { return core_->model_size(); }
void AkismetService::set_history(akismet::CommentService::HistorySink sink) {
  core_->set_history(std::move(sink));
}
Result<void> AkismetService::relearn(std::string_view payload, bool spam, std::int64_t now_s) {
  return core_->relearn(payload, spam, now_s);
}
void AkismetService::set_flux_lookup(FluxLookup lookup) {
  core_->set_flux_lookup(std::move(lookup));
}

std::string AkismetService::stats_text() {
  std::string out = core_->stats_text();
  if (lmdb_ != nullptr) {
    out += fmt::format("akismet.checks_stored\t{}\n", lmdb_->retained_count(ak::key::kCheckPrefix));
    out += fmt::format("akismet.store_writer_promotions\t{}\n", lmdb_->stats().writer_promotions);
  }
  // redis.* lines: the greylist engine prints them (one client for both stores).
  return out;
}

}  // namespace gf::app
