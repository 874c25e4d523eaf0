#include "app/metrics_service.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>

#include "app/akismet_service.hpp"
#include "app/engine.hpp"
#include "app/flux_service.hpp"
#include "app/front_doors.hpp"
#include "app/milter_service.hpp"
#include "app/settings.hpp"
#include "app/spamd_service.hpp"
#include "core/common/query.hpp"
#include "core/flux/score.hpp"
#include "core/greylist/greylist.hpp"
#include "gf_version.hpp"
#include "io/net/line_server.hpp"

namespace gf::app {
namespace {

using metrics::Family;
using metrics::Label;
using metrics::Type;

constexpr auto kModelCacheFor = std::chrono::seconds(60);

std::uint64_t load(const std::atomic<std::uint64_t>& a) {
  return a.load(std::memory_order_relaxed);
}

std::uint64_t minus(std::uint64_t a, std::uint64_t b) { return a > b ? a - b : 0; }

io::HttpResponse text(int status, std::string body) {
  io::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

io::HttpResponse json(int status, std::string body) {
  io::HttpResponse r = text(status, std::move(body));
  r.content_type = "application/json";
  return r;
}

io::HttpResponse json_error(int status, std::string_view code, std::string_view message) {
  return json(status, fmt::format(R"({{"error":"{}","message":"{}"}})", flux::json_escape(code),
                                  flux::json_escape(message)) +
                          "\n");
}

TimePoint wall_now() { return std::chrono::floor<Seconds>(std::chrono::system_clock::now()); }

}  // namespace

// Everything a scrape or a series sample reads, loaded once.
struct MetricsService::Totals {
  std::array<std::uint64_t, kReasonCount> greylist{};
  std::uint64_t greylist_fail_open = 0, policy_protocol_errors = 0;
  bool comments = false;
  std::uint64_t comments_spam = 0, comments_ham = 0, comments_invalid = 0,
                comments_store_errors = 0, comments_fail_open = 0, comments_trained = 0;
  bool spamd = false;
  std::uint64_t spamd_spam = 0, spamd_ham = 0, spamd_protocol_errors = 0, spamd_learned = 0;
  std::uint64_t spamd_empty = 0;
  bool milter = false;
  std::uint64_t m_scanned = 0, m_spam_tagged = 0, m_quarantined = 0, m_discarded = 0,
                m_rejected = 0, m_grey_deferred = 0, m_grey_passed = 0, m_connect_deferred = 0,
                m_connect_rejected = 0, m_rcpt_greylisted = 0, m_unscanned = 0, m_scan_failures = 0,
                m_store_failures = 0, m_tempfails = 0, m_protocol_errors = 0, m_messages = 0;
  bool flux = false;
  FluxService::Stats flux_stats;

  [[nodiscard]] std::uint64_t reasons(std::string_view verdict) const {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < kReasonCount; ++i) {
      n += verdict == greylist::verdict_of(static_cast<greylist::Reason>(i)) ? greylist[i] : 0;
    }
    return n;
  }
  [[nodiscard]] std::uint64_t milter_spam() const {
    return m_spam_tagged + m_quarantined + m_discarded;
  }
  // Scanned messages that went on unmarked: not spam, not rejected, not refused in the grey band.
  [[nodiscard]] std::uint64_t milter_ham() const {
    return minus(m_scanned, milter_spam() + m_rejected + m_grey_deferred);
  }
  [[nodiscard]] std::uint64_t milter_fail_open() const {
    return minus(m_scan_failures + m_store_failures, m_tempfails);
  }
  // In the order of kSeriesNames.
  [[nodiscard]] std::array<std::uint64_t, kSeriesCount> series() const {
    return {reasons("defer"),
            reasons("pass"),
            reasons("whitelisted"),
            reasons("flux_agent") + m_connect_deferred + m_connect_rejected,
            comments_spam,
            comments_ham,
            spamd_spam + milter_spam(),
            spamd_ham + milter_ham(),
            m_rejected,
            flux_stats.flagged_total};
  }
};

MetricsService::MetricsService(const Values& v)
    : metrics_enabled_(v.boolean("http.metrics")),
      policy_on_(!v.list("policy.listen").empty()),
      http_on_(!v.list("http.listen").empty()),
      spamd_on_(!v.list("spamd.listen").empty()),
      milter_on_(!v.list("milter.listen").empty()),
      admin_on_(!v.str("admin.socket").empty()),
      started_(wall_now()),
      started_steady_(std::chrono::steady_clock::now()),
      series_(std::vector<std::string>(std::begin(kSeriesNames), std::end(kSeriesNames))) {}

MetricsService::Totals MetricsService::totals() const {
  Totals t;
  if (src_.engine != nullptr) {
    const Counters& c = src_.engine->counters();
    for (std::size_t i = 0; i < kReasonCount; ++i) {
      t.greylist[i] = load(c.by_reason[i]);
    }
    t.greylist_fail_open = load(c.fail_open);
    t.policy_protocol_errors = load(c.protocol_errors);
  }
  if (src_.comments != nullptr) {
    const AkismetCounters& c = src_.comments->counters();
    t.comments = true;
    t.comments_spam = load(c.spam);
    t.comments_ham = load(c.ham);
    t.comments_invalid = load(c.invalid);
    t.comments_store_errors = load(c.store_errors);
    t.comments_fail_open = load(c.store_fallbacks);
    t.comments_trained = load(c.trained);
  }
  if (const SpamdService* s = src_.spamd != nullptr ? src_.spamd->service() : nullptr) {
    const SpamdCounters& c = s->counters();
    t.spamd = true;
    t.spamd_spam = load(c.spam);
    t.spamd_ham = minus(load(c.checked), t.spamd_spam);
    t.spamd_protocol_errors = load(c.protocol_errors);
    t.spamd_empty = load(c.empty_connections);
    t.spamd_learned = load(c.learned);
  }
  if (const milter::FilterCounters* m = src_.milter ? src_.milter->counters() : nullptr) {
    t.milter = true;
    t.m_scanned = load(m->scanned);
    t.m_spam_tagged = load(m->spam_tagged);
    t.m_quarantined = load(m->quarantined);
    t.m_discarded = load(m->discarded);
    t.m_rejected = load(m->rejected);
    t.m_grey_deferred = load(m->grey_deferred);
    t.m_grey_passed = load(m->grey_passed);
    t.m_connect_deferred = load(m->connect_deferred);
    t.m_connect_rejected = load(m->connect_rejected);
    t.m_rcpt_greylisted = load(m->rcpt_greylisted);
    t.m_unscanned = load(m->unscanned_large);
    t.m_scan_failures = load(m->scan_failures);
    t.m_store_failures = load(m->store_failures);
    t.m_tempfails = load(m->fallback_tempfails);
    t.m_protocol_errors = load(m->protocol_errors);
    t.m_messages = load(m->messages);
  }
  if (src_.flux != nullptr) {
    t.flux = true;
    t.flux_stats = src_.flux->stats();
  }
  return t;
}

void MetricsService::sample(TimePoint now) {
  const auto values = totals().series();
  std::lock_guard lock(series_mu_);
  for (std::size_t i = 0; i < values.size(); ++i) {
    series_.update(i, values[i], now);
  }
}

// --- /metrics -------------------------------------------------------------------------------

void MetricsService::add_decisions(std::vector<Family>& out, const Totals& t) const {
  Family& f = out.emplace_back(Family{
      "greyflux_decisions_total",
      "Decisions by front door, verdict and reason (door greylist: policy requests and milter "
      "RCPT checks)",
      Type::Counter});
  auto add = [&f](const char* door, const char* verdict, const char* reason, std::uint64_t n) {
    f.add(static_cast<double>(n), {{"door", door}, {"verdict", verdict}, {"reason", reason}});
  };
  for (std::size_t i = 0; i < kReasonCount; ++i) {
    const auto r = static_cast<greylist::Reason>(i);
    add("greylist", greylist::verdict_of(r), greylist::to_string(r), t.greylist[i]);
  }
  if (t.comments) {
    add("comments", "spam", "comment-check", t.comments_spam);
    add("comments", "ham", "comment-check", t.comments_ham);
  }
  if (t.spamd) {
    add("spamd", "spam", "scan", t.spamd_spam);
    add("spamd", "ham", "scan", t.spamd_ham);
  }
  if (t.milter) {
    add("milter", "spam", "spam_tagged", t.m_spam_tagged);
    add("milter", "spam", "quarantined", t.m_quarantined);
    add("milter", "spam", "discarded", t.m_discarded);
    add("milter", "rejected", "rejected", t.m_rejected);
    add("milter", "ham", "scanned", t.milter_ham());
    add("milter", "defer", "grey_deferred", t.m_grey_deferred);
    add("milter", "pass", "grey_passed", t.m_grey_passed);
    add("milter", "defer", "rcpt_greylisted", t.m_rcpt_greylisted);
    add("milter", "flux_agent", "connect_deferred", t.m_connect_deferred);
    add("milter", "flux_agent", "connect_rejected", t.m_connect_rejected);
    add("milter", "unscanned", "too_large", t.m_unscanned);
  }
  if (t.flux) {
    add("flux", "flagged", "judged", t.flux_stats.flagged_total);
  }
}

void MetricsService::add_latency(std::vector<Family>& out) const {
  Family& f = out.emplace_back(Family{"greyflux_request_duration_seconds",
                                      "Time from a whole request to its reply, per front door",
                                      Type::Histogram});
  if (src_.engine != nullptr) {
    metrics::add_histogram(f, src_.engine->counters().latency.snapshot(), {{"door", "policy"}});
  }
  if (src_.comments_latency != nullptr) {
    metrics::add_histogram(f, src_.comments_latency->snapshot(), {{"door", "comments"}});
  }
  if (const SpamdService* s = src_.spamd != nullptr ? src_.spamd->service() : nullptr) {
    metrics::add_histogram(f, s->counters().latency.snapshot(), {{"door", "spamd"}});
  }
  if (const metrics::Histogram* h = src_.milter ? src_.milter->latency() : nullptr) {
    metrics::add_histogram(f, h->snapshot(), {{"door", "milter"}});
  }
}

void MetricsService::add_doors(std::vector<Family>& out) const {
  Family up{"greyflux_listener_up", "1 when a configured listener is accepting connections",
            Type::Gauge};
  Family active{"greyflux_connections_active", "Open connections per listener", Type::Gauge};
  Family accepted{"greyflux_connections_accepted_total", "Connections accepted per listener",
                  Type::Counter};
  Family refused{"greyflux_connections_refused_total",
                 "Connections closed at once (over max_connections) per listener", Type::Counter};
  auto line = [&](const char* door, const io::LineServerStats* s) {
    if (s == nullptr) {
      return;
    }
    up.add(s->listening.load() ? 1 : 0, {{"door", door}});
    active.add(static_cast<double>(s->active.load()), {{"door", door}});
    accepted.add(static_cast<double>(load(s->accepted)), {{"door", door}});
    refused.add(static_cast<double>(load(s->refused)), {{"door", door}});
  };
  line("policy", src_.policy != nullptr && policy_on_ ? &src_.policy->stats() : nullptr);
  line("spamd", src_.spamd != nullptr ? src_.spamd->server_stats() : nullptr);
  line("milter", src_.milter != nullptr ? src_.milter->server_stats() : nullptr);
  line("admin", admin_on_ ? src_.admin : nullptr);
  if (const io::HttpServerStats* h = src_.http) {
    up.add(h->listening.load() ? 1 : 0, {{"door", "http"}});
    active.add(static_cast<double>(h->active.load()), {{"door", "http"}});
    accepted.add(static_cast<double>(load(h->accepted)), {{"door", "http"}});
    refused.add(static_cast<double>(load(h->refused)), {{"door", "http"}});
    out.push_back(Family{"greyflux_http_requests_total", "HTTP requests answered", Type::Counter});
    out.back().add(static_cast<double>(load(h->requests)));
  }
  out.push_back(std::move(up));
  out.push_back(std::move(active));
  out.push_back(std::move(accepted));
  out.push_back(std::move(refused));
}

void MetricsService::add_store_and_flux(std::vector<Family>& out, const Totals& t) {
  Family errors{"greyflux_store_errors_total",
                "Store failures: greylist (LMDB commit failures or Redis call failures), comments "
                "(reads and writes that failed)",
                Type::Counter};
  Family healthy{"greyflux_store_healthy", "1 when the greylist store has no known problem",
                 Type::Gauge};
  if (src_.engine != nullptr) {
    const StoreHealth h = src_.engine->store_health(false);
    errors.add(static_cast<double>(h.errors), {{"store", "greylist"}, {"backend", h.backend}});
    healthy.add(h.healthy ? 1 : 0, {{"store", "greylist"}, {"backend", h.backend}});
  }
  if (t.comments) {
    errors.add(static_cast<double>(t.comments_store_errors), {{"store", "comments"}});
  }
  out.push_back(std::move(errors));
  out.push_back(std::move(healthy));

  Family fo{"greyflux_fail_open_total",
            "Decisions made without the store or scanner and let through (greylist: DUNNO on a "
            "store failure; comments: judged on heuristics alone; milter: accepted on failure)",
            Type::Counter};
  fo.add(static_cast<double>(t.greylist_fail_open), {{"door", "greylist"}});
  if (t.comments) {
    fo.add(static_cast<double>(t.comments_fail_open), {{"door", "comments"}});
  }
  if (t.milter) {
    fo.add(static_cast<double>(t.milter_fail_open()), {{"door", "milter"}});
  }
  out.push_back(std::move(fo));

  Family pe{"greyflux_protocol_errors_total", "Requests refused as malformed, per front door",
            Type::Counter};
  pe.add(static_cast<double>(t.policy_protocol_errors), {{"door", "policy"}});
  if (t.comments) {
    pe.add(static_cast<double>(t.comments_invalid), {{"door", "comments"}});
  }
  if (t.spamd) {
    pe.add(static_cast<double>(t.spamd_protocol_errors), {{"door", "spamd"}});
  }
  if (t.milter) {
    pe.add(static_cast<double>(t.m_protocol_errors), {{"door", "milter"}});
  }
  out.push_back(std::move(pe));
  if (t.spamd) {
    Family empty{"greyflux_spamd_empty_connections_total",
                 "spamd connections closed without a byte (health checks; not protocol errors)",
                 Type::Counter};
    empty.add(static_cast<double>(t.spamd_empty), {});
    out.push_back(std::move(empty));
  }

  if (!t.flux) {
    return;
  }
  const FluxService::Stats& fs = t.flux_stats;
  auto gauge = [&out](const char* name, const char* help, double v) {
    out.push_back(Family{name, help, Type::Gauge});
    out.back().add(v);
  };
  gauge("greyflux_flux_names_tracked", "DNS names the fast-flux tracker holds",
        static_cast<double>(fs.names_tracked));
  gauge("greyflux_flux_addresses_tracked", "Addresses held over all tracked names",
        static_cast<double>(fs.addresses_tracked));
  gauge("greyflux_flux_names_flagged", "Names in the flux index (flagged now or held)",
        static_cast<double>(fs.flagged));
  gauge("greyflux_flux_agents", "Agent addresses in the flux index",
        static_cast<double>(fs.agents));
  out.push_back(Family{"greyflux_flux_observations_total",
                       "DNS responses fed to the fast-flux tracker (ingest rate: rate() of this)",
                       Type::Counter});
  out.back().add(static_cast<double>(fs.observations));
  if (fs.shared) {
    auto counter = [&out](const char* name, const char* help, std::uint64_t v) {
      out.push_back(Family{name, help, Type::Counter});
      out.back().add(static_cast<double>(v));
    };
    counter("greyflux_flux_shared_published_total",
            "Per-name flux updates sent to Redis (flux.shared)", fs.shared_published);
    counter("greyflux_flux_shared_read_total", "Merged per-name views read from Redis",
            fs.shared_read);
    counter("greyflux_flux_shared_failures_total",
            "Publish passes judged on local state only because Redis failed", fs.shared_failures);
  }
}

void MetricsService::add_models(std::vector<Family>& out) {
  ModelSizes m;
  {
    std::lock_guard lock(model_mu_);
    const auto now = std::chrono::steady_clock::now();
    if (models_at_ == std::chrono::steady_clock::time_point{} ||
        now - models_at_ > kModelCacheFor) {
      models_ = ModelSizes{};
      if (src_.comments != nullptr) {
        const auto s = src_.comments->model_size();
        models_.comments = true;
        models_.comments_spam = s.spam;
        models_.comments_ham = s.ham;
        models_.comments_features = s.features;
      }
      if (const SpamdService* s = src_.spamd != nullptr ? src_.spamd->service() : nullptr) {
        models_.mail = true;
        models_.mail_spam = s->spam_learned();
        models_.mail_ham = s->ham_learned();
        models_.mail_features = s->model_features();
      }
      models_at_ = now;
    }
    m = models_;
  }
  Family trained{"greyflux_model_trained_messages",
                 "Messages or comments the model has learned, per class (refreshed every 60 s)",
                 Type::Gauge};
  Family features{"greyflux_model_features",
                  "Hashed tokens with a non-zero weight in the model (refreshed every 60 s)",
                  Type::Gauge};
  if (m.comments) {
    trained.add(static_cast<double>(m.comments_spam), {{"model", "comments"}, {"class", "spam"}});
    trained.add(static_cast<double>(m.comments_ham), {{"model", "comments"}, {"class", "ham"}});
    features.add(static_cast<double>(m.comments_features), {{"model", "comments"}});
  }
  if (m.mail) {
    trained.add(static_cast<double>(m.mail_spam), {{"model", "mail"}, {"class", "spam"}});
    trained.add(static_cast<double>(m.mail_ham), {{"model", "mail"}, {"class", "ham"}});
    features.add(static_cast<double>(m.mail_features), {{"model", "mail"}});
  }
  out.push_back(std::move(trained));
  out.push_back(std::move(features));
}

std::string MetricsService::scrape() {
  const Totals t = totals();
  std::vector<Family> out;
  out.reserve(24);
  out.push_back(Family{"greyflux_build_info", "The running greyflux build", Type::Gauge});
  out.back().add(1, {{"version", std::string(kVersion)}});
  out.push_back(Family{"greyflux_start_time_seconds", "Unix time the daemon started", Type::Gauge});
  out.back().add(static_cast<double>(to_unix(started_)));
  out.push_back(Family{"greyflux_uptime_seconds", "Seconds since the daemon started", Type::Gauge});
  out.back().add(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_steady_).count());
  add_decisions(out, t);
  add_latency(out);
  add_doors(out);
  add_store_and_flux(out, t);
  add_models(out);
  return metrics::encode_text(out);
}

// --- health ---------------------------------------------------------------------------------

std::vector<std::string> MetricsService::not_ready() {
  std::vector<std::string> why;
  auto check = [&why](bool configured, const char* door, bool listening) {
    if (configured && !listening) {
      why.push_back(fmt::format("{} listener is not listening", door));
    }
  };
  check(policy_on_, "policy", src_.policy != nullptr && src_.policy->stats().listening.load());
  check(http_on_, "http", src_.http != nullptr && src_.http->listening.load());
  const io::LineServerStats* spamd = src_.spamd != nullptr ? src_.spamd->server_stats() : nullptr;
  check(spamd_on_, "spamd", spamd != nullptr && spamd->listening.load());
  const io::LineServerStats* milter = src_.milter ? src_.milter->server_stats() : nullptr;
  check(milter_on_, "milter", milter != nullptr && milter->listening.load());
  check(admin_on_, "admin", src_.admin != nullptr && src_.admin->listening.load());
  if (src_.engine == nullptr) {
    why.emplace_back("greylist store is not open");
  } else if (const StoreHealth h = src_.engine->store_health(true); !h.healthy) {
    why.push_back(fmt::format("greylist store ({}): {}", h.backend, h.problem));
  }
  return why;
}

std::optional<io::HttpResponse> MetricsService::handle_open(const io::HttpRequest& req) {
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (req.path == "/healthz") {
    return get ? text(200, "ok\n") : text(405, "use GET\n");
  }
  if (req.path == "/readyz") {
    if (!get) {
      return text(405, "use GET\n");
    }
    const auto why = not_ready();
    if (why.empty()) {
      return text(200, "ready\n");
    }
    std::string body = "not ready:\n";
    for (const std::string& w : why) {
      body += w + "\n";
    }
    return text(503, std::move(body));
  }
  if (req.path == "/metrics") {
    if (!metrics_enabled_) {
      return text(404, "/metrics is off (http.metrics = false)\n");
    }
    if (!get) {
      return text(405, "use GET\n");
    }
    io::HttpResponse r = text(200, scrape());
    r.content_type = std::string(metrics::kTextContentType);
    return r;
  }
  return std::nullopt;
}

// --- admin API ------------------------------------------------------------------------------

io::HttpResponse MetricsService::status_json() {
  const Totals t = totals();
  std::string store = "null";
  if (src_.engine != nullptr) {
    const StoreHealth h = src_.engine->store_health(true);
    store = fmt::format(R"({{"backend":"{}","healthy":{},"errors":{},"problem":{}}})", h.backend,
                        h.healthy, h.errors,
                        h.healthy ? "null" : "\"" + flux::json_escape(h.problem) + "\"");
  }
  auto door = [](bool configured, bool listening) {
    return configured ? (listening ? "true" : "false") : "null";
  };
  const io::LineServerStats* spamd = src_.spamd != nullptr ? src_.spamd->server_stats() : nullptr;
  const io::LineServerStats* milter = src_.milter ? src_.milter->server_stats() : nullptr;
  const auto up =
      std::chrono::duration_cast<Seconds>(std::chrono::steady_clock::now() - started_steady_);
  std::string body =
      fmt::format(R"({{"version":"{}","uptime_s":{},"started":{},"store":{},)"
                  R"("fail_open":{{"greylist":{},"comments":{},"milter":{}}},)"
                  R"("doors":{{"policy":{},"http":{},"spamd":{},"milter":{},"admin":{}}},)"
                  R"("flux":{}}})",
                  flux::json_escape(kVersion), up.count(), to_unix(started_), store,
                  t.greylist_fail_open, t.comments ? std::to_string(t.comments_fail_open) : "null",
                  t.milter ? std::to_string(t.milter_fail_open()) : "null",
                  door(policy_on_, src_.policy != nullptr && src_.policy->stats().listening.load()),
                  door(http_on_, src_.http != nullptr && src_.http->listening.load()),
                  door(spamd_on_, spamd != nullptr && spamd->listening.load()),
                  door(milter_on_, milter != nullptr && milter->listening.load()),
                  door(admin_on_, src_.admin != nullptr && src_.admin->listening.load()),
                  t.flux ? fmt::format(R"({{"names_tracked":{},"flagged":{},"observations":{}}})",
                                       t.flux_stats.names_tracked, t.flux_stats.flagged,
                                       t.flux_stats.observations)
                         : "null");
  return json(200, body + "\n");
}

io::HttpResponse MetricsService::series_json(const io::HttpRequest& req) {
  const auto range_text = query_param(req.query, "range");
  const auto range = metrics::parse_range(range_text.value_or("hour"));
  if (!range) {
    return json_error(400, "bad_range", "range: hour, day or week");
  }
  const TimePoint now = wall_now();
  sample(now);  // up to the second, not only to the last timer tick
  metrics::Window w;
  {
    std::lock_guard lock(series_mu_);
    w = series_.window(*range, now);
  }
  std::string body = fmt::format(R"({{"step_s":{},"end":{},"series":{{)", w.step.count(), w.end_s);
  for (std::size_t i = 0; i < w.names.size(); ++i) {
    body +=
        fmt::format(R"({}"{}":[{}])", i == 0 ? "" : ",", w.names[i], fmt::join(w.counts[i], ","));
  }
  body += "}}\n";
  return json(200, std::move(body));
}

std::optional<io::HttpResponse> MetricsService::handle_api(const io::HttpRequest& req) {
  if (req.path != "/api/v1/status" && req.path != "/api/v1/stats/series") {
    return std::nullopt;
  }
  if (req.method != "GET" && req.method != "HEAD") {
    io::HttpResponse r = json_error(405, "method", "use GET");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  return req.path == "/api/v1/status" ? status_json() : series_json(req);
}

}  // namespace gf::app
