#include "app/daemon.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <csignal>
#include <cstdint>
#include <cstdio>

#include "app/akismet_service.hpp"
#include "app/config.hpp"
#include "app/engine.hpp"
#include "app/flux_service.hpp"
#include "app/front_doors.hpp"
#include "app/history_service.hpp"
#include "app/metrics_service.hpp"
#include "app/milter_service.hpp"
#include "app/paths.hpp"
#include "app/redis_wiring.hpp"
#include "app/settings.hpp"
#include "app/spamd_service.hpp"
#include "core/common/check.hpp"
#include "gf_version.hpp"
#include "io/net/blocking_pool.hpp"
#include "io/net/io_pool.hpp"
#include "io/net/periodic_timer.hpp"
#include "io/store/redis_client.hpp"
#include "io/sys/wall_clock.hpp"

namespace gf::app {

namespace asio = boost::asio;

namespace {

// The daemon's time line (io/sys/wall_clock.hpp): system clock steps do not move it.
TimePoint wall_now() { return io::daemon_clock().now(); }

// Every connection is a descriptor: the soft RLIMIT_NOFILE goes up to the hard one (the unit's
// LimitNOFILE), and the ready line says what it is, since it bounds the connections served at
// once. The soft limit before the raise (0: unknown).
rlim_t g_fd_limit_before = 0;

void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    return;
  }
  g_fd_limit_before = rl.rlim_cur;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &rl);  // the ready line shows what it is
  }
}

// jemalloc's control call when the binary is linked with jemalloc (GF_JEMALLOC), else null.
extern "C" int mallctl(const char* name, void* old, std::size_t* old_len, void* value,
                       std::size_t len) __attribute__((weak));

// jemalloc hands freed pages back to the system only inside later malloc/free calls; its
// background thread does it on the decay schedule (10 s) even while the daemon is idle. Without
// it, after 10,000 idle connections closed the RSS stayed near its peak (93 -> 85 MiB against
// 33 MiB before) until traffic came back. Started after the privilege drop: the thread blocks
// every signal, so the per-thread capability drop could not reach it.
void start_allocator_purging() {
  if (mallctl != nullptr) {
    bool on = true;
    (void)mallctl("background_thread", nullptr, nullptr, &on, sizeof on);
  }
}

std::string fd_limit_text() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    return "unknown";
  }
  if (rl.rlim_cur == g_fd_limit_before) {
    return fmt::format("{} (hard limit {})", rl.rlim_cur, rl.rlim_max);
  }
  return fmt::format("{} (raised from {} to the hard limit)", rl.rlim_cur, g_fd_limit_before);
}

void log_whitelist_warnings(const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) {
    spdlog::warn("whitelist: {}", w);
  }
}

}  // namespace

struct Daemon::Signals {
  explicit Signals(asio::io_context& ioc) : set(ioc, SIGTERM, SIGINT, SIGHUP) {}
  asio::signal_set set;
};

void setup_logging(const std::string& level, const std::string& file) {
  // Synchronous sinks on fully buffered streams: a decision line costs a formatted fwrite into
  // a buffer, not a thread wake-up (an async queue signals its thread once per line, which at
  // 50,000 decisions a second costs more than the decisions). Buffers are flushed every second
  // and at once for warnings and errors.
  std::shared_ptr<spdlog::logger> logger;
  if (file.empty()) {
    static char buf[1 << 16];
    std::setvbuf(stderr, buf, _IOFBF, sizeof buf);
    logger = spdlog::stderr_logger_mt("greyflux");
  } else {
    logger = spdlog::basic_logger_mt("greyflux", file);
  }
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %L %v");
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));
  // GF_BUG branches taken in release builds go to the log with the rest.
  set_bug_handler([](std::string_view report) { spdlog::error("bug: {}", report); });
}

Daemon::Daemon(std::string config_path, std::vector<std::string> overrides)
    : config_path_(std::move(config_path)), overrides_(std::move(overrides)) {}

Daemon::~Daemon() {
  if (hard_stop_.joinable()) {
    hard_stop_.join();
  }
}

Result<void> Daemon::start() {
  (void)io::daemon_clock();  // the daemon's time line starts here (steps are seen from now on)
  // A SIGHUP before the signal set exists would end the process (the default action): ignore
  // it until then (the config is being read anyway). The set is in place before the listeners
  // open, since a kernel completes connections on a listening socket before the loop runs: a
  // client (or a test) that could connect and then sent SIGHUP killed a daemon still starting.
  std::signal(SIGHUP, SIG_IGN);
  for (auto step : {&Daemon::load_settings, &Daemon::open_services}) {
    if (auto ok = (this->*step)(); !ok) {
      return ok;
    }
  }
  watch_signals();  // handled once the loop runs; a signal before then waits for it
  for (auto step : {&Daemon::open_doors, &Daemon::drop_privileges}) {
    if (auto ok = (this->*step)(); !ok) {
      return ok;
    }
  }
  start_allocator_purging();
  log_ready();
  return {};
}

Result<void> Daemon::load_settings() {
  auto values = load_config(config_path_, overrides_);
  if (!values) {
    return tl::unexpected(values.error());
  }
  values_ = std::make_unique<Values>(std::move(*values));
  const Values& v = *values_;
  if (auto ok = decide_user(); !ok) {
    return ok;
  }
  try {
    setup_logging(v.str("log.level"), v.str("log.file"));
  } catch (const std::exception& e) {
    return fail(Errc::Config, fmt::format("cannot open log: {}", e.what()));
  }
  logs_to_file_ = !v.str("log.file").empty();
  if (auto ok = prepare_state_dirs(v); !ok) {
    return ok;
  }
  return refuse_world_writable(v, config_path_);
}

Result<void> Daemon::decide_user() {
  const Values& v = *values_;
  auto action =
      decide_privileges(PrivilegeRequest{::geteuid(), v.str("daemon.user"), v.str("daemon.group")});
  if (!action) {
    return tl::unexpected(action.error());
  }
  privileges_ = *action;
  if (privileges_ != PrivilegeAction::Drop) {
    return {};
  }
  auto who = io::lookup_identity(v.str("daemon.user"), v.str("daemon.group"));
  if (!who) {
    return tl::unexpected(who.error());
  }
  drop_to_ = std::move(*who);
  return check_drop_target(drop_to_.user, drop_to_.uid, drop_to_.gid);
}

Result<void> Daemon::drop_privileges() {
  const Values& v = *values_;
  if (privileges_ == PrivilegeAction::KeepRoot) {
    spdlog::info("running as root: daemon.user = \"root\"");
    return {};
  }
  if (privileges_ == PrivilegeAction::Unprivileged) {
    // systemd's AmbientCapabilities= (port 783) is needed only until the listeners are bound.
    return io::has_capabilities() ? io::drop_capabilities() : Result<void>{};
  }
  // The state files greyflux created or opened as root go to the user it becomes: the data
  // directory, and each state path under it (an LMDB directory with its files).
  const std::string& data_dir = v.str("daemon.data_dir");
  if (auto ok = io::give_to(data_dir, drop_to_, false); !ok) {
    return ok;
  }
  for (const SettingDef& d : settings_table()) {
    const std::string& p = d.type == SettingType::StatePath ? v.str(d.name) : data_dir;
    if (p != data_dir && p.starts_with(data_dir + "/")) {
      io::Identity who = drop_to_;
      if (std::string_view(d.name) == "admin.socket" && !v.str("admin.group").empty()) {
        // The admin socket keeps admin.group (set when it was created, front_doors.cpp).
        auto admin = io::lookup_identity(drop_to_.user, v.str("admin.group"));
        if (!admin) {
          return tl::unexpected(admin.error());
        }
        who.gid = admin->gid;
      }
      if (auto ok = io::give_to(p, who, true); !ok) {
        return ok;
      }
    }
  }
  if (auto ok = io::drop_to(drop_to_); !ok) {
    return ok;
  }
  spdlog::info("dropped privileges to user {} (uid {}, gid {})", drop_to_.user, drop_to_.uid,
               drop_to_.gid);
  return {};
}

Result<void> Daemon::open_services() {
  const Values& v = *values_;
  std::vector<std::string> warnings;
  auto policy = build_policy(v, warnings);
  if (!policy) {
    return tl::unexpected(policy.error());
  }
  log_whitelist_warnings(warnings);
  raise_fd_limit();
  auto engine = Engine::open(v, *policy);
  if (!engine) {
    return tl::unexpected(engine.error());
  }
  engine_ = std::move(*engine);
  auto flux = FluxService::start(v);
  if (!flux) {
    return fail(flux.error().code, "flux: " + flux.error().message);
  }
  flux_ = std::move(*flux);
  if (const FluxService* fs = flux_.get(); fs != nullptr) {
    // A client the detector saw serving a flux name is an infected host (greylist.flux_agents).
    engine_->set_flux_agents([fs](const IpAddress& ip) {
      const auto index = fs->index();
      return index && index->is_agent(ip);
    });
  }
  threads_ = static_cast<int>(v.integer("policy.threads"));
  if (threads_ <= 0) {
    threads_ = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  pool_ = std::make_unique<io::IoPool>(threads_);  // one io_context per thread
  if (v.str("store.backend") == "redis") {
    // The admin API, the admin socket, feedback, snapshots and the shared logs' polls make
    // blocking Redis calls: they run on threads of their own, never on an io thread.
    blocking_ = std::make_unique<io::BlockingPool>(io::BlockingPool::Options{"store-calls", 4, 64});
  }
  history_ = HistoryService::open(v);
  return {};
}

// The front doors, in the order they are built and then bound.
Result<void> Daemon::open_doors() {
  const Values& v = *values_;
  asio::io_context& ioc = pool_->main();
  io::IoPool* pool = pool_.get();
  const ConnectionContext contexts = [pool]() -> asio::io_context& { return pool->next(); };
  spamd_ = std::make_unique<SpamdRuntime>();
  milter_ = std::make_unique<MilterRuntime>();

  policy_ = std::make_unique<PolicyDoor>(ioc, contexts, v, *engine_);
  HistoryService* hist = history_->enabled() ? history_.get() : nullptr;
  policy_->set_history(hist);
  milter_->set_history(hist);
  if (flux_) {
    flux_->set_history(hist);
  }
  auto http =
      HttpDoor::open(ioc, contexts, v, *engine_, *spamd_, flux_.get(), hist, blocking_.get());
  if (!http) {
    return tl::unexpected(http.error());
  }
  http_ = std::move(*http);
  admin_ =
      std::make_unique<AdminDoor>(ioc, v, *engine_, *policy_, http_ ? &http_->comments() : nullptr,
                                  milter_.get(), spamd_.get(), blocking_.get());

  if (auto ok = policy_->start(); !ok) {
    return ok;
  }
  if (auto ok = admin_->start(); !ok) {
    return ok;
  }
  if (http_) {
    if (auto ok = http_->start(); !ok) {
      return ok;
    }
  }
  SpamdService::FluxLookup mail_flux;
  if (const FluxService* fs = flux_.get(); fs != nullptr) {
    mail_flux = [fs] { return fs->index(); };  // URI_FLUX from the live detector
  }
  if (auto ok = spamd_->start(ioc, contexts, v, std::move(mail_flux), blocking_.get()); !ok) {
    return ok;
  }
  if (const SpamdService* svc = spamd_->service(); svc != nullptr && !flux_) {
    // No live detector: the agents in spamd.flux_rpz (rpz-ip rules that `greyflux flux scan`
    // writes) are the flux agents of greylist.flux_agents.
    engine_->set_flux_agents([svc](const IpAddress& ip) {
      const auto index = svc->flux();
      return index && index->is_agent(ip);
    });
  }
  if (SpamdService* svc = spamd_->service(); svc != nullptr && hist != nullptr) {
    // The scans are logged with what TELL needs, and relearning them is TELL's learn.
    svc->set_history(hist);
    hist->set_trainer(history::Door::Mail, [svc](std::string_view payload, bool spam) {
      return svc->relearn(payload, spam);
    });
  }
  if (hist != nullptr) {
    history_->start();  // its own thread, joined in drain()
  }
  if (blocking_ && !v.list("milter.listen").empty()) {
    // A milter connection waits for at most one packet's answer at a time.
    milter_pool_ = std::make_unique<io::BlockingPool>(io::BlockingPool::Options{
        "milter", 4, static_cast<std::size_t>(v.integer("milter.max_connections"))});
  }
  if (auto ok = milter_->start(ioc, contexts, v, *engine_, spamd_->service(), milter_pool_.get());
      !ok) {
    return ok;
  }

  Engine* engine = engine_.get();
  expiry_ = std::make_unique<io::PeriodicTimer>(ioc, std::chrono::seconds(1),
                                                [engine] { engine->expire_step(wall_now()); });
  if (v.str("store.backend") == "memory") {
    expiry_->start();
  }
  start_metrics(ioc);
  return {};
}

// /metrics and the overview series read every door's counters; wired once the doors exist.
void Daemon::start_metrics(asio::io_context& ioc) {
  metrics_ = std::make_unique<MetricsService>(*values_);
  MetricsSources s;
  s.engine = engine_.get();
  s.policy = policy_.get();
  if (http_) {
    s.comments = &http_->comments();
    s.comments_latency = &http_->comments_latency();
    s.http = &http_->server_stats();
    http_->set_metrics(metrics_.get());
  }
  s.spamd = spamd_.get();
  s.milter = milter_.get();
  s.flux = flux_.get();
  s.admin = &admin_->stats();
  metrics_->set_sources(s);
  MetricsService* m = metrics_.get();
  m->sample(wall_now());  // the baseline: the charts count from here
  sampler_ = std::make_unique<io::PeriodicTimer>(ioc, std::chrono::seconds(10),
                                                 [m] { m->sample(wall_now()); });
  sampler_->start();
}

void Daemon::watch_signals() {
  if (!signals_) {
    signals_ = std::make_unique<Signals>(pool_->main());
  }
  signals_->set.async_wait([this](boost::system::error_code ec, int sig) {
    if (ec) {
      return;
    }
    if (sig == SIGHUP) {
      reload();
      watch_signals();
      return;
    }
    drain(sig);
  });
}

void Daemon::reload() {
  auto fresh = load_config(config_path_, overrides_);
  std::vector<std::string> w;
  auto pol = fresh ? build_policy(*fresh, w)
                   : Result<std::shared_ptr<const greylist::Policy>>(tl::unexpected(fresh.error()));
  if (!pol) {
    spdlog::error("reload failed, keeping the old config: {}", pol.error().message);
    return;
  }
  log_whitelist_warnings(w);
  engine_->set_policy(*pol);
  spamd_->reload(*fresh);
  milter_->reload(*fresh);
  history_->reload(*fresh);
  spdlog::set_level(spdlog::level::from_str(fresh->str("log.level")));
  for (const SettingDef& d : settings_table()) {
    if (!d.reloadable && fresh->get(d.name) != values_->get(d.name)) {
      spdlog::warn("reload: {} changed; it takes effect only after a restart", d.name);
    }
  }
  spdlog::info("reloaded {}: {} client and {} recipient whitelist entries", config_path_,
               (*pol)->clients.size(), (*pol)->recipients.size());
}

void Daemon::drain(int sig) {
  spdlog::info("signal {}: draining connections", sig);
  expiry_->stop();
  sampler_->stop();
  history_->stop();
  policy_->drain();
  if (http_) {
    http_->drain();
  }
  admin_->drain();
  spamd_->drain();
  milter_->drain();
  if (redis_) {
    redis_->detach_loops();  // their connections stop once their replies are in
  }
  // Connections get a few seconds to finish; then the loop is stopped regardless.
  hard_stop_ = std::thread([this] {
    std::unique_lock lock(done_mu_);
    if (!done_cv_.wait_for(lock, std::chrono::seconds(5), [this] { return done_; })) {
      spdlog::warn("drain timed out; stopping");
      pool_->stop();
    }
  });
}

void Daemon::log_ready() const {
  const Values& v = *values_;
  std::string http_where;
  for (const std::string& l : v.list("http.listen")) {
    http_where += (http_where.empty() ? "" : ", ") + l;
  }
  // Where the store is: LMDB's file, or the Redis URL (password shown as ***); not LMDB's
  // path for a Redis store, which reads as if the state were local.
  std::string store_where = v.str("store.path");
  if (v.str("store.backend") == "redis") {
    auto opts = redis_options(v);  // validated with the config: a failure is not expected
    store_where = opts ? redis_store_name(*opts) : "(unparsable store.redis_url)";
  } else if (v.str("store.backend") == "memory") {
    store_where = "(memory, lost at exit)";
  }
  spdlog::info(
      "greyflux {} ready: policy on {}, comment API on {}, store {} at {}, data in {}, {} threads, "
      "open files limit {}",
      kVersion, policy_->where(), http_where.empty() ? "(off)" : http_where, v.str("store.backend"),
      store_where, v.str("daemon.data_dir"), threads_, fd_limit_text());
}

void Daemon::run() {
  if (values_->str("store.backend") == "redis") {
    // The client the stores share (redis_wiring.cpp); each io thread drives connections of its
    // own for the reads it awaits and the writes it sends.
    if (auto opts = redis_options(*values_)) {
      if (auto client = shared_redis_client(*opts)) {
        redis_ = std::move(*client);
        redis_->attach_loops(pool_->contexts());
      }
    }
  }
  pool_->run();
  redis_.reset();  // the stores still hold it, calling from this thread (the Redis thread's path)
  {
    std::lock_guard lock(done_mu_);
    done_ = true;
  }
  done_cv_.notify_all();
  if (hard_stop_.joinable()) {
    hard_stop_.join();
  }
  if (blocking_) {
    blocking_->join();  // its tasks use the doors and services closed below
  }
  if (milter_pool_) {
    milter_pool_->join();
  }
  http_.reset();     // saves the comment model, commits pending writes
  spamd_->finish();  // saves the mail model if it changed
  history_.reset();  // writes the last history changes
  flux_.reset();     // stops the flux sources, writes the RPZ a last time
  engine_.reset();   // commits pending writes
  spdlog::info("greyflux stopped");
  spdlog::shutdown();
}

int serve(const std::string& config_path, const std::vector<std::string>& overrides) {
  Daemon daemon(config_path, overrides);
  if (auto ok = daemon.start(); !ok) {
    // The one fatal start-up path: one line on standard error, and the same line in the log
    // when the log is a file (when it is standard error, that one line is enough).
    if (daemon.logs_to_file()) {
      spdlog::critical("{}", ok.error().message);
    }
    spdlog::shutdown();
    std::fprintf(stderr, "greyflux: %s\n", ok.error().message.c_str());
    return 2;
  }
  daemon.run();
  return 0;
}

}  // namespace gf::app
