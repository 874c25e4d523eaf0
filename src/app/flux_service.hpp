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
#include <thread>

#include "app/settings.hpp"
#include "core/common/result.hpp"
#include "core/flux/lookup.hpp"
#include "io/net/http_server.hpp"

namespace gf::app {

class FluxService {
 public:
  // Null when no [flux] source is configured.
  [[nodiscard]] static Result<std::unique_ptr<FluxService>> start(const Values& v);
  ~FluxService();
  FluxService(const FluxService&) = delete;
  FluxService& operator=(const FluxService&) = delete;

  std::shared_ptr<const flux::FluxIndex> index() const;

  // GET /api/v1/flux/NAME: 200 with the JSON verdict of a tracked name (or of the listed flux
  // name it lies below), 404 for a name never seen, 405 for other methods, 400 for a bad name.
  // `service` may be null (no [flux] source configured): 503. Thread-safe, short lock only.
  static io::HttpResponse handle_http(const FluxService* service, const io::HttpRequest& req);

 private:
  struct Impl;
  explicit FluxService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gf::app
