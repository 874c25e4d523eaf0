#include "app/admin_cli.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "app/config.hpp"
#include "app/engine.hpp"
#include "app/paths.hpp"
#include "core/admin/command.hpp"

namespace gf::app {

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
    const auto cmd = admin::parse_command(line);
    reply = cmd ? (*engine)->admin(*cmd, nullptr) : fmt::format("error: {}\n", cmd.error().message);
    if (line == "stats") {
      // Tried as a new user would with the daemon stopped: "requests 0" read as a daemon that
      // runs and gets no traffic.
      std::fprintf(stderr,
                   "greyflux: no daemon answers on %s: the store's figures from the files; "
                   "the request counters are a running daemon's and read 0 here\n",
                   path.c_str());
    }
  }
  const std::size_t nl = reply.find('\n');
  const std::string status = reply.substr(0, nl);
  const std::string body = nl == std::string::npos ? "" : reply.substr(nl + 1);
  if (status == "ok") {
    std::fputs(body.c_str(), stdout);
    return 0;
  }
  if (status.starts_with("ok truncated ")) {  // the rows printed are complete, but not all of them
    std::fputs(body.c_str(), stdout);
    std::fprintf(stderr,
                 "greyflux: the listing stops at %s rows and more match; narrow it with a PATTERN "
                 "(a client network, a sender or a recipient domain)\n",
                 status.substr(13).c_str());
    return 3;
  }
  std::fprintf(stderr, "greyflux: %s\n", status.empty() ? "no reply" : status.c_str());
  return 1;
}

}  // namespace gf::app
