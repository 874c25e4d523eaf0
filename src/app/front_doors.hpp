#pragma once
// The front doors of `greyflux serve`, each wired in one named place: the listener, its options
// from the settings, and the function that hands the bytes to a core service. They decide
// nothing: the policy door calls policy::parse_request and Engine::check, the HTTP door routes
// to the comment API (AkismetService), the Rspamd endpoints (SpamdRuntime) and the flux API
// (FluxService), the admin door to Engine::admin. The spamd door is SpamdRuntime
// (spamd_service.hpp) and the flux collectors FluxService (flux_service.hpp).
//
// Lifetime: a door is built on the daemon's main io_context and must not move (its listener's
// callbacks point at it); the Daemon owns each one in a unique_ptr. Construction binds nothing:
// start() binds the listeners and its error is a start-up error. drain() stops accepting and
// lets open connections finish (SIGTERM).
//
// Threading: the frame and request functions run on the io_context of their connection, many at
// once; everything they touch (Engine, the services) is thread-safe.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/common/result.hpp"
#include "core/greylist/greylist.hpp"
#include "core/metrics/metrics.hpp"
#include "core/policy/request.hpp"
#include "io/net/blocking_pool.hpp"
#include "io/net/http_server.hpp"
#include "io/net/line_server.hpp"
#include "io/net/periodic_timer.hpp"
#include "io/net/pool_frame.hpp"
#include "io/sys/rate_limited_log.hpp"

namespace boost::asio {
class io_context;
}

namespace gf::app {

class AdminApi;
class AkismetService;
class Engine;
class FluxService;
class MetricsService;
class HistoryService;
class MilterRuntime;
class SpamdRuntime;
class Values;

// Where a new connection lives (io::IoPool::next).
using ConnectionContext = std::function<boost::asio::io_context&()>;

// Postfix policy delegation on policy.listen (TCP and unix sockets): bytes ->
// policy::parse_request -> Engine::check -> policy::format_reply; one log line per decision.
class PolicyDoor {
 public:
  PolicyDoor(boost::asio::io_context& ioc, ConnectionContext contexts, const Values& v,
             Engine& engine);
  [[nodiscard]] Result<void> start() { return server_.start(); }
  void drain() { server_.drain(); }
  [[nodiscard]] const io::LineServerStats& stats() const { return server_.stats(); }
  [[nodiscard]] std::string where() const;  // "127.0.0.1:10023, unix:/run/x.sock"
  // The decision history (may be null): one row per RCPT-stage decision. Call before start().
  void set_history(HistoryService* h) { history_ = h; }

 private:
  io::FrameResult on_frame(std::string& in, std::string& out, const std::string& peer);
  // on_frame() on a store whose reads do not block (Redis): each decision's one read is awaited,
  // so the io thread serves other connections meanwhile.
  boost::asio::awaitable<io::FrameResult> on_frame_async(std::string& in, std::string& out,
                                                         std::string peer);
  // Parses the next request of `in` from `off`; Close on garbage.
  std::optional<io::FrameResult> next_request(std::string& in, std::size_t& off,
                                              policy::ParseOutcome& r);
  void answer(const policy::Request& req, const greylist::Decision& d, TimePoint now,
              const std::string& peer, std::chrono::steady_clock::time_point start,
              std::string& out);

  Engine& engine_;
  HistoryService* history_ = nullptr;
  policy::Limits limits_;
  std::string where_;
  // Store failures repeat per request while the store is down: one line a minute (the store
  // logs its own cause once per outage).
  io::RateLimitedLog store_warn_{std::chrono::minutes(1)};
  io::LineServer server_;  // last: its callback uses the members above
};

// The [http] listener (off when http.listen is empty): the Akismet-compatible comment API, with
// Rspamd's /checkv2 and /ping when the mail scanner runs, the dashboard under /ui, and the admin
// REST API under /api/v1 (app/admin_api.hpp: login, the auth gate, greylist and whitelist; the
// flux verdict GET /api/v1/flux/NAME stays open as it was). Owns the comment service, its
// model-snapshot timer and the admin API.
class HttpDoor {
 public:
  // Opens the comment store (a start-up error when it cannot be opened). `engine`, `spamd`, `flux`
  // and `history` (both may be null) must outlive the door. With a history, comment-checks are
  // logged there, /api/v1/history is served, and the comment and mail trainers are set.
  // `blocking` (null on LMDB and the memory store): the pool that runs every request but the
  // comment-check that makes blocking store calls (the admin API, the comment API's feedback and
  // key endpoints, /readyz) and the model snapshot and sync ticks, off the io threads; it must be
  // joined before the door is destroyed.
  [[nodiscard]] static Result<std::unique_ptr<HttpDoor>> open(
      boost::asio::io_context& ioc, ConnectionContext contexts, const Values& v, Engine& engine,
      SpamdRuntime& spamd, const FluxService* flux, HistoryService* hist = nullptr,
      io::BlockingPool* blocking = nullptr);
  ~HttpDoor();  // the server first, then the service (saves the model, commits)
  HttpDoor(const HttpDoor&) = delete;
  HttpDoor& operator=(const HttpDoor&) = delete;

  [[nodiscard]] Result<void> start();  // binds, starts the model-snapshot timer
  void drain();                        // stops the timer, drains the server
  [[nodiscard]] AkismetService& comments() { return *comments_; }
  // /metrics, /healthz, /readyz and the status and series API; set once, before serving.
  void set_metrics(MetricsService* metrics) { metrics_ = metrics; }
  [[nodiscard]] const io::HttpServerStats& server_stats() const { return server_->stats(); }
  // Akismet-compatible requests (the comment API), handler time.
  [[nodiscard]] const metrics::Histogram& comments_latency() const { return comments_latency_; }

 private:
  HttpDoor() = default;
  io::HttpResponse route(const io::HttpRequest& r);
  // Everything but the comment API (nullopt: a comment API request).
  std::optional<io::HttpResponse> route_other(const io::HttpRequest& r);
  // route() on a comment store whose reads do not block (Redis): the check's read is awaited,
  // and a request that makes blocking store calls (waits_on_store()) runs on blocking_.
  boost::asio::awaitable<io::HttpResponse> route_async(const io::HttpRequest& r);
  // route() of a copy of `r` on blocking_; a 503 naming the cause when the pool is busy or the
  // answer takes longer than kBlockingDeadline.
  boost::asio::awaitable<io::HttpResponse> route_blocking(const io::HttpRequest& r);
  // Every /api/v1 request: login/logout/session, the auth gate, then each area's routes.
  io::HttpResponse api(const io::HttpRequest& r);

  SpamdRuntime* spamd_ = nullptr;
  const FluxService* flux_ = nullptr;
  MetricsService* metrics_ = nullptr;
  metrics::Histogram comments_latency_;
  HistoryService* history_ = nullptr;
  std::unique_ptr<AkismetService> comments_;
  std::unique_ptr<AdminApi> admin_;  // keeps its tokens in comments_'s store
  std::unique_ptr<io::PeriodicTimer> model_saver_;
  std::unique_ptr<io::PeriodicTimer> model_sync_;  // shared store: other nodes' feedback
  io::BlockingPool* blocking_ = nullptr;  // Redis: blocking requests and the ticks run there
  io::RateLimitedLog blocking_warn_{std::chrono::minutes(1)};  // its 503 answers
  std::unique_ptr<io::SerialTask> save_task_, sync_task_;      // the ticks' work, on blocking_
  std::unique_ptr<io::HttpServer> server_;  // last: destroyed first, its handler uses the above
};

// The admin unix socket (admin.socket; off when empty), mode 0660, group admin.group (default
// the daemon's own), created so from its first moment: one command line per
// connection -> Engine::admin (plus the comment API's counters for `stats`), the reply, close.
class AdminDoor {
 public:
  // `policy` gives `stats` its connection counters; `comments` may be null (no [http]), and
  // `milter` (may be null) adds the milter's counters.
  // `spamd` (may be null) adds the shared mail training log's counters when it runs.
  // `blocking` (null on LMDB and the memory store): each command runs there, off the io thread
  // (its store calls block); it must be joined before the door is destroyed.
  AdminDoor(boost::asio::io_context& ioc, const Values& v, Engine& engine, const PolicyDoor& policy,
            AkismetService* comments, const MilterRuntime* milter = nullptr,
            SpamdRuntime* spamd = nullptr, io::BlockingPool* blocking = nullptr);
  [[nodiscard]] Result<void> start() { return server_.start(); }
  void drain() { server_.drain(); }
  [[nodiscard]] const io::LineServerStats& stats() const { return server_.stats(); }

 private:
  io::FrameResult on_frame(std::string& in, std::string& out);
  // The admin socket's frame when blocking_ is set: on_frame() on the pool, awaited.
  static io::AsyncFrameFn admin_on_pool(AdminDoor& door);

  Engine& engine_;
  const PolicyDoor& policy_;
  AkismetService* comments_;
  const MilterRuntime* milter_;
  SpamdRuntime* spamd_;
  io::BlockingPool* blocking_;
  io::LineServer server_;  // last: its callback uses the members above
};

}  // namespace gf::app
