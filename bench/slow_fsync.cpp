// gf_slow_fsync: an LD_PRELOAD shim that makes every fsync(), fdatasync() and msync() sleep
// GF_SLOW_FSYNC_MS milliseconds (default 20) before calling the real function, found with
// dlsym(RTLD_NEXT). It emulates a slow disk so a benchmark can show whether a server's request
// rate depends on the speed of its durable commits.
//
// Usage: LD_PRELOAD=/path/libgf_slow_fsync.so GF_SLOW_FSYNC_MS=20 server ...
// At process exit it writes one line to stderr with the number of calls it delayed, so a run can
// tell "not slowed down" apart from "never synced".
//
// Threading: the shim keeps no state beyond atomics; each caller sleeps on its own thread, as a
// blocking fsync on a slow disk would. Errors: an unresolvable real function fails with ENOSYS.

#include <dlfcn.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace gf::bench {
namespace {

std::atomic<unsigned long> g_calls{0};
std::atomic<unsigned long long> g_slept_us{0};

long delay_ms() {
  static const long ms = [] {
    const char* v = std::getenv("GF_SLOW_FSYNC_MS");
    if (v == nullptr || *v == '\0') {
      return 20L;
    }
    char* end = nullptr;
    long n = std::strtol(v, &end, 10);
    return (end != v && n >= 0) ? n : 20L;
  }();
  return ms;
}

void slow_down() {
  g_calls.fetch_add(1, std::memory_order_relaxed);
  long ms = delay_ms();
  if (ms <= 0) {
    return;
  }
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  int saved = errno;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  errno = saved;
  g_slept_us.fetch_add(static_cast<unsigned long long>(ms) * 1000, std::memory_order_relaxed);
}

template <typename Fn>
Fn real(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

__attribute__((destructor)) void report() {
  char line[160];
  int n = std::snprintf(
      line, sizeof(line), "gf_slow_fsync: pid=%d delay_ms=%ld calls=%lu slept_ms=%llu\n",
      static_cast<int>(getpid()), delay_ms(), g_calls.load(), g_slept_us.load() / 1000);
  if (n > 0) {
    ssize_t ignored = write(STDERR_FILENO, line, static_cast<size_t>(n));
    (void)ignored;
  }
}

}  // namespace
}  // namespace gf::bench

extern "C" {

int fsync(int fd) {
  using Fn = int (*)(int);
  static Fn fn = gf::bench::real<Fn>("fsync");
  gf::bench::slow_down();
  if (fn == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  return fn(fd);
}

int fdatasync(int fd) {
  using Fn = int (*)(int);
  static Fn fn = gf::bench::real<Fn>("fdatasync");
  gf::bench::slow_down();
  if (fn == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  return fn(fd);
}

int msync(void* addr, size_t length, int flags) {
  using Fn = int (*)(void*, size_t, int);
  static Fn fn = gf::bench::real<Fn>("msync");
  // MS_ASYNC only schedules writeback; a slow disk does not make it block.
  if ((flags & MS_SYNC) != 0) {
    gf::bench::slow_down();
  }
  if (fn == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  return fn(addr, length, flags);
}

}  // extern "C"
