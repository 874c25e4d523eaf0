#include "io/sys/wall_clock.hpp"

#include <spdlog/spdlog.h>
#include <time.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace gf::io {
namespace {

std::int64_t boot_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Test seam: GREYFLUX_TEST_CLOCK_OFFSET_FILE names a file holding whole seconds ("-3600") added
// to the system clock, read at every call, so tests/reliability/clock_step_test.py can step the
// wall clock of one daemon. Unset (always, outside that test) it costs one pointer test.
// (libfaketime would need no seam, but it recurses into jemalloc's start-up and aborts.)
std::int64_t test_offset_ns() {
  static const char* const path = std::getenv("GREYFLUX_TEST_CLOCK_OFFSET_FILE");
  if (path == nullptr) {
    return 0;
  }
  long long s = 0;
  if (std::FILE* f = std::fopen(path, "r"); f != nullptr) {
    if (std::fscanf(f, "%lld", &s) != 1) {
      s = 0;
    }
    std::fclose(f);
  }
  return static_cast<std::int64_t>(s) * 1'000'000'000;
}

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
             .count() +
         test_offset_ns();
}

}  // namespace

WallClock::WallClock() : wall0_ns_(wall_ns()), boot0_ns_(boot_ns()) {}

TimePoint WallClock::now() {
  // `seen` before the clocks: an offset read before another thread recorded a step must not
  // look like a step back to the old offset.
  std::int64_t seen = offset_ns_.load();
  const std::int64_t t = wall0_ns_ + (boot_ns() - boot0_ns_);
  const std::int64_t offset = wall_ns() - t;
  constexpr std::int64_t kThreshold =
      std::chrono::duration_cast<std::chrono::nanoseconds>(kStepThreshold).count();
  if (std::llabs(offset - seen) > kThreshold && offset_ns_.compare_exchange_strong(seen, offset)) {
    steps_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn(
        "the system clock stepped {:+} s; greyflux keeps its own time line (now {} s from the "
        "system clock) so greylisting delays stay true; a restart adopts the system time",
        std::llround(static_cast<double>(offset - seen) / 1e9),
        std::llround(static_cast<double>(offset) / 1e9));
  }
  return TimePoint(std::chrono::duration_cast<Seconds>(std::chrono::nanoseconds(t)));
}

WallClock::Stats WallClock::stats() const {
  const std::int64_t t = wall0_ns_ + (boot_ns() - boot0_ns_);
  return Stats{steps_.load(std::memory_order_relaxed),
               std::llround(static_cast<double>(wall_ns() - t) / 1e9)};
}

WallClock& daemon_clock() {
  static WallClock clock;
  return clock;
}

}  // namespace gf::io
