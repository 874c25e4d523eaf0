#pragma once
// The daemon's fast-flux service: when `[flux] dnstap_socket` and/or `[flux] interface` is set,
// `greyflux serve` collects DNS responses continuously (dnstap from a resolver, live capture),
// judges every tracked name every `rpz_interval`, rewrites `rpz_path` atomically (serial always
// increasing) and publishes a FluxIndex for the comment and mail checks.
//
// Threads: one for the dnstap listener (plus one per connected sender), one for live capture;
// the tracker is guarded by one mutex. start() fails (a startup error, fatal) when a source
// cannot be opened; the destructor stops the sources, joins, and writes the RPZ a last time.
#include <atomic>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>

#include "app/settings.hpp"
#include "core/common/result.hpp"
#include "core/flux/lookup.hpp"
#include "io/net/http_server.hpp"

namespace gf::app {

class HistoryService;

class FluxService {
 public:
  // Null when no [flux] source is configured.
  [[nodiscard]] static Result<std::unique_ptr<FluxService>> start(const Values& v);
  ~FluxService();
  FluxService(const FluxService&) = delete;
  FluxService& operator=(const FluxService&) = delete;

  std::shared_ptr<const flux::FluxIndex> index() const;
  // The decision history (may be null): one row per name when it becomes flagged.
  void set_history(HistoryService* h);

  // For /metrics and /api/v1/status (takes the tracker's lock briefly).
  struct Stats {
    std::size_t names_tracked = 0;
    std::size_t addresses_tracked = 0;
    std::size_t flagged = 0;  // names in the current index (flagged now or held)
    std::size_t agents = 0;
    std::size_t churn_names = 0;         // names with a churn history
    std::uint64_t observations = 0;      // DNS responses fed to the tracker
    std::uint64_t flagged_total = 0;     // names that entered the index, counted at each judging
    bool shared = false;                 // flux.shared
    std::uint64_t shared_published = 0;  // name updates sent to Redis
    std::uint64_t shared_read = 0;       // merged views read back
    std::uint64_t shared_failures = 0;   // passes judged on local state (Redis failed)
  };
  [[nodiscard]] Stats stats() const;

  // The flux routes of the admin API (docs/api.md), `service` may be null (no [flux] source
  // configured: 503); 405 for methods other than GET/HEAD, 400 for a bad name or limit.
  //   GET /api/v1/flux?limit=N       flagged and held names ranked by score, with evidence
  //   GET /api/v1/flux/NAME          the verdict of a tracked name (or of the listed flux name it
  //                                  lies below) with "network" and "rpz"; 404 if never seen
  //   GET /api/v1/flux/NAME/series   its churn history (core/flux/churn.hpp)
  // Thread-safe, short locks only.
  static io::HttpResponse handle_http(const FluxService* service, const io::HttpRequest& req);
  // Whether handle_http() owns `path` (the list, a name, a name's series).
  static bool routes(std::string_view path);
  // GET/HEAD /api/v1/flux/NAME (one name, nothing after it) is open without an admin token, as
  // it was before the admin API (docs/flux.md); the list and the series need one.
  static bool is_open(const io::HttpRequest& req);

 private:
  struct Impl;
  explicit FluxService(std::unique_ptr<Impl> impl);
  io::HttpResponse list(const io::HttpRequest& req) const;
  io::HttpResponse name(const std::string& name, bool series) const;
  std::string extra_json(const std::string& name) const;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gf::app
