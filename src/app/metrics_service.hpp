#pragma once
// MetricsService: what the daemon tells about itself on the [http] listener, wiring only.
//
//   GET /metrics      Prometheus text 0.0.4 (core/metrics): decisions per front door, verdict
//                     and reason, latency histograms, store errors and health, fail-open counts,
//                     connections, flux tracker sizes and observations, model sizes, build info,
//                     uptime. Off with http.metrics = false (404). No login (docs/metrics.md).
//   GET /healthz      200 "ok": the process answers.
//   GET /readyz       200 "ready", or 503 with one line per reason: a configured listener that
//                     is not listening, or a greylist store that does not answer a probe read.
//   GET /api/v1/status and GET /api/v1/stats/series?range=hour|day|week: JSON for the
//                     dashboard (docs/api.md); behind the admin API's login.
//
// Every figure is read from the counters the front doors already keep for `greyflux stats`
// (app::Counters, akismet::CommentCounters, SpamdCounters, milter::FilterCounters, the
// listeners' stats, FluxService::stats); nothing is counted twice. The series for the overview
// charts (core/metrics/series.hpp, 41,280 bytes for the 10 series) are fed by sample(), which
// the daemon calls every 10 s from a timer on its main io_context.
//
// Threading: set_sources() once before serving; the handlers and sample() from any thread.
// The mail and comment model sizes scan their weight arrays (~1 ms each), so they are cached
// for 60 s.
#include <chrono>
#include <cstdint>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/common/time.hpp"
#include "core/metrics/metrics.hpp"
#include "core/metrics/series.hpp"
#include "io/net/http_server.hpp"

namespace gf::io {
struct LineServerStats;
}

namespace gf::app {

class AkismetService;
class Engine;
class FluxService;
class MilterRuntime;
class PolicyDoor;
class SpamdRuntime;
class Values;

// The services and doors a scrape reads; null = off. They outlive the MetricsService's use
// (the daemon drains the HTTP door before it destroys anything else).
struct MetricsSources {
  Engine* engine = nullptr;
  const PolicyDoor* policy = nullptr;
  AkismetService* comments = nullptr;
  const metrics::Histogram* comments_latency = nullptr;
  const io::HttpServerStats* http = nullptr;
  SpamdRuntime* spamd = nullptr;
  const MilterRuntime* milter = nullptr;
  const FluxService* flux = nullptr;
  const io::LineServerStats* admin = nullptr;
};

// The overview's series names (docs/api.md), in the order of SeriesSet.
inline constexpr const char* kSeriesNames[] = {
    "greylist.defer",      "greylist.pass", "greylist.whitelisted",
    "greylist.flux_agent", "comments.spam", "comments.ham",
    "mail.spam",           "mail.ham",      "mail.rejected",
    "flux.flagged"};
inline constexpr std::size_t kSeriesCount = std::size(kSeriesNames);

class MetricsService {
 public:
  explicit MetricsService(const Values& v);

  void set_sources(const MetricsSources& s) { src_ = s; }

  // /metrics, /healthz, /readyz; nullopt for any other path.
  [[nodiscard]] std::optional<io::HttpResponse> handle_open(const io::HttpRequest& req);
  // /api/v1/status, /api/v1/stats/series; nullopt for any other path.
  [[nodiscard]] std::optional<io::HttpResponse> handle_api(const io::HttpRequest& req);

  // Feeds the series with the current totals (the daemon's 10 s timer).
  void sample(TimePoint now);
  [[nodiscard]] std::string scrape();

 private:
  struct Totals;
  [[nodiscard]] Totals totals() const;
  [[nodiscard]] std::vector<std::string> not_ready();
  [[nodiscard]] io::HttpResponse status_json();
  [[nodiscard]] io::HttpResponse series_json(const io::HttpRequest& req);
  void add_decisions(std::vector<metrics::Family>& out, const Totals& t) const;
  void add_latency(std::vector<metrics::Family>& out) const;
  void add_doors(std::vector<metrics::Family>& out) const;
  void add_store_and_flux(std::vector<metrics::Family>& out, const Totals& t);
  void add_models(std::vector<metrics::Family>& out);

  MetricsSources src_;
  bool metrics_enabled_ = true;
  bool policy_on_ = false, http_on_ = false, spamd_on_ = false, milter_on_ = false,
       admin_on_ = false;
  TimePoint started_;
  std::chrono::steady_clock::time_point started_steady_;

  std::mutex series_mu_;
  metrics::SeriesSet series_;

  struct ModelSizes {
    bool comments = false, mail = false;
    std::uint64_t comments_spam = 0, comments_ham = 0, mail_spam = 0, mail_ham = 0;
    std::size_t comments_features = 0, mail_features = 0;
  };
  std::mutex model_mu_;
  ModelSizes models_;
  std::chrono::steady_clock::time_point models_at_{};
};

}  // namespace gf::app
