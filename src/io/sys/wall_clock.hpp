#pragma once
// The daemon's wall clock: the time greylist records, comment checks and expiry are stamped
// with, read by every front door (the core takes it as an argument).
//
// It reads the system wall clock once, when the process starts, and from then on counts with
// CLOCK_BOOTTIME (a clock that is never stepped, follows NTP's rate corrections and counts a
// suspend), so the daemon's time never jumps: an operator or a bad NTP source stepping the
// system clock back an hour or forward a day while greyflux runs neither makes a new triplet
// pass early (a day forward would have looked like a day of waiting) nor strands one (an hour
// back would have restarted every waiting triplet's delay). A step is detected (the system
// clock moved more than kStepThreshold away from the daemon's), counted, and logged with one
// warning line; `greyflux stats` shows the steps and the current offset. The daemon adopts the
// system time when it restarts; records from before a restart are then judged by the core's
// rules for times in the future (core/greylist/greylist.hpp: the delay starts again).
//
// Threading: now() is safe from any thread (atomics; the anchors are set once).
#include <atomic>
#include <cstdint>

#include "core/common/time.hpp"

namespace gf::io {

class WallClock {
 public:
  static constexpr Seconds kStepThreshold{2};

  WallClock();
  // Whole seconds on the daemon's time line.
  [[nodiscard]] TimePoint now();

  struct Stats {
    std::uint64_t steps = 0;    // system clock steps seen
    std::int64_t offset_s = 0;  // system wall clock minus the daemon's, now
  };
  [[nodiscard]] Stats stats() const;

 private:
  std::int64_t wall0_ns_;
  std::int64_t boot0_ns_;
  std::atomic<std::int64_t> offset_ns_{0};  // as last seen; a step moves it past the threshold
  std::atomic<std::uint64_t> steps_{0};
};

// The process's one WallClock (the daemon's time line starts at its first use).
WallClock& daemon_clock();

}  // namespace gf::io
