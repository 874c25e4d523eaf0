// gf_slow_fsync: an LD_PRELOAD shim that makes every fsync(), fdatasync() and msync(MS_SYNC)
// sleep GF_SLOW_FSYNC_MS milliseconds (default 20) before calling the real function, found with
// dlsym(RTLD_NEXT). It emulates a slow disk so a benchmark can show whether a server's request
// rate depends on the speed of its durable commits. With GF_SLOW_FSYNC_MS=0 it only counts.
//
// Usage: LD_PRELOAD=/path/libgf_slow_fsync.so GF_SLOW_FSYNC_MS=20 server ...
// Counters: calls, nanoseconds spent in the real functions, nanoseconds slept. At exit they are
// written as one line to stderr. With GF_SLOW_FSYNC_STATS=FILE they also live in FILE (created
// at load time, before a server drops privileges) as three native-endian uint64 values updated on
// every call, so a benchmark can read them between runs: `od -An -t u8 -N24 FILE`.
//
// Threading: the counters are lock-free atomics; each caller sleeps on its own thread, as a
// blocking fsync on a slow disk would. Errors: an unresolvable real function fails with ENOSYS;
// an unusable stats file leaves only the exit line.

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>

namespace gf::bench {
namespace {

struct Counters {
  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> real_ns{0};
  std::atomic<uint64_t> slept_ns{0};
};
static_assert(std::atomic<uint64_t>::is_always_lock_free);

Counters g_local;
Counters* g_counters = &g_local;

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

uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

void slow_down() {
  g_counters->calls.fetch_add(1, std::memory_order_relaxed);
  long ms = delay_ms();
  if (ms <= 0) {
    return;
  }
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  int saved = errno;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  errno = saved;
  g_counters->slept_ns.fetch_add(static_cast<uint64_t>(ms) * 1000000ULL, std::memory_order_relaxed);
}

// Calls the real function and adds its duration to real_ns.
template <typename Fn, typename... Args>
int timed(Fn fn, Args... args) {
  if (fn == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  uint64_t t0 = now_ns();
  int rc = fn(args...);
  g_counters->real_ns.fetch_add(now_ns() - t0, std::memory_order_relaxed);
  return rc;
}

template <typename Fn>
Fn real(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

__attribute__((constructor)) void open_stats_file() {
  const char* path = std::getenv("GF_SLOW_FSYNC_STATS");
  if (path == nullptr || *path == '\0') {
    return;
  }
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return;
  }
  void* p = MAP_FAILED;
  if (ftruncate(fd, 4096) == 0) {
    p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  }
  close(fd);
  if (p != MAP_FAILED) {
    g_counters = new (p) Counters;  // the fresh file is zero-filled
  }
}

__attribute__((destructor)) void report() {
  char line[200];
  const Counters& c = *g_counters;
  int n = std::snprintf(
      line, sizeof(line),
      "gf_slow_fsync: pid=%d delay_ms=%ld calls=%llu real_ms=%llu slept_ms=%llu\n",
      static_cast<int>(getpid()), delay_ms(), static_cast<unsigned long long>(c.calls.load()),
      static_cast<unsigned long long>(c.real_ns.load() / 1000000),
      static_cast<unsigned long long>(c.slept_ns.load() / 1000000));
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
  return gf::bench::timed(fn, fd);
}

int fdatasync(int fd) {
  using Fn = int (*)(int);
  static Fn fn = gf::bench::real<Fn>("fdatasync");
  gf::bench::slow_down();
  return gf::bench::timed(fn, fd);
}

int msync(void* addr, size_t length, int flags) {
  using Fn = int (*)(void*, size_t, int);
  static Fn fn = gf::bench::real<Fn>("msync");
  // MS_ASYNC only schedules writeback; a slow disk does not make it block.
  if ((flags & MS_SYNC) != 0) {
    gf::bench::slow_down();
    return gf::bench::timed(fn, addr, length, flags);
  }
  return fn != nullptr ? fn(addr, length, flags) : (errno = ENOSYS, -1);
}

}  // extern "C"
