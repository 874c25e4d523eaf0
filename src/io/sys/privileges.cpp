#include "io/sys/privileges.hpp"

#include <dirent.h>
#include <fmt/format.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace gf::io {
namespace {

Error sys_error(std::string_view what) {
  return Error{Errc::Io, fmt::format("{}: {}", what, std::strerror(errno))};
}

// ---- every thread: capabilities and no_new_privs are per thread ----------------------------
// setresuid()/setresgid()/setgroups() reach every thread through glibc; capset(), the bounding
// set, the ambient set and PR_SET_NO_NEW_PRIVS do not. Each thread gets a real-time signal whose
// handler makes those calls (async-signal-safe system calls only) and counts itself done.
enum Phase : int { kBeforeSetuid = 1, kAfterSetuid = 2 };
std::atomic<int> g_phase{0};
std::atomic<int> g_done{0};
std::atomic<int> g_failed{0};
int g_last_cap = 40;

bool clear_bounding_set() {
  bool ok = true;
  for (int cap = 0; cap <= g_last_cap; ++cap) {
    if (::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 &&
        ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      ok = false;
    }
  }
  return ok;
}

bool clear_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  const bool caps = ::syscall(SYS_capset, &header, data) == 0;
  const bool ambient = ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == 0;
  return caps && ambient;
}

// Phase kBeforeSetuid: bounding set (needs CAP_SETPCAP, so only while still root; without it
// the emptied permitted set and no_new_privs already keep exec from granting anything) and
// no_new_privs. Phase kAfterSetuid: what setuid leaves (inheritable, ambient).
bool apply_phase(int phase) {
  if (phase == kBeforeSetuid) {
    const bool euid_root = ::geteuid() == 0;
    const bool bounding = clear_bounding_set() || !euid_root;
    return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && bounding;
  }
  return clear_capabilities() && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0;
}

void on_signal(int) {
  const int saved = errno;
  if (!apply_phase(g_phase.load())) {
    g_failed.fetch_add(1);
  }
  g_done.fetch_add(1);
  errno = saved;
}

std::vector<pid_t> other_threads() {
  std::vector<pid_t> tids;
  const pid_t self = static_cast<pid_t>(::syscall(SYS_gettid));
  if (DIR* d = ::opendir("/proc/self/task"); d != nullptr) {
    while (const dirent* e = ::readdir(d)) {
      const pid_t tid = static_cast<pid_t>(std::atoi(e->d_name));
      if (tid > 0 && tid != self) {
        tids.push_back(tid);
      }
    }
    ::closedir(d);
  }
  return tids;
}

Result<void> on_every_thread(int phase) {
  const int sig = SIGRTMIN + 3;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (::sigaction(sig, &sa, nullptr) != 0) {
    return tl::unexpected(sys_error("sigaction"));
  }
  g_phase = phase;
  g_done = 0;
  g_failed = 0;
  int sent = 0;
  for (pid_t tid : other_threads()) {
    if (::syscall(SYS_tgkill, ::getpid(), tid, sig) == 0) {
      ++sent;  // a thread that exited meanwhile (ESRCH) has nothing left to drop
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (g_done.load() < sent && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!apply_phase(phase)) {
    return tl::unexpected(sys_error("dropping capabilities"));
  }
  if (g_done.load() < sent || g_failed.load() > 0) {
    return fail(Errc::Io, fmt::format("dropping capabilities: {} of {} other threads did it",
                                      g_done.load() - g_failed.load(), sent));
  }
  return {};
}

void read_last_cap() {
  std::ifstream in("/proc/sys/kernel/cap_last_cap");
  int n = 0;
  if (in >> n && n > 0 && n < 64) {
    g_last_cap = n;
  }
}

// The fields of a /proc/.../status line: "Uid:\t0\t0\t0\t0" -> {"0","0","0","0"}.
std::vector<std::string> status_fields(const std::string& status, std::string_view key) {
  std::istringstream in(status);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(key) && line.size() > key.size() && line[key.size()] == ':') {
      std::istringstream fields(line.substr(key.size() + 1));
      for (std::string f; fields >> f;) {
        out.push_back(f);
      }
    }
  }
  return out;
}

Result<void> verify_thread(const std::string& tid, uid_t uid, gid_t gid) {
  std::ifstream in("/proc/self/task/" + tid + "/status");
  if (!in) {
    return {};  // the thread exited
  }
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string status = buf.str();
  const std::string want_uid = std::to_string(uid);
  const std::string want_gid = std::to_string(gid);
  for (const auto& [key, want] : {std::pair{"Uid", want_uid}, std::pair{"Gid", want_gid}}) {
    const auto ids = status_fields(status, key);
    if (ids.size() < 3 || ids[0] != want || ids[1] != want || ids[2] != want) {
      return fail(Errc::Io, fmt::format("thread {}: {} is not {} everywhere", tid, key, want));
    }
  }
  for (const char* key : {"CapEff", "CapPrm", "CapInh", "CapAmb"}) {
    const auto caps = status_fields(status, key);
    if (!caps.empty() && std::strtoull(caps[0].c_str(), nullptr, 16) != 0) {
      return fail(Errc::Io, fmt::format("thread {}: {} is {}, not empty", tid, key, caps[0]));
    }
  }
  const auto nnp = status_fields(status, "NoNewPrivs");
  if (nnp.empty() || nnp[0] != "1") {
    return fail(Errc::Io, fmt::format("thread {}: no_new_privs is not set", tid));
  }
  return {};
}

}  // namespace

Result<Identity> lookup_identity(std::string_view user, std::string_view group) {
  std::vector<char> buf(1 << 16);
  passwd pw{};
  passwd* found = nullptr;
  const std::string name(user);
  const int rc = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
  if (found == nullptr) {
    return fail(Errc::Config, fmt::format("daemon.user: no user \"{}\"{}", name,
                                          rc != 0 ? std::string(": ") + std::strerror(rc) : ""));
  }
  Identity id{name, pw.pw_uid, pw.pw_gid};
  if (!group.empty()) {
    struct group g {};
    struct group* gfound = nullptr;
    const std::string gname(group);
    const int grc = ::getgrnam_r(gname.c_str(), &g, buf.data(), buf.size(), &gfound);
    if (gfound == nullptr) {
      return fail(Errc::Config,
                  fmt::format("daemon.group: no group \"{}\"{}", gname,
                              grc != 0 ? std::string(": ") + std::strerror(grc) : ""));
    }
    id.gid = g.gr_gid;
  }
  return id;
}

Result<void> give_to(const std::string& path, const Identity& who, bool children) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return {};
  }
  if (S_ISDIR(st.st_mode) && (st.st_mode & S_IWOTH) != 0) {
    return {};  // a shared directory such as /tmp is nobody's to take
  }
  if ((st.st_uid != who.uid || st.st_gid != who.gid) &&
      ::lchown(path.c_str(), who.uid, who.gid) != 0) {
    return tl::unexpected(sys_error("chown " + path));
  }
  if (!children || !S_ISDIR(st.st_mode)) {
    return {};
  }
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) {
    return tl::unexpected(sys_error("opendir " + path));
  }
  Result<void> out;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") {
      if (auto ok = give_to(path + "/" + name, who, false); !ok && out) {
        out = ok;
      }
    }
  }
  ::closedir(d);
  return out;
}

Result<void> drop_to(const Identity& who) {
  read_last_cap();
  if (auto ok = on_every_thread(kBeforeSetuid); !ok) {
    return ok;
  }
  if (::initgroups(who.user.c_str(), who.gid) != 0) {
    return tl::unexpected(sys_error("setgroups"));
  }
  if (::setresgid(who.gid, who.gid, who.gid) != 0) {
    return tl::unexpected(sys_error("setgid"));
  }
  if (::setresuid(who.uid, who.uid, who.uid) != 0) {
    return tl::unexpected(sys_error("setuid"));
  }
  if (auto ok = on_every_thread(kAfterSetuid); !ok) {
    return ok;
  }
  return verify_dropped(who.uid, who.gid);
}

bool has_capabilities() {
  std::ifstream in("/proc/self/status");
  std::stringstream buf;
  buf << in.rdbuf();
  for (const char* key : {"CapPrm", "CapAmb", "CapEff"}) {
    const auto caps = status_fields(buf.str(), key);
    if (!caps.empty() && std::strtoull(caps[0].c_str(), nullptr, 16) != 0) {
      return true;
    }
  }
  return false;
}

Result<void> drop_capabilities() {
  read_last_cap();
  if (auto ok = on_every_thread(kAfterSetuid); !ok) {
    return ok;
  }
  return verify_dropped(::getuid(), ::getgid());
}

Result<void> verify_dropped(uid_t uid, gid_t gid) {
  if (::setuid(0) == 0 || ::seteuid(0) == 0) {
    return fail(Errc::Io, "privilege drop: setuid(0) still works");
  }
  std::vector<std::string> tids;
  if (DIR* d = ::opendir("/proc/self/task"); d != nullptr) {
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') {
        tids.emplace_back(e->d_name);
      }
    }
    ::closedir(d);
  }
  if (tids.empty()) {
    return fail(Errc::Io, "privilege drop: cannot read /proc/self/task to verify it");
  }
  for (const std::string& tid : tids) {
    if (auto ok = verify_thread(tid, uid, gid); !ok) {
      return fail(Errc::Io, "privilege drop: " + ok.error().message);
    }
  }
  return {};
}

}  // namespace gf::io
