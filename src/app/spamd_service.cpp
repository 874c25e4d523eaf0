#include "app/spamd_service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <mutex>

#include "app/history_service.hpp"
#include "app/redis_wiring.hpp"
#include "core/common/strings.hpp"
#include "core/history/rows.hpp"
#include "core/spamd/learn_record.hpp"
#include "gf_version.hpp"
#include "io/flux/rpz_file.hpp"
#include "io/mail/model_file.hpp"
#include "io/net/blocking_pool.hpp"
#include "io/net/periodic_timer.hpp"
#include "io/store/lmdb_kv.hpp"
#include "io/store/redis_kv.hpp"

namespace gf::app {

namespace {

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) {
    return "localhost";
  }
  return buf;
}

// Rspamd's /checkv2 reply for one evaluation.
std::string checkv2_json(const spamd::Evaluation& e, const std::string& message_id, double secs) {
  const spamd::Analysis& a = e.analysis;
  boost::json::object symbols;
  for (const auto& sym : a.symbols) {
    symbols[sym.name] = boost::json::object{{"name", sym.name},
                                            {"score", sym.score},
                                            {"metric_score", sym.score},
                                            {"description", sym.description}};
  }
  boost::json::object out{
      {"is_skipped", false},
      {"score", std::round(a.score * 100.0) / 100.0},
      {"required_score", a.required},
      {"action", a.action},
      {"thresholds", boost::json::object{{"reject", e.reject_score}, {"add header", a.required}}},
      {"symbols", std::move(symbols)},
      {"messages", boost::json::object{}},
      {"message-id", message_id},
      {"time_real", secs},
  };
  return boost::json::serialize(out);
}

}  // namespace

SpamdService::SpamdService(spamd::Scanner scanner, std::string model_path, std::string host)
    : scanner_(std::move(scanner)),
      model_path_(std::move(model_path)),
      checker_(fmt::format("greyflux {} on {}", kVersion, host)) {}

Result<std::unique_ptr<SpamdService>> SpamdService::open(const Values& v) {
  if (auto ok = validate_spamd(v); !ok) {
    return tl::unexpected(ok.error());
  }
  const std::string path = v.str("spamd.model");
  std::uint64_t file_hash = 0;
  auto scanner = io::load_mail_model(path, spamd_scanner_options(v), &file_hash);
  if (!scanner) {
    return tl::unexpected(scanner.error());
  }
  // A zone that cannot be read is a start-up error here; on reload it keeps the old names.
  if (auto flux_names = io::load_flux_rpz(v.str("spamd.flux_rpz")); !flux_names) {
    return tl::unexpected(flux_names.error());
  }
  std::unique_ptr<SpamdService> svc(new SpamdService(std::move(*scanner), path, host_name()));
  svc->reload(v);
  if (auto ok = svc->open_journal(v, file_hash); !ok) {
    return tl::unexpected(ok.error());
  }
  if (v.str("store.backend") == "redis") {
    if (auto ok = svc->open_shared(v); !ok) {
      return tl::unexpected(ok.error());
    }
  }
  return svc;
}

Result<void> SpamdService::open_shared(const Values& v) {
  auto opts = redis_options(v);
  if (!opts) {
    return tl::unexpected(opts.error());
  }
  auto client = shared_redis_client(*opts);
  if (!client) {
    return tl::unexpected(client.error());
  }
  shared_kv_ = std::make_unique<io::RedisKv>(*client, redis_comment_prefix(v));
  SharedLogOptions o;
  o.counter_key = std::string(spamd::kSharedLearnCounter);
  o.key_of = [](std::uint64_t seq) { return spamd::shared_learn_key(seq); };
  o.max_records = static_cast<std::uint64_t>(v.integer("spamd.shared_log_records"));
  o.max_poll = 100;  // a mail's record is ~5 KB: 100 of them are one ~0.5 MB read
  shared_log_ = std::make_unique<SharedLog>(*shared_kv_, std::move(o));
  auto head = shared_log_->head();
  if (!head) {
    return fail(Errc::StoreFailure, fmt::format("spamd: cannot read the shared training log: {}",
                                                head.error().message));
  }
  // Replay what the ring still holds (learning is idempotent per message fingerprint).
  const std::uint64_t max = static_cast<std::uint64_t>(v.integer("spamd.shared_log_records"));
  shared_log_->start(*head > max ? *head - max : 0);
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t read = 0;
  const std::uint64_t before = shared_learned_.load();
  for (;;) {
    auto n = sync();
    if (!n) {
      // Not fatal: the sync timer goes on from where this stopped.
      spdlog::warn("spamd: shared training log replay stopped ({}); the sync goes on",
                   n.error().message);
      break;
    }
    read += *n;
    if (*n == 0) {
      break;
    }
  }
  spdlog::info(
      "spamd: shared training log: {} records read, {} learned, position {} ({:.0f} ms)", read,
      shared_learned_.load() - before, shared_log_->stats().position,
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  return {};
}

void SpamdService::share(const spamd::Scanner::Prepared& p, bool spam) {
  if (!shared_log_) {
    return;
  }
  {
    std::lock_guard lock(outbox_mu_);
    if (outbox_.size() >= kMaxOutbox) {
      outbox_.pop_front();
      ++outbox_dropped_;
    }
    outbox_.push_back(spamd::encode_shared_learn(p, spam));
  }
  if (shared_wake_) {
    shared_wake_();
  }
}

Result<void> SpamdService::push_shared() {
  if (!shared_log_) {
    return {};
  }
  std::deque<std::string> batch;
  {
    std::lock_guard lock(outbox_mu_);
    batch.swap(outbox_);
  }
  while (!batch.empty()) {
    auto seq = shared_log_->append(batch.front());
    if (!seq) {
      // Kept for the next try, ahead of what was queued meanwhile, within the bound.
      std::lock_guard lock(outbox_mu_);
      while (!outbox_.empty()) {
        batch.push_back(std::move(outbox_.front()));
        outbox_.pop_front();
      }
      while (batch.size() > kMaxOutbox) {
        batch.pop_front();
        ++outbox_dropped_;
      }
      outbox_.swap(batch);
      return tl::unexpected(seq.error());
    }
    batch.pop_front();
  }
  return {};
}

SpamdService::~SpamdService() {
  journal_.reset();
  journal_kv_.reset();  // commits what is pending
}

Result<void> SpamdService::open_journal(const Values& v, std::uint64_t file_hash) {
  const std::string path = v.str("spamd.journal");
  if (path.empty() || model_path_.empty()) {
    return {};
  }
  io::KvOptions o;
  o.path = path;
  o.map_size = 1ULL << 30;
  o.commit_interval = v.duration("store.commit_interval");
  o.sync = v.boolean("store.sync");
  o.journal = v.boolean("store.journal");
  auto kv = io::LmdbKv::open(o);
  if (!kv) {
    return fail(Errc::Config, fmt::format("spamd.journal {}: {}", path, kv.error().message));
  }
  journal_kv_ = std::move(*kv);
  journal_ = std::make_unique<spamd::TellJournal>(*journal_kv_);
  const auto start = std::chrono::steady_clock::now();
  auto r = journal_->replay(scanner_, file_hash);
  if (!r) {
    return fail(Errc::Config, fmt::format("spamd.journal {}: {}", path, r.error().message));
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  spdlog::info(
      "spamd: TELL journal {}: replayed {} TELLs after #{} ({} changed the model, {} unreadable) "
      "in {} ms",
      path, r->entries, r->from, r->changed, r->bad, ms);
  if (r->entries > 0) {
    dirty_ = true;  // SpamdRuntime saves it at the first tick, off the start
  }
  return {};
}

Result<std::size_t> SpamdService::sync() {
  if (!shared_log_) {
    return 0;
  }
  if (auto ok = push_shared(); !ok) {
    return tl::unexpected(ok.error());
  }
  auto entries = shared_log_->poll();
  if (!entries) {
    return tl::unexpected(entries.error());
  }
  std::size_t changed = 0;
  constexpr std::size_t kChunk = 64;  // scans wait for at most this many learns at a time
  for (std::size_t i = 0; i < entries->size(); i += kChunk) {
    std::unique_lock lock(mu_);
    for (std::size_t j = i; j < std::min(i + kChunk, entries->size()); ++j) {
      auto rec = spamd::decode_shared_learn((*entries)[j].record);
      if (!rec) {
        spdlog::warn("spamd: shared training log record {} skipped: {}", (*entries)[j].seq,
                     rec.error().message);
        continue;
      }
      changed += scanner_.learn(rec->prepared, rec->spam) ? 1 : 0;
    }
  }
  if (changed != 0) {
    dirty_ = true;
    shared_learned_ += changed;
  }
  return entries->size();
}

std::string SpamdService::shared_stats_text() const {
  if (!shared_log_) {
    return {};
  }
  const SharedLog::Stats st = shared_log_->stats();
  std::size_t queued = 0;
  {
    std::lock_guard lock(outbox_mu_);
    queued = outbox_.size();
  }
  return fmt::format(
      "spamd.shared_log.position\t{}\nspamd.shared_log.appended\t{}\n"
      "spamd.shared_log.applied\t{}\nspamd.shared_log.learned\t{}\n"
      "spamd.shared_log.holes\t{}\nspamd.shared_log.lost\t{}\n"
      "spamd.shared_log.queued\t{}\nspamd.shared_log.dropped\t{}\n",
      st.position, st.appended, st.applied, shared_learned_.load(), st.holes, st.lost, queued,
      outbox_dropped_.load());
}

bool SpamdService::apply_and_journal(const spamd::TellEntry& e) {
  std::unique_lock lock(mu_);
  if (!spamd::apply_tell(scanner_, e)) {
    return false;
  }
  if (journal_) {
    // In apply order, under the lock; durable at the journal's next group commit.
    if (auto ok = journal_->append(e); !ok) {
      ++counters_.journal_errors;
      spdlog::error("spamd: TELL journal: {} (this TELL waits for the next model save)",
                    ok.error().message);
    }
  }
  dirty_ = true;
  return true;
}

std::shared_ptr<const flux::FluxIndex> SpamdService::flux() const {
  if (flux_lookup_) {
    if (auto live = flux_lookup_(); live) {
      return live;
    }
  }
  std::lock_guard lock(flux_mu_);
  return flux_;
}

void SpamdService::reload(const Values& v) {
  if (auto f = io::load_flux_rpz(v.str("spamd.flux_rpz")); f) {
    std::lock_guard lock(flux_mu_);
    flux_ = *f;
  } else {
    spdlog::error("spamd: {} (keeping the previous flux names)", f.error().message);
  }
  allow_tell_ = v.boolean("spamd.allow_tell");
  {
    std::unique_lock lock(mu_);
    scanner_.set_auto_learn(v.boolean("spamd.auto_learn"));
  }
  max_message_ = v.size("spamd.max_message");
  if (auto r = spamd_score(v, "spamd.reject_score")) {
    reject_score_ = *r;
  }
  if (auto r = spamd_score(v, "spamd.required_score")) {
    std::unique_lock lock(mu_);
    scanner_.set_required_score(*r);
  }
  for (const std::string_view symbol : spamd::kBayesSymbols) {
    if (auto w = spamd_score(v, bayes_setting(symbol))) {
      std::unique_lock lock(mu_);
      scanner_.set_weight(symbol, *w);
    }
  }
}

io::FrameResult SpamdService::on_frame(std::string& in, std::string& out, const std::string& peer) {
  return step(in, out, peer, false);
}

void SpamdService::on_eof(std::string& in, std::string& out, const std::string& peer) {
  // The connection closes after on_eof whatever step() says; the reply is in `out` and a
  // protocol error is already counted in counters_.protocol_errors. A connection that closes
  // without a byte (a load balancer's or monitor's TCP check) is counted apart, not as an
  // error, and gets what spamd answers it (a client that half-closed reads it; one that closed
  // does not).
  if (in.empty()) {
    ++counters_.empty_connections;
    out = spamd::parse_request(in, true, spamd::Limits{}).error;
    return;
  }
  (void)step(in, out, peer, true);
}

io::FrameResult SpamdService::step(std::string& in, std::string& out, const std::string& peer,
                                   bool eof) {
  spamd::Limits limits;
  limits.max_message_bytes = max_message_;
  limits.max_compressed_bytes = max_message_;
  spamd::ParseOutcome r = spamd::parse_request(in, eof, limits);
  if (r.status == spamd::ParseStatus::NeedMore) {
    return {};
  }
  in.clear();
  if (r.status == spamd::ParseStatus::Error) {
    ++counters_.protocol_errors;
    out = std::move(r.error);
    return {io::FrameStatus::Close, r.log};
  }
  out = answer(r.request, peer);
  return {io::FrameStatus::Close, ""};
}

std::string SpamdService::answer(const spamd::Request& req, const std::string& peer) {
  using spamd::Method;
  const auto start = std::chrono::steady_clock::now();
  switch (req.method) {
    case Method::Ping:
      return spamd::format_pong();
    case Method::Skip:
      spdlog::debug("spamd: skip from {}", peer);
      return {};
    case Method::Tell:
      return tell(req, peer);
    default:
      break;
  }
  const mime::Message m = mime::parse_message(req.message);
  const spamd::Evaluation e =
      evaluate_and_record(m, spamd::wants_report(req.method), "spamd", peer);
  const spamd::Analysis& a = e.analysis;
  const spamd::Verdict v = spamd::make_verdict(req, e, m, checker_, kVersion);
  count(e);
  const auto took = std::chrono::steady_clock::now() - start;
  counters_.latency.observe(took);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
  spdlog::info(
      "spamd: {} {} score={:.1f}/{:.1f} p={:.3f} symbols={} size={} user={} peer={} "
      "mid=<{}> time={}us",
      spamd::to_string(req.method), a.is_spam ? "spam" : "ham", a.score, a.required, a.p_spam,
      spamd::symbol_list(a), req.message.size(), sanitize_line(req.user, 64), peer,
      sanitize_line(m.message_id, 120), us);
  return spamd::format_reply(req, v);
}

std::string SpamdService::tell(const spamd::Request& req, const std::string& peer) {
  if (!allow_tell_) {
    ++counters_.protocol_errors;
    return spamd::unavailable_error("TELL commands are not enabled (spamd.allow_tell)");
  }
  const mime::Message m = mime::parse_message(req.message);
  spamd::TellEntry e;
  {
    std::shared_lock lock(mu_);  // prepare() reads the options only
    e.prepared = scanner_.prepare(m);
  }
  bool did_set = false;
  bool did_remove = false;
  if (req.remove_local) {
    spamd::TellEntry forget = e;
    forget.set = false;
    forget.remove = true;
    did_remove = apply_and_journal(forget);
  }
  if (req.set_local) {
    e.set = true;
    e.spam = req.message_class == "spam";
    did_set = apply_and_journal(e);
  }
  if (did_set) {
    share(e.prepared, e.spam);  // the shared training log (Redis only; a no-op otherwise)
  }
  if (did_set || did_remove) {
    ++counters_.learned;
  }
  spdlog::info("spamd: tell class={} set={} remove={} size={} user={} peer={}",
               req.message_class.empty() ? "-" : req.message_class, did_set, did_remove,
               req.message.size(), sanitize_line(req.user, 64), peer);
  return spamd::format_tell_reply(did_set, did_remove);
}

io::HttpResponse SpamdService::checkv2(const io::HttpRequest& req) {
  io::HttpResponse res;
  res.content_type = "application/json";
  if (req.method != "POST") {
    res.status = 405;
    res.body = R"({"error":"use POST with the message as the body"})";
    return res;
  }
  if (req.body.empty()) {
    res.status = 400;
    res.body = R"({"error":"empty message"})";
    return res;
  }
  const auto start = std::chrono::steady_clock::now();
  const mime::Message m = mime::parse_message(req.body);
  const spamd::Evaluation e = evaluate_and_record(m, true, "checkv2", req.peer);
  count(e);
  const auto took = std::chrono::steady_clock::now() - start;
  counters_.latency.observe(took);
  const double secs = std::chrono::duration<double>(took).count();
  res.body = checkv2_json(e, m.message_id, secs);
  const spamd::Analysis& a = e.analysis;
  spdlog::info("spamd: checkv2 {} score={:.1f}/{:.1f} action={} symbols={} size={} peer={}",
               a.is_spam ? "spam" : "ham", a.score, a.required, a.action, spamd::symbol_list(a),
               req.body.size(), req.peer);
  return res;
}

spamd::Evaluation SpamdService::evaluate(const mime::Message& m, bool explain,
                                         spamd::Scanner::Prepared* keep) const {
  spamd::ActionPolicy policy;
  policy.reject_score = reject_score_.load();
  const auto flux_names = flux();
  std::shared_lock lock(mu_);
  return spamd::evaluate(scanner_, m, policy, explain, flux_names.get(), keep);
}

spamd::Evaluation SpamdService::evaluate_and_record(const mime::Message& m, bool explain,
                                                    std::string_view via, std::string_view client) {
  const bool record = history_ != nullptr && history_->enabled();
  if (!record && !auto_learning()) {
    return evaluate(m, explain);
  }
  spamd::Scanner::Prepared keep;
  spamd::Evaluation e = evaluate(m, explain, &keep);
  auto_learn(e, keep);
  if (!record) {
    return e;
  }
  const std::int64_t now_s =
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now())
          .time_since_epoch()
          .count();
  history_->record(history::mail_row(m, e, &keep, via, client, now_s));
  return e;
}

bool SpamdService::auto_learning() const {
  std::shared_lock lock(mu_);
  return scanner_.options().auto_learn.enabled;
}

void SpamdService::auto_learn(const spamd::Evaluation& e, const spamd::Scanner::Prepared& keep) {
  std::optional<bool> label;
  {
    std::shared_lock lock(mu_);
    label = scanner_.auto_learn_class(e.analysis, keep);
  }
  if (!label) {
    return;
  }
  bool changed = false;
  {
    std::unique_lock lock(mu_);
    changed = scanner_.learn_auto(keep, *label);
  }
  if (changed) {
    dirty_ = true;
    ++counters_.auto_learned;
  }
}

Result<bool> SpamdService::relearn(std::string_view payload, bool spam) {
  auto p = spamd::decode_learn_record(payload);
  if (!p) {
    return tl::unexpected(p.error());
  }
  spamd::TellEntry e;
  e.set = true;
  e.spam = spam;
  e.prepared = std::move(*p);
  const bool changed = apply_and_journal(e);
  if (changed) {
    share(e.prepared, spam);
    ++counters_.learned;
  }
  return changed;
}

void SpamdService::count(const spamd::Evaluation& e) {
  counters_.checked.fetch_add(1, std::memory_order_relaxed);
  if (e.is_spam()) {
    counters_.spam.fetch_add(1, std::memory_order_relaxed);
  }
}

std::size_t SpamdService::model_features() const {
  std::shared_lock lock(mu_);
  return scanner_.model_features();
}

std::uint64_t SpamdService::spam_learned() const {
  std::shared_lock lock(mu_);
  return scanner_.spam_learned();
}

std::uint64_t SpamdService::ham_learned() const {
  std::shared_lock lock(mu_);
  return scanner_.ham_learned();
}

Result<void> SpamdService::save() {
  if (model_path_.empty()) {
    return {};
  }
  std::string blob;
  std::uint64_t seq = 0;
  {
    std::shared_lock lock(mu_);  // journal appends take it exclusively: seq matches the blob
    blob = scanner_.serialize();
    seq = journal_ ? journal_->last_seq() : 0;
  }
  dirty_ = false;
  if (journal_) {
    // Recorded (and committed) before the rename, so a start knows which file it has.
    if (auto ok = journal_->begin_save(seq, spamd::model_hash(blob)); !ok) {
      dirty_ = true;
      return ok;
    }
  }
  if (auto ok = io::save_mail_model(model_path_, blob); !ok) {
    dirty_ = true;
    return ok;
  }
  if (journal_) {
    return journal_->end_save(seq);
  }
  return {};
}

Result<void> SpamdService::save_if_dirty() {
  if (!dirty_) {
    return {};
  }
  return save();
}

struct SpamdRuntime::Impl {
  std::unique_ptr<SpamdService> svc;
  std::unique_ptr<io::LineServer> server;
  std::unique_ptr<io::PeriodicTimer> save_timer;  // ticks every min(save_interval, 1 s)
  std::unique_ptr<io::PeriodicTimer> sync_timer;  // store.model_sync_interval (Redis)
  std::unique_ptr<io::SerialTask> shared_task;    // appends and polls, on the blocking pool
  std::atomic<bool> sync_due{false};              // the next shared_task run polls
  std::chrono::steady_clock::duration save_interval{};
  std::uint64_t journal_max = 0;
  std::chrono::steady_clock::time_point last_save = std::chrono::steady_clock::now();

  void save() {
    last_save = std::chrono::steady_clock::now();
    if (auto ok = svc->save_if_dirty(); !ok) {
      spdlog::error("spamd: {}", ok.error().message);
    }
  }
  // A save is due after save_interval, or once journal_max TELLs wait in the journal.
  void tick() {
    if (std::chrono::steady_clock::now() - last_save >= save_interval ||
        (svc->dirty() && svc->unsaved_tells() >= journal_max)) {
      save();
    }
  }
};

SpamdRuntime::SpamdRuntime() : impl_(std::make_unique<Impl>()) {}
SpamdRuntime::~SpamdRuntime() = default;

Result<void> SpamdRuntime::start(boost::asio::io_context& ioc,
                                 std::function<boost::asio::io_context&()> connection_context,
                                 const Values& v, SpamdService::FluxLookup flux,
                                 io::BlockingPool* blocking) {
  // The milter scans through the same service, so it runs when either front door is on.
  if (v.list("spamd.listen").empty() && v.list("milter.listen").empty()) {
    return {};
  }
  auto svc = SpamdService::open(v);
  if (!svc) {
    return tl::unexpected(svc.error());
  }
  impl_->svc = std::move(*svc);
  SpamdService* s = impl_->svc.get();
  if (flux) {
    s->set_flux_lookup(std::move(flux));
  }
  impl_->save_interval = v.duration("spamd.save_interval");
  impl_->journal_max =
      static_cast<std::uint64_t>(std::max<std::int64_t>(1, v.integer("spamd.journal_max")));
  const std::chrono::steady_clock::duration tick =
      std::min<std::chrono::steady_clock::duration>(impl_->save_interval, std::chrono::seconds(1));
  if (s->unsaved_tells() > 0) {
    // The start replayed the journal: save at the first tick, so that a crash loop does not
    // replay a growing journal at every start (not before serving: a large model takes seconds
    // to write on a busy disk).
    impl_->last_save = std::chrono::steady_clock::time_point{};
  }
  impl_->save_timer =
      std::make_unique<io::PeriodicTimer>(ioc, tick, [impl = impl_.get()] { impl->tick(); });
  impl_->save_timer->start();
  if (s->shared()) {
    auto push = [s] {
      if (auto ok = s->push_shared(); !ok) {
        spdlog::warn("spamd: TELL kept for the shared training log: {}", ok.error().message);
      }
    };
    auto sync = [s] {
      const auto t0 = std::chrono::steady_clock::now();
      auto n = s->sync();
      if (!n) {
        spdlog::warn("spamd: cannot sync the shared training log: {}", n.error().message);
      } else if (*n != 0) {
        spdlog::info(
            "spamd: read {} records of other nodes from the shared training log ({:.1f} ms)", *n,
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
      }
    };
    std::function<void()> wake, poll;
    if (blocking != nullptr) {
      // Appends and polls are blocking Redis calls: one task on the pool runs both, one at a
      // time (sync() appends what is queued first), never on an io thread.
      Impl* impl = impl_.get();
      impl->shared_task = std::make_unique<io::SerialTask>(*blocking, [impl, push, sync] {
        if (impl->sync_due.exchange(false)) {
          sync();
        } else {
          push();
        }
      });
      wake = [impl] { impl->shared_task->trigger(); };
      poll = [impl] {
        impl->sync_due = true;
        impl->shared_task->trigger();
      };
    } else {
      wake = [&ioc, push] { boost::asio::post(ioc, push); };
      poll = sync;
    }
    s->set_shared_wake(std::move(wake));
    impl_->sync_timer = std::make_unique<io::PeriodicTimer>(
        ioc, v.duration("store.model_sync_interval"), std::move(poll));
    impl_->sync_timer->start();
  }
  if (v.list("spamd.listen").empty()) {
    spdlog::info("spamd: no listener; mail model {} ({} spam, {} ham learned) for the milter",
                 v.str("spamd.model"), s->spam_learned(), s->ham_learned());
    return {};
  }
  io::LineServerOptions o = spamd_server_options(v);
  o.connection_context = std::move(connection_context);
  o.on_eof = [s](std::string& in, std::string& out, const std::string& peer) {
    s->on_eof(in, out, peer);
  };
  impl_->server = std::make_unique<io::LineServer>(
      ioc, o, [s](std::string& in, std::string& out, const std::string& peer) {
        return s->on_frame(in, out, peer);
      });
  if (auto ok = impl_->server->start(); !ok) {
    return ok;
  }
  std::string where;
  for (const auto& l : o.listen) {
    where += (where.empty() ? "" : ", ") + l.to_string();
  }
  spdlog::info("spamd: listening on {}; mail model {} ({} spam, {} ham learned)", where,
               v.str("spamd.model"), s->spam_learned(), s->ham_learned());
  return {};
}

std::optional<io::HttpResponse> SpamdRuntime::http(const io::HttpRequest& req) {
  if (!impl_->svc) {
    return std::nullopt;
  }
  if (req.path == "/checkv2") {
    return impl_->svc->checkv2(req);
  }
  if (req.path == "/ping" && req.method == "GET") {
    io::HttpResponse res;
    res.body = "pong\r\n";
    return res;
  }
  return std::nullopt;
}

SpamdService* SpamdRuntime::service() { return impl_->svc.get(); }

const io::LineServerStats* SpamdRuntime::server_stats() const {
  return impl_->server ? &impl_->server->stats() : nullptr;
}

void SpamdRuntime::reload(const Values& v) {
  if (impl_->svc) {
    impl_->svc->reload(v);
  }
}

void SpamdRuntime::drain() {
  if (impl_->save_timer) {
    impl_->save_timer->stop();
  }
  if (impl_->sync_timer) {
    impl_->sync_timer->stop();
  }
  if (impl_->server) {
    impl_->server->drain();
  }
}

void SpamdRuntime::finish() {
  if (impl_->svc) {
    impl_->save();
    if (auto ok = impl_->svc->push_shared(); !ok) {
      spdlog::warn("spamd: TELLs not appended to the shared training log at exit: {}",
                   ok.error().message);
    }
  }
}

}  // namespace gf::app
