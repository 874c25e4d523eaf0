#include "app/front_doors.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "app/admin_api.hpp"
#include "app/akismet_service.hpp"
#include "app/engine.hpp"
#include "app/flux_service.hpp"
#include "app/history_service.hpp"
#include "app/metrics_service.hpp"
#include "app/milter_service.hpp"
#include "app/settings.hpp"
#include "app/spamd_service.hpp"
#include "app/ui_assets.hpp"
#include "core/admin/command.hpp"
#include "core/akismet/protocol.hpp"
#include "core/common/check.hpp"
#include "core/common/ip.hpp"
#include "core/common/strings.hpp"
#include "core/greylist/greylist.hpp"
#include "core/history/rows.hpp"
#include "core/web/static_assets.hpp"
#include "io/store/async_reads.hpp"
#include "io/sys/wall_clock.hpp"

namespace gf::app {
namespace {

// The daemon's time line (io/sys/wall_clock.hpp): system clock steps do not move it.
TimePoint wall_now() { return io::daemon_clock().now(); }

// The listeners of a list setting; load_config() has validated every entry.
std::vector<io::ListenSpec> listen_specs(const Values& v, std::string_view setting) {
  std::vector<io::ListenSpec> out;
  for (const std::string& l : v.list(setting)) {
    auto spec = io::parse_listen(l);
    GF_CHECK_OK(spec, "listen addresses are validated when the config is loaded");
    out.push_back(*spec);
  }
  return out;
}

void log_decision(const policy::Request& r, const greylist::Decision& d) {
  using greylist::Reason;
  if (d.reason == Reason::NotRcpt) {
    spdlog::debug("action=dunno reason=not-rcpt-stage state={}",
                  sanitize_line(r.protocol_state, 32));
    return;
  }
  spdlog::info("action={} reason={} client={}[{}] sender=<{}> recipient=<{}> delay={}s{}",
               greylist::to_string(d.action), greylist::to_string(d.reason),
               sanitize_line(r.client_name, 255), sanitize_line(r.client_address, 64),
               sanitize_line(r.sender, 320), sanitize_line(r.recipient, 320), d.delay_s,
               d.error.empty() ? "" : " error=" + sanitize_line(d.error, 200));
}

io::LineServerOptions policy_options(const Values& v, ConnectionContext contexts,
                                     io::AsyncFrameFn async_frame) {
  io::LineServerOptions o;
  o.name = "policy";
  o.listen = listen_specs(v, "policy.listen");
  o.idle_timeout = v.duration("policy.idle_timeout");
  o.max_connections = static_cast<std::size_t>(v.integer("policy.max_connections"));
  o.connection_context = std::move(contexts);
  o.async_frame = std::move(async_frame);
  // A Postfix request is ~0.5 KiB (a longer one takes a second read): 2 KiB per connection
  // saves two system calls per request (io/net/line_server.hpp).
  o.own_read_buffer = 2048;
  return o;
}

io::LineServerOptions admin_options(const Values& v, io::AsyncFrameFn async_frame) {
  io::LineServerOptions o;
  o.async_frame = std::move(async_frame);
  o.name = "admin";
  o.idle_timeout = v.duration("admin.timeout");
  o.max_connections = static_cast<std::size_t>(v.integer("admin.max_connections"));
  o.unix_mode = 0660;
  o.unix_group = v.str("admin.group");
  if (const std::string& path = v.str("admin.socket"); !path.empty()) {
    o.listen.push_back(io::ListenSpec{true, "", 0, path});
  }
  return o;
}

bool is_loopback(const std::string& host) {
  if (host == "localhost") {
    return true;
  }
  auto ip = parse_ip(host);
  if (!ip) {
    return false;
  }
  return ip->is_v4() ? ip->bytes[12] == 127 : to_string(*ip) == "::1";
}

// One line at start-up when the listener that serves /ui and /api/v1 is reachable from others.
void warn_beyond_loopback(const std::vector<io::ListenSpec>& specs) {
  std::string beyond;
  for (const io::ListenSpec& l : specs) {
    if (!l.is_unix && !is_loopback(l.host)) {
      beyond += (beyond.empty() ? "" : ", ") + l.to_string();
    }
  }
  if (!beyond.empty()) {
    spdlog::warn(
        "http: the dashboard (/ui) and admin API (/api/v1) listen beyond loopback on {}: "
        "they need an admin token, but put TLS in front (admin.secure_cookie) or bind "
        "127.0.0.1",
        beyond);
  }
}

io::HttpServerOptions http_options(const Values& v, ConnectionContext contexts) {
  io::HttpServerOptions o;
  o.name = "http";
  o.listen = listen_specs(v, "http.listen");
  o.body_limit = v.size("http.max_body");
  o.idle_timeout = v.duration("http.idle_timeout");
  o.request_timeout = v.duration("http.request_timeout");
  o.max_connections = static_cast<std::size_t>(v.integer("http.max_connections"));
  o.connection_context = std::move(contexts);
  return o;
}

}  // namespace

// --- policy ---------------------------------------------------------------------------------

PolicyDoor::PolicyDoor(boost::asio::io_context& ioc, ConnectionContext contexts, const Values& v,
                       Engine& engine)
    : engine_(engine),
      server_(ioc,
              policy_options(v, std::move(contexts),
                             engine.reads_async()
                                 ? io::AsyncFrameFn([this](std::string& in, std::string& out,
                                                           const std::string& peer) {
                                     return on_frame_async(in, out, peer);
                                   })
                                 : io::AsyncFrameFn()),
              [this](std::string& in, std::string& out, const std::string& peer) {
                return on_frame(in, out, peer);
              }) {
  limits_.max_request_bytes = v.size("policy.max_request");
  limits_.max_attributes = static_cast<std::size_t>(v.integer("policy.max_attributes"));
  for (const io::ListenSpec& l : listen_specs(v, "policy.listen")) {
    where_ += (where_.empty() ? "" : ", ") + l.to_string();
  }
}

std::string PolicyDoor::where() const { return where_; }

std::optional<io::FrameResult> PolicyDoor::next_request(std::string& in, std::size_t& off,
                                                        policy::ParseOutcome& r) {
  r = policy::parse_request(std::string_view(in).substr(off), limits_);
  off += r.consumed;
  if (r.status == policy::ParseStatus::Error) {
    ++engine_.counters().protocol_errors;
    in.clear();
    return io::FrameResult{io::FrameStatus::Close, r.error};
  }
  return std::nullopt;
}

void PolicyDoor::answer(const policy::Request& req, const greylist::Decision& d, TimePoint now,
                        const std::string& peer, std::chrono::steady_clock::time_point start,
                        std::string& out) {
  if (d.reason == greylist::Reason::StoreFailure) {
    store_warn_.warn(
        fmt::format("store failure, answering {}: {} (peer {})", d.reply, d.error, peer));
  }
  log_decision(req, d);
  if (history_ != nullptr && d.reason != greylist::Reason::NotRcpt) {
    history_->record(history::greylist_row(req, d, to_unix(now), "policy"));
  }
  out += policy::format_reply(d.reply);
  engine_.counters().latency.observe(std::chrono::steady_clock::now() - start);
}

io::FrameResult PolicyDoor::on_frame(std::string& in, std::string& out, const std::string& peer) {
  std::size_t off = 0;
  policy::ParseOutcome r;
  while (true) {
    if (auto closed = next_request(in, off, r)) {
      return *closed;
    }
    if (r.status == policy::ParseStatus::NeedMore) {
      break;
    }
    const auto start = std::chrono::steady_clock::now();
    const TimePoint now = wall_now();
    answer(r.request, engine_.check(r.request, now), now, peer, start, out);
  }
  in.erase(0, off);
  return {};
}

boost::asio::awaitable<io::FrameResult> PolicyDoor::on_frame_async(std::string& in,
                                                                   std::string& out,
                                                                   std::string peer) {
  std::size_t off = 0;
  policy::ParseOutcome r;
  while (true) {
    if (auto closed = next_request(in, off, r)) {
      co_return *closed;
    }
    if (r.status == policy::ParseStatus::NeedMore) {
      break;
    }
    const auto start = std::chrono::steady_clock::now();
    const TimePoint now = wall_now();
    auto begun = engine_.begin(r.request);
    if (auto* early = std::get_if<greylist::Decision>(&begun)) {
      engine_.count(*early);
      answer(r.request, *early, now, peer, start, out);
      continue;
    }
    const auto& look = std::get<greylist::Greylist::Lookup>(begun);
    const io::RecordsResult fetched =
        co_await io::async_get_many(engine_.store(), look.wanted, boost::asio::use_awaitable);
    greylist::Decision decided;
    bool held = false;
    {
      io::RedisWriteBatch batch;  // this decision's writes share the loop's next write
      decided = engine_.finish(r.request, look, fetched, now);
      held = batch.deferred();
    }
    if (held) {
      co_await io::let_batched_writes_out();
    }
    answer(r.request, decided, now, peer, start, out);
  }
  in.erase(0, off);
  co_return io::FrameResult{};
}

// --- http -----------------------------------------------------------------------------------

Result<std::unique_ptr<HttpDoor>> HttpDoor::open(boost::asio::io_context& ioc,
                                                 ConnectionContext contexts, const Values& v,
                                                 Engine& engine, SpamdRuntime& spamd,
                                                 const FluxService* flux, HistoryService* hist,
                                                 io::BlockingPool* blocking) {
  if (v.list("http.listen").empty()) {
    return std::unique_ptr<HttpDoor>();
  }
  auto comments = AkismetService::open(akismet_config(v));
  if (!comments) {
    return tl::unexpected(comments.error());
  }
  std::unique_ptr<HttpDoor> door(new HttpDoor());
  door->spamd_ = &spamd;
  door->flux_ = flux;
  door->blocking_ = blocking;
  door->comments_ = std::move(*comments);
  door->admin_ = std::make_unique<AdminApi>(door->comments_->store(), engine, admin_api_options(v));
  warn_beyond_loopback(listen_specs(v, "http.listen"));
  door->history_ = hist;
  if (hist != nullptr) {
    AkismetService* svc = door->comments_.get();
    svc->set_history([hist](history::Row row) { hist->record(std::move(row)); });
    if (auto ok = hist->attach_store(svc->store(), to_unix(wall_now())); !ok) {
      return tl::unexpected(ok.error());
    }
    hist->set_trainer(history::Door::Comments,
                      [svc](std::string_view payload, bool spam) -> Result<bool> {
                        if (auto ok = svc->relearn(payload, spam, to_unix(wall_now())); !ok) {
                          return tl::unexpected(ok.error());
                        }
                        return true;
                      });
  }
  if (flux != nullptr) {
    // Links to names the fast-flux detector flags are spam evidence in comment checks.
    door->comments_->set_flux_lookup([flux] { return flux->index(); });
  }
  // The learned comment model is snapshotted every model_save_interval, or sooner once
  // model_save_records reports are not in it (feedback itself is logged at once); that bounds
  // the replay at start. On LMDB the snapshot is a few MiB copy on the main loop; on Redis it
  // runs on the blocking pool (below).
  const Millis interval = v.duration("akismet.model_save_interval");
  const auto max_unsaved = static_cast<std::uint64_t>(
      std::max<std::int64_t>(1, v.integer("akismet.model_save_records")));
  auto last_save =
      std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  std::function<void()> save = [svc = door->comments_.get(), interval, max_unsaved, last_save] {
    const auto now = std::chrono::steady_clock::now();
    if (now - *last_save < interval && svc->model_unsaved() < max_unsaved) {
      return;
    }
    *last_save = now;
    if (auto ok = svc->save_model(); !ok) {
      spdlog::error("akismet: cannot save the model: {}", ok.error().message);
    }
  };
  std::function<void()> sync = [svc = door->comments_.get()] {
    auto n = svc->sync_model();
    if (!n) {
      spdlog::warn("akismet: cannot read the shared training log: {}", n.error().message);
    } else if (*n != 0) {
      spdlog::info("akismet: trained on {} feedback records from other nodes", *n);
    }
  };
  if (blocking != nullptr) {
    // On Redis a snapshot is a SET of a few MiB and a sync a read of the log: blocking calls,
    // run on the pool (one at a time each) so that the io thread's connections never wait.
    door->save_task_ = std::make_unique<io::SerialTask>(*blocking, std::move(save));
    door->sync_task_ = std::make_unique<io::SerialTask>(*blocking, std::move(sync));
    save = [t = door->save_task_.get()] { t->trigger(); };
    sync = [t = door->sync_task_.get()] { t->trigger(); };
  }
  door->model_saver_ = std::make_unique<io::PeriodicTimer>(
      ioc, std::min<Millis>(interval, std::chrono::seconds(1)), std::move(save));
  if (v.str("store.backend") == "redis") {
    // Other nodes' submit-spam/ham, from the shared training log (CommentModel::sync()).
    door->model_sync_ = std::make_unique<io::PeriodicTimer>(
        ioc, v.duration("store.model_sync_interval"), std::move(sync));
  }
  HttpDoor* self = door.get();
  io::HttpServerOptions opts = http_options(v, std::move(contexts));
  if (door->comments_->store().reads_async()) {
    opts.async_handler = [self](const io::HttpRequest& r) { return self->route_async(r); };
  }
  door->server_ = std::make_unique<io::HttpServer>(
      ioc, std::move(opts), [self](const io::HttpRequest& r) { return self->route(r); });
  return door;
}

HttpDoor::~HttpDoor() {
  server_.reset();
  if (history_ != nullptr) {
    history_->detach_store();  // its rows live in the comment store, closed below
  }
  comments_.reset();  // saves the model, commits pending writes
}

namespace {

io::HttpResponse ui_asset(const io::HttpRequest& r) {
  web::AssetReply a =
      web::serve_asset(web::ui_assets(), "/ui", r.method, r.path, r.header("if-none-match"));
  io::HttpResponse out;
  out.status = a.status;
  out.content_type = std::string(a.content_type);
  out.headers = std::move(a.headers);
  out.body = std::string(a.body);
  return out;
}

}  // namespace

std::optional<io::HttpResponse> HttpDoor::route_other(const io::HttpRequest& r) {
  if (auto mail = spamd_->http(r)) {  // Rspamd's /checkv2 and /ping
    return mail;
  }
  if (metrics_ != nullptr) {
    if (auto open = metrics_->handle_open(r)) {  // /metrics, /healthz, /readyz: no login
      return open;
    }
  }
  if (r.path == "/ui" || r.path.starts_with("/ui/")) {  // the dashboard's files, no login
    return ui_asset(r);
  }
  if (r.path == "/api/v1" || r.path.starts_with("/api/v1/")) {
    return api(r);
  }
  return std::nullopt;
}

io::HttpResponse HttpDoor::route(const io::HttpRequest& r) {
  if (auto other = route_other(r)) {
    return std::move(*other);
  }
  const auto start = std::chrono::steady_clock::now();
  io::HttpResponse res = comments_->handle(r, to_unix(wall_now()));
  comments_latency_.observe(std::chrono::steady_clock::now() - start);
  return res;
}

namespace {

// How long an io thread's connection waits for a request handed to the blocking pool: a
// backstop (each Redis call gives up after store.redis_timeout, so an answer normally comes
// well before), after which the client gets a 503 and the pool finishes the request alone.
constexpr Millis kBlockingDeadline{5000};

// Requests that make blocking store calls, which route_async() hands to the blocking pool: the
// admin API (its gate reads the token store), /readyz (a probe read), and the comment API's
// endpoints other than comment-check (feedback: compare-and-set scripts and the training log;
// verify-key and the usage reports: reads and scans). The comment-check awaits its one read on
// the io thread (unless akismet.usage_limit is set, see route_async()); /checkv2, /metrics,
// /healthz and /ui make no store call.
bool waits_on_store(const io::HttpRequest& r) {
  if (r.path == "/api/v1" || r.path.starts_with("/api/v1/") || r.path == "/readyz") {
    return true;
  }
  const akismet::Endpoint ep = akismet::endpoint_of(r.path);
  return ep != akismet::Endpoint::Unknown && ep != akismet::Endpoint::CommentCheck &&
         ep != akismet::Endpoint::Test;
}

}  // namespace

boost::asio::awaitable<io::HttpResponse> HttpDoor::route_blocking(const io::HttpRequest& r) {
  // Named, not a temporary inside the co_await (GCC 12): the task owns a copy of the request,
  // which outlives this coroutine when the deadline answers first.
  std::function<io::HttpResponse()> task = [this, req = r] { return route(req); };
  auto done =
      co_await blocking_->async_run(std::move(task), kBlockingDeadline, boost::asio::use_awaitable);
  if (done) {
    co_return std::move(*done);
  }
  blocking_warn_.warn(fmt::format("answering 503 to {} {}: {}", sanitize_line(r.method, 16),
                                  sanitize_line(r.path, 200), done.error().message));
  if (r.path.starts_with("/api/v1")) {
    co_return json_error(503, "store", done.error().message);
  }
  io::HttpResponse out;
  out.status = 503;
  out.body = done.error().message + "\n";
  co_return out;
}

boost::asio::awaitable<io::HttpResponse> HttpDoor::route_async(const io::HttpRequest& r) {
  // With akismet.usage_limit set a comment-check's finish() scans the key's usage too: then the
  // whole check runs on the pool.
  if (blocking_ != nullptr &&
      (waits_on_store(r) || (comments_->finish_scans_usage() &&
                             akismet::endpoint_of(r.path) == akismet::Endpoint::CommentCheck))) {
    io::HttpResponse res = co_await route_blocking(r);
    co_return res;
  }
  if (auto other = route_other(r)) {
    co_return std::move(*other);
  }
  const auto start = std::chrono::steady_clock::now();
  auto begun = comments_->begin(r, to_unix(wall_now()));
  io::HttpResponse res;
  if (auto* done = std::get_if<io::HttpResponse>(&begun)) {
    res = std::move(*done);
  } else {
    auto& pending = *std::get<AkismetService::Pending>(begun);
    const io::ValuesResult stored = co_await io::async_get_values(comments_->store(), pending.reads,
                                                                  boost::asio::use_awaitable);
    bool held = false;
    {
      io::RedisWriteBatch batch;  // the stored check and its usage count: the loop's next write
      res = comments_->finish(pending, stored);
      held = batch.deferred();
    }
    if (held) {
      co_await io::let_batched_writes_out();
    }
  }
  comments_latency_.observe(std::chrono::steady_clock::now() - start);
  co_return res;
}

io::HttpResponse HttpDoor::api(const io::HttpRequest& r) {
  // Open as it always was (docs/flux.md, the flux tests): one name's flux verdict.
  if (FluxService::is_open(r)) {
    return FluxService::handle_http(flux_, r);
  }
  const TimePoint now = wall_now();
  if (auto session = admin_->session_route(r, now)) {  // login, logout, session
    return std::move(*session);
  }
  if (auto refused = admin_->gate(r, now)) {
    return std::move(*refused);
  }
  // Authenticated from here on (bearer token, or session cookie + CSRF for changes).
  if (auto greylist = admin_->greylist_route(r)) {
    return std::move(*greylist);
  }
  if (HistoryService::routes(r.path)) {  // the decision history and relearning from it
    return history_ != nullptr
               ? history_->handle(r)
               : json_error(503, "history_off", "the decision history is off ([history] size = 0)");
  }
  if (FluxService::routes(r.path)) {
    return FluxService::handle_http(flux_, r);  // the ranked list, a name's churn series
  }
  if (metrics_ != nullptr) {
    if (auto status = metrics_->handle_api(r)) {  // /api/v1/status, /api/v1/stats/series
      return std::move(*status);
    }
  }
  return json_error(404, "not_found", "no such API route");
}

Result<void> HttpDoor::start() {
  if (auto ok = server_->start(); !ok) {
    return ok;
  }
  model_saver_->start();
  if (model_sync_) {
    model_sync_->start();
  }
  return {};
}

void HttpDoor::drain() {
  model_saver_->stop();
  if (model_sync_) {
    model_sync_->stop();
  }
  server_->drain();
}

// --- admin ----------------------------------------------------------------------------------

AdminDoor::AdminDoor(boost::asio::io_context& ioc, const Values& v, Engine& engine,
                     const PolicyDoor& policy, AkismetService* comments,
                     const MilterRuntime* milter, SpamdRuntime* spamd, io::BlockingPool* blocking)
    : engine_(engine),
      policy_(policy),
      comments_(comments),
      milter_(milter),
      spamd_(spamd),
      blocking_(blocking),
      server_(ioc,
              admin_options(v, blocking != nullptr ? admin_on_pool(*this) : io::AsyncFrameFn()),
              [this](std::string& in, std::string& out, const std::string&) {
                return on_frame(in, out);
              }) {}

io::AsyncFrameFn AdminDoor::admin_on_pool(AdminDoor& door) {
  // Each command on blocking_ (its store calls block), awaited; a refusal (busy) is the
  // command's error line.
  return [&door](std::string& in, std::string& out, const std::string& peer) {
    return io::frame_on_pool(
        *door.blocking_,
        [&door](std::string& i, std::string& o, const std::string&) { return door.on_frame(i, o); },
        in, out, peer,
        [](const Error& why, std::string& o) {
          o += fmt::format("error: {}\n", why.message);
          return io::FrameResult{io::FrameStatus::Close, ""};
        });
  };
}

io::FrameResult AdminDoor::on_frame(std::string& in, std::string& out) {
  const admin::FrameOutcome frame = admin::frame_command(in);
  if (frame.status == admin::FrameStatus::NeedMore) {
    return {};
  }
  if (frame.status == admin::FrameStatus::Error) {
    return {io::FrameStatus::Close, frame.error};
  }
  spdlog::info("admin: {}", sanitize_line(frame.line, 200));
  const auto cmd = admin::parse_command(frame.line);
  if (!cmd) {
    out = fmt::format("error: {}\n", cmd.error().message);
    return {io::FrameStatus::Close, ""};
  }
  out = engine_.admin(*cmd, &policy_.stats());
  if (comments_ != nullptr && cmd->verb == admin::Verb::Stats && out.starts_with("ok\n")) {
    out += comments_->stats_text();
  }
  if (blocking_ != nullptr && cmd->verb == admin::Verb::Stats && out.starts_with("ok\n")) {
    const io::BlockingPoolStats& b = blocking_->stats();
    out += fmt::format(
        "store_calls.pending\t{}\nstore_calls.done\t{}\nstore_calls.refused\t{}\n"
        "store_calls.timed_out\t{}\n",
        b.pending.load(), b.done.load(), b.refused.load(), b.timed_out.load());
  }
  if (milter_ != nullptr && cmd->verb == admin::Verb::Stats && out.starts_with("ok\n")) {
    out += milter_->stats_text();
  }
  if (spamd_ != nullptr && spamd_->service() != nullptr && cmd->verb == admin::Verb::Stats &&
      out.starts_with("ok\n")) {
    const SpamdCounters& c = spamd_->service()->counters();
    out += fmt::format(
        "spamd.checked\t{}\nspamd.spam\t{}\nspamd.protocol_errors\t{}\n"
        "spamd.empty_connections\t{}\n",
        c.checked.load(), c.spam.load(), c.protocol_errors.load(), c.empty_connections.load());
    out += spamd_->service()->shared_stats_text();
  }
  return {io::FrameStatus::Close, ""};
}

}  // namespace gf::app
