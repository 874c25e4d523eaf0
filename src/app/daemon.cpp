#include "app/daemon.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <thread>

#include "app/akismet_service.hpp"
#include "app/config.hpp"
#include "app/engine.hpp"
#include "app/flux_service.hpp"
#include "app/paths.hpp"
#include "app/spamd_service.hpp"
#include "core/common/check.hpp"
#include "core/common/strings.hpp"
#include "gf_version.hpp"
#include "io/net/http_server.hpp"
#include "io/net/io_pool.hpp"
#include "io/net/line_server.hpp"
#include "io/net/periodic_timer.hpp"
#include "io/sys/rate_limited_log.hpp"

namespace gf::app {

namespace asio = boost::asio;

namespace {

TimePoint wall_now() { return std::chrono::floor<Seconds>(std::chrono::system_clock::now()); }

void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
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

std::vector<io::ListenSpec> listen_specs(const Values& v) {
  std::vector<io::ListenSpec> out;
  for (const std::string& l : v.list("policy.listen")) {
    auto spec = io::parse_listen(l);
    GF_CHECK_OK(spec, "policy.listen is validated when the config is loaded");
    out.push_back(*spec);
  }
  return out;
}

// The one fatal start-up path: one line on standard error, and the same line in the log when
// the log is a file (when it is standard error, that one line is enough).
int fatal(const Values& v, const std::string& message) {
  if (!v.str("log.file").empty()) {
    spdlog::critical("{}", message);
  }
  spdlog::shutdown();
  std::fprintf(stderr, "greyflux: %s\n", message.c_str());
  return 2;
}

}  // namespace

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

int serve(const std::string& config_path, const std::vector<std::string>& overrides) {
  auto values = load_config(config_path, overrides);
  if (!values) {
    std::fprintf(stderr, "greyflux: %s\n", values.error().message.c_str());
    return 2;
  }
  try {
    setup_logging(values->str("log.level"), values->str("log.file"));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "greyflux: cannot open log: %s\n", e.what());
    return 2;
  }
  if (auto dirs = prepare_state_dirs(*values); !dirs) {
    return fatal(*values, dirs.error().message);
  }
  std::vector<std::string> warnings;
  auto policy = build_policy(*values, warnings);
  if (!policy) {
    return fatal(*values, policy.error().message);
  }
  for (const auto& w : warnings) {
    spdlog::warn("whitelist: {}", w);
  }
  raise_fd_limit();
  auto engine = Engine::open(*values, *policy);
  if (!engine) {
    return fatal(*values, engine.error().message);
  }
  Engine& eng = **engine;
  auto flux = FluxService::start(*values);  // null unless a [flux] source is configured
  if (!flux) {
    return fatal(*values, "flux: " + flux.error().message);
  }

  if (const FluxService* fs = flux->get(); fs != nullptr) {
    // A client the detector saw serving a flux name is an infected host (greylist.flux_agents).
    eng.set_flux_agents([fs](const IpAddress& ip) {
      const auto index = fs->index();
      return index && index->is_agent(ip);
    });
  }

  int threads = static_cast<int>(values->integer("policy.threads"));
  if (threads <= 0) {
    threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  io::IoPool pool(threads);  // one io_context per thread; connections spread over them
  asio::io_context& ioc = pool.main();
  const auto pick_context = [&pool]() -> asio::io_context& { return pool.next(); };

  policy::Limits limits;
  limits.max_request_bytes = values->size("policy.max_request");
  limits.max_attributes = static_cast<std::size_t>(values->integer("policy.max_attributes"));
  io::RateLimitedLog store_warn;
  io::LineServerOptions popts;
  popts.name = "policy";
  popts.listen = listen_specs(*values);
  popts.idle_timeout = values->duration("policy.idle_timeout");
  popts.max_connections = static_cast<std::size_t>(values->integer("policy.max_connections"));
  popts.connection_context = pick_context;
  io::LineServer policy_server(
      ioc, popts,
      [&eng, &store_warn, limits](std::string& in, std::string& out,
                                  const std::string& peer) -> io::FrameResult {
        std::size_t off = 0;
        while (true) {
          policy::ParseOutcome r = policy::parse_request(std::string_view(in).substr(off), limits);
          off += r.consumed;
          if (r.status == policy::ParseStatus::NeedMore) {
            break;
          }
          if (r.status == policy::ParseStatus::Error) {
            ++eng.counters().protocol_errors;
            in.clear();
            return {io::FrameStatus::Close, r.error};
          }
          const greylist::Decision d = eng.check(r.request, wall_now());
          if (d.reason == greylist::Reason::StoreFailure) {
            store_warn.warn(
                fmt::format("store failure, answering {}: {} (peer {})", d.reply, d.error, peer));
          }
          log_decision(r.request, d);
          out += policy::format_reply(d.reply);
        }
        in.erase(0, off);
        return {};
      });

  SpamdRuntime spamd_rt;  // the mail scanner, when spamd.listen is set (started below)

  // The Akismet-compatible comment API (off when http.listen is empty).
  std::unique_ptr<AkismetService> akismet;
  std::unique_ptr<io::HttpServer> http_server;
  if (!values->list("http.listen").empty()) {
    auto svc = AkismetService::open(akismet_config(*values));
    if (!svc) {
      return fatal(*values, svc.error().message);
    }
    akismet = std::move(*svc);
    if (const FluxService* fs = flux->get(); fs != nullptr) {
      // Links to names the fast-flux detector flags are spam evidence in comment checks.
      akismet->set_flux_lookup([fs] { return fs->index(); });
    }
    io::HttpServerOptions hopts;
    hopts.name = "http";
    for (const std::string& l : values->list("http.listen")) {
      auto spec = io::parse_listen(l);
      GF_CHECK_OK(spec, "http.listen is validated when the config is loaded");
      hopts.listen.push_back(*spec);
    }
    hopts.body_limit = values->size("http.max_body");
    hopts.idle_timeout = values->duration("http.idle_timeout");
    hopts.request_timeout = values->duration("http.request_timeout");
    hopts.max_connections = static_cast<std::size_t>(values->integer("http.max_connections"));
    hopts.connection_context = pick_context;
    AkismetService* svc_ptr = akismet.get();
    const FluxService* flux_ptr = flux->get();
    http_server = std::make_unique<io::HttpServer>(
        ioc, hopts, [svc_ptr, flux_ptr, &spamd_rt](const io::HttpRequest& r) {
          if (auto mail = spamd_rt.http(r)) {  // Rspamd's /checkv2 and /ping
            return std::move(*mail);
          }
          if (r.path.starts_with("/api/v1/flux/")) {
            return FluxService::handle_http(flux_ptr, r);
          }
          return svc_ptr->handle(r, to_unix(wall_now()));
        });
  }

  io::LineServer* policy_ptr = &policy_server;
  io::LineServerOptions aopts;
  aopts.name = "admin";
  aopts.idle_timeout = std::chrono::seconds(30);
  aopts.max_connections = 64;
  aopts.unix_mode = 0600;
  const std::string admin_path = values->str("admin.socket");
  if (!admin_path.empty()) {
    aopts.listen.push_back(io::ListenSpec{true, "", 0, admin_path});
  }
  io::LineServer admin_server(
      ioc, aopts,
      [&eng, policy_ptr, ak = akismet.get()](std::string& in, std::string& out,
                                             const std::string&) -> io::FrameResult {
        const std::size_t nl = in.find('\n');
        if (nl == std::string::npos) {
          if (in.size() > 4096) {
            return {io::FrameStatus::Close, "admin command too long"};
          }
          return {};
        }
        const std::string line = in.substr(0, nl);
        spdlog::info("admin: {}", sanitize_line(line, 200));
        out = eng.admin(line, &policy_ptr->stats());
        if (ak != nullptr && trim_ws(line) == "stats" && out.starts_with("ok\n")) {
          out += ak->stats_text();
        }
        return {io::FrameStatus::Close, ""};
      });

  if (auto ok = policy_server.start(); !ok) {
    return fatal(*values, ok.error().message);
  }
  if (auto ok = admin_server.start(); !ok) {
    return fatal(*values, ok.error().message);
  }

  if (http_server) {
    if (auto ok = http_server->start(); !ok) {
      return fatal(*values, ok.error().message);
    }
  }

  SpamdService::FluxLookup mail_flux;
  if (const FluxService* fs = flux->get(); fs != nullptr) {
    mail_flux = [fs] { return fs->index(); };  // URI_FLUX from the live detector
  }
  if (auto ok = spamd_rt.start(ioc, pick_context, *values, std::move(mail_flux)); !ok) {
    return fatal(*values, ok.error().message);
  }

  // Expiry for the memory backend (LMDB sweeps in its writer thread).
  io::PeriodicTimer expiry(ioc, std::chrono::seconds(1), [&eng] { eng.expire_step(wall_now()); });
  if (values->str("store.backend") == "memory") {
    expiry.start();
  }

  // The learned comment model is snapshotted now and then (feedback itself is logged at once).
  // Off the io threads' critical path would be nicer; the snapshot is a few MiB copy.
  io::PeriodicTimer model_saver(
      ioc, values->duration("akismet.model_save_interval"), [svc = akismet.get()] {
        if (auto ok = svc->save_model(); !ok) {
          spdlog::error("akismet: cannot save the model: {}", ok.error().message);
        }
      });
  if (akismet) {
    model_saver.start();
  }

  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;
  std::thread hard_stop;
  asio::signal_set signals(ioc, SIGTERM, SIGINT, SIGHUP);
  std::function<void()> wait_signal = [&] {
    signals.async_wait([&](boost::system::error_code ec, int sig) {
      if (ec) {
        return;
      }
      if (sig == SIGHUP) {
        auto fresh = load_config(config_path, overrides);
        std::vector<std::string> w;
        auto pol =
            fresh ? build_policy(*fresh, w)
                  : Result<std::shared_ptr<const greylist::Policy>>(tl::unexpected(fresh.error()));
        if (!pol) {
          spdlog::error("reload failed, keeping the old config: {}", pol.error().message);
        } else {
          for (const auto& x : w) {
            spdlog::warn("whitelist: {}", x);
          }
          eng.set_policy(*pol);
          spamd_rt.reload(*fresh);
          spdlog::set_level(spdlog::level::from_str(fresh->str("log.level")));
          for (const SettingDef& d : settings_table()) {
            if (!d.reloadable && fresh->get(d.name) != values->get(d.name)) {
              spdlog::warn("reload: {} changed; it takes effect only after a restart", d.name);
            }
          }
          spdlog::info("reloaded {}: {} client and {} recipient whitelist entries", config_path,
                       (*pol)->clients.size(), (*pol)->recipients.size());
        }
        wait_signal();
        return;
      }
      spdlog::info("signal {}: draining connections", sig);
      expiry.stop();
      model_saver.stop();
      policy_server.drain();
      if (http_server) {
        http_server->drain();
      }
      admin_server.drain();
      spamd_rt.drain();
      // Connections get a few seconds to finish; then the loop is stopped regardless.
      hard_stop = std::thread([&] {
        std::unique_lock lock(done_mu);
        if (!done_cv.wait_for(lock, std::chrono::seconds(5), [&] { return done; })) {
          spdlog::warn("drain timed out; stopping");
          pool.stop();
        }
      });
    });
  };
  wait_signal();

  std::string where;
  for (const auto& l : popts.listen) {
    where += (where.empty() ? "" : ", ") + l.to_string();
  }
  std::string http_where;
  for (const std::string& l : values->list("http.listen")) {
    http_where += (http_where.empty() ? "" : ", ") + l;
  }
  spdlog::info(
      "greyflux {} ready: policy on {}, comment API on {}, store {} at {}, data in {}, {} threads",
      kVersion, where, http_where.empty() ? "(off)" : http_where, values->str("store.backend"),
      values->str("store.path"), values->str("daemon.data_dir"), threads);

  pool.run();
  {
    std::lock_guard lock(done_mu);
    done = true;
  }
  done_cv.notify_all();
  if (hard_stop.joinable()) {
    hard_stop.join();
  }
  http_server.reset();
  akismet.reset();    // saves the model, commits pending writes
  spamd_rt.finish();  // saves the mail model if it changed
  flux->reset();      // stops the flux sources, writes the RPZ a last time
  engine->reset();    // commits pending writes
  spdlog::info("greyflux stopped");
  spdlog::shutdown();
  return 0;
}

int admin_command(const std::string& config_path, const std::vector<std::string>& overrides,
                  const std::string& line) {
  auto values = load_config(config_path, overrides);
  if (!values) {
    std::fprintf(stderr, "greyflux: %s\n", values.error().message.c_str());
    return 2;
  }
  std::string reply;
  const std::string path = values->str("admin.socket");
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  bool connected = false;
  if (fd >= 0 && !path.empty() && path.size() < sizeof addr.sun_path) {
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    connected = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  if (connected) {
    const std::string msg = line + "\n";
    if (::write(fd, msg.data(), msg.size()) != static_cast<ssize_t>(msg.size())) {
      std::fprintf(stderr, "greyflux: cannot send to %s\n", path.c_str());
      ::close(fd);
      return 1;
    }
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
      reply.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
  } else {
    if (fd >= 0) {
      ::close(fd);
    }
    // No daemon answers: work on the store directly (LMDB is safe to share between processes).
    if (values->str("store.backend") == "memory") {
      std::fprintf(stderr, "greyflux: no daemon answers on %s (memory store)\n", path.c_str());
      return 1;
    }
    spdlog::set_level(spdlog::level::warn);
    if (auto dirs = prepare_state_dirs(*values); !dirs) {
      std::fprintf(stderr, "greyflux: %s\n", dirs.error().message.c_str());
      return 2;
    }
    std::vector<std::string> warnings;
    auto policy = build_policy(*values, warnings);
    if (!policy) {
      std::fprintf(stderr, "greyflux: %s\n", policy.error().message.c_str());
      return 2;
    }
    auto engine = Engine::open(*values, *policy);
    if (!engine) {
      std::fprintf(stderr, "greyflux: %s\n", engine.error().message.c_str());
      return 2;
    }
    reply = (*engine)->admin(line, nullptr);
  }
  const std::size_t nl = reply.find('\n');
  const std::string status = reply.substr(0, nl);
  const std::string body = nl == std::string::npos ? "" : reply.substr(nl + 1);
  if (status == "ok") {
    std::fputs(body.c_str(), stdout);
    return 0;
  }
  std::fprintf(stderr, "greyflux: %s\n", status.empty() ? "no reply" : status.c_str());
  return 1;
}

}  // namespace gf::app
