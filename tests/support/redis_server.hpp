#pragma once
// RedisServer: a private Debian redis-server for tests, on a free loopback port, in a temporary
// directory, with no persistence. start() waits until it answers PING (never a fixed sleep);
// stop() ends it by PID (SIGTERM, then waitpid); kill() is SIGKILL for fault tests; pause() and
// resume() SIGSTOP/SIGCONT it (a hung server). The child dies with the test (PR_SET_PDEATHSIG).
// Test code only: it uses blocking hiredis calls.
#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace gf::test {

class RedisServer {
 public:
  RedisServer() = default;
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  ~RedisServer() {
    stop();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  // The redis-server binary, or "" when Debian's redis-server is not installed.
  static std::string binary() {
    for (const char* p : {"/usr/bin/redis-server", "/usr/local/bin/redis-server"}) {
      if (::access(p, X_OK) == 0) {
        return p;
      }
    }
    return "";
  }

  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port = ntohs(a.sin_port);
    }
    ::close(fd);
    return port;
  }

  // Starts on `port` (0: a free one; a restart keeps the previous port). False when the
  // binary is missing or the server did not answer within 10 s; why() says which.
  bool start(int port = 0) {
    const std::string bin = binary();
    if (bin.empty()) {
      why_ = "redis-server is not installed (apt-get install redis-server)";
      return false;
    }
    if (dir_.empty()) {
      char tmpl[] = "/tmp/gf-redis-XXXXXX";
      dir_ = ::mkdtemp(tmpl);
    }
    port_ = port != 0 ? port : (port_ != 0 ? port_ : free_port());
    const std::vector<std::string> args{bin, "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                        "--save", "", "--appendonly", "no", "--dir", dir_,
                                        "--logfile", dir_ + "/redis.log", "--daemonize", "no",
                                        // DEBUG SLEEP from loopback clients: a test's slow server
                                        "--enable-debug-command", "local"};
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      std::vector<char*> argv;
      for (const std::string& a : args) {
        argv.push_back(const_cast<char*>(a.c_str()));
      }
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until) {
      if (command({"PING"}) == std::optional<std::string>("PONG")) {
        return true;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        why_ = "redis-server exited at start; see " + dir_ + "/redis.log";
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    why_ = "redis-server did not answer PING within 10 s";
    stop();
    return false;
  }

  void stop() { signal_and_reap(SIGTERM); }
  void kill() { signal_and_reap(SIGKILL); }
  void pause() const { ::kill(pid_, SIGSTOP); }
  void resume() const { ::kill(pid_, SIGCONT); }
  bool running() const { return pid_ > 0; }

  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  const std::string& why() const { return why_; }

  // One command over a fresh blocking connection: the reply as text (integers in decimal),
  // nullopt on a failure or a nil reply.
  std::optional<std::string> command(const std::vector<std::string>& args) const {
    return redis_command(port_, args);
  }

  // The same on any loopback port (a node of a test cluster).
  static std::optional<std::string> redis_command(int port, const std::vector<std::string>& args) {
    timeval tv{1, 0};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (c == nullptr || c->err != 0) {
      if (c != nullptr) {
        redisFree(c);
      }
      return std::nullopt;
    }
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const std::string& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(c, static_cast<int>(args.size()), argv.data(), lens.data()));
    std::optional<std::string> out;
    if (r != nullptr) {
      if (r->type == REDIS_REPLY_INTEGER) {
        out = std::to_string(r->integer);
      } else if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) {
        out = std::string(r->str, r->len);
      }
      freeReplyObject(r);
    }
    redisFree(c);
    return out;
  }

 private:
  void signal_and_reap(int sig) {
    if (pid_ <= 0) {
      return;
    }
    ::kill(pid_, SIGCONT);  // a paused server cannot act on SIGTERM
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string why_;
};

// One server per test process, started on first use (ctest runs each test in a process of its
// own), stopped at exit.
inline RedisServer& shared_redis() {
  static RedisServer server;
  static const bool started = server.start();
  (void)started;
  return server;
}

// A Redis Cluster made by the ctest that runs the cluster contract suites
// (tests/integration/redis/cluster_contracts.py): GF_TEST_REDIS_CLUSTER lists its nodes' ports,
// "p1,p2,...". Empty when unset (those tests skip).
inline std::vector<int> test_cluster_ports() {
  std::vector<int> ports;
  const char* env = std::getenv("GF_TEST_REDIS_CLUSTER");
  std::string s = env != nullptr ? env : "";
  std::size_t at = 0;
  while (at < s.size()) {
    const std::size_t comma = s.find(',', at);
    ports.push_back(std::atoi(s.substr(at, comma - at).c_str()));
    at = comma == std::string::npos ? s.size() : comma + 1;
  }
  return ports;
}

// Empties every master of the test cluster (replicas refuse FLUSHALL and follow their master);
// the number of nodes that did it.
inline int flush_test_cluster() {
  int flushed = 0;
  for (int port : test_cluster_ports()) {
    flushed += RedisServer::redis_command(port, {"FLUSHALL"}) == std::optional<std::string>("OK");
  }
  return flushed;
}

}  // namespace gf::test
