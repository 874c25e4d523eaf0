#pragma once
// `greyflux serve`: the Daemon loads the config, opens the services (greylist engine, fast-flux
// collectors) and starts the front doors (front_doors.hpp: policy, HTTP, admin; the spamd door
// in spamd_service.hpp, the milter door in milter_service.hpp), then serves until a signal. SIGHUP
// reloads the reloadable settings (an error keeps the old config); SIGTERM/SIGINT drain every door
// and exit 0, stopping the loop regardless after 5 s.
//
// Privileges (core/common/privileges.hpp): started as root, the daemon resolves [daemon] user
// before it opens anything, opens every listener and file as root, gives its state files in
// daemon.data_dir to that user and drops to it (no capabilities, no_new_privs) before it serves.
//
// Errors: start() returns the first start-up failure (config, user, log, state directory, store,
// flux source, a listener that cannot bind); serve() turns it into the one fatal exit: one
// line on standard error (and in the log file when there is one), exit code 2.
//
// Threading: start() and run() on the thread that calls serve(); run() runs the io_context
// pool (policy.threads) and returns once it has drained.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/common/privileges.hpp"
#include "core/common/result.hpp"
#include "io/sys/privileges.hpp"

namespace boost::asio {
class io_context;
}

namespace gf::io {
class BlockingPool;
class IoPool;
class PeriodicTimer;
class RedisClient;
}  // namespace gf::io

namespace gf::app {

class AdminDoor;
class Engine;
class FluxService;
class HistoryService;
class HttpDoor;
class MetricsService;
class MilterRuntime;
class PolicyDoor;
class SpamdRuntime;
class Values;

class Daemon {
 public:
  Daemon(std::string config_path, std::vector<std::string> overrides);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Everything that can fail, in order; nothing is served before run(). Call once.
  [[nodiscard]] Result<void> start();
  // Serves until SIGTERM/SIGINT have drained the doors, then closes the services (saving the
  // models, committing the stores, writing the RPZ a last time). Call after a successful start().
  void run();
  // True once the log is a file: a fatal start-up error is written there too.
  [[nodiscard]] bool logs_to_file() const { return logs_to_file_; }

 private:
  [[nodiscard]] Result<void> load_settings();    // config, log, state directories, policy
  [[nodiscard]] Result<void> open_services();    // greylist engine, fast-flux collectors
  [[nodiscard]] Result<void> open_doors();       // the front doors, built and bound
  [[nodiscard]] Result<void> decide_user();      // [daemon] user/group, before anything opens
  [[nodiscard]] Result<void> drop_privileges();  // after every listener and file is open
  void start_metrics(boost::asio::io_context& ioc);
  void watch_signals();
  void reload();
  void drain(int sig);
  void log_ready() const;

  const std::string config_path_;
  const std::vector<std::string> overrides_;
  std::unique_ptr<Values> values_;  // as started (a reload compares against these)
  bool logs_to_file_ = false;
  int threads_ = 1;
  PrivilegeAction privileges_ = PrivilegeAction::Unprivileged;
  io::Identity drop_to_;  // privileges_ == Drop: the user and group to become

  // Declared in start-up order; destroyed in reverse (doors before services before the store).
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<FluxService> flux_;  // null unless a [flux] source is configured
  std::unique_ptr<io::IoPool> pool_;
  // store.backend = "redis": the threads that make blocking store calls for the doors (their
  // tasks use the doors and services, so it is joined first, after pool_ has run).
  std::unique_ptr<io::BlockingPool> blocking_;
  std::unique_ptr<io::BlockingPool> milter_pool_;  // the same for the milter's packets
  // store.backend = "redis": the shared client, its async traffic on pool_'s loops while run()
  // serves (dropped before pool_: its loop connections live on pool_'s contexts).
  std::shared_ptr<io::RedisClient> redis_;
  std::unique_ptr<MetricsService> metrics_;  // /metrics, /healthz, /readyz, status and series
  std::unique_ptr<HistoryService> history_;  // the decision history (its timer is on pool_)
  std::unique_ptr<SpamdRuntime> spamd_;      // the spamd door; idle unless spamd.listen is set
  std::unique_ptr<MilterRuntime> milter_;    // the milter door; idle unless milter.listen is set
  std::unique_ptr<PolicyDoor> policy_;
  std::unique_ptr<HttpDoor> http_;  // null when http.listen is empty
  std::unique_ptr<AdminDoor> admin_;
  std::unique_ptr<io::PeriodicTimer> expiry_;   // memory store only (LMDB sweeps in its writer)
  std::unique_ptr<io::PeriodicTimer> sampler_;  // feeds the overview series every 10 s
  struct Signals;                               // SIGTERM, SIGINT, SIGHUP on the main io_context
  std::unique_ptr<Signals> signals_;

  std::mutex done_mu_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread hard_stop_;  // stops the loop if draining takes longer than 5 s
};

// `greyflux serve`: Daemon::start(), then run(); returns the process exit code.
int serve(const std::string& config_path, const std::vector<std::string>& overrides);

// Sets up spdlog: level, destination, and one line format for the whole process.
void setup_logging(const std::string& level, const std::string& file);

}  // namespace gf::app
