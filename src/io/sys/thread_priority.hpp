#pragma once
// Scheduling class of the calling thread, for background work that must not delay a request.
//
// Background work (a group commit) runs as SCHED_BATCH at the thread's nice value: the same CPU
// share as any normal thread, so it keeps up while other processes saturate the cores, but the
// scheduler treats it as CPU-bound, so its wake-ups do not preempt a running io thread. Work that
// has fallen behind runs as SCHED_OTHER. Not SCHED_IDLE: its weight (3 against 1,024) starves a
// commit already started whenever other processes keep the cores busy (kill -9 then lost seconds
// of acknowledged writes), and leaving SCHED_IDLE needs CAP_SYS_NICE or RLIMIT_NICE >= 20, so an
// unprivileged daemon could never get back to normal. SCHED_BATCH <-> SCHED_OTHER at the same
// nice value needs no privilege.
#include <chrono>

namespace gf::io {

class ThreadPriority {
 public:
  // True: SCHED_BATCH; false: SCHED_OTHER (the nice value is kept). Returns whether the thread
  // now has that class; both directions work without privilege on Linux.
  bool set_background(bool background);
  bool background() const { return background_; }

 private:
  bool background_ = false;
};

// For a writer thread that runs a round (a group commit) every `interval`. The round's heavy
// part runs as background work through run_background(), unless the round started more than two
// intervals after the previous one (the writer must catch up). Only lock-free work should go
// through run_background(): a lock holder that is not woken promptly delays every waiter.
class RoundPriority {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RoundPriority(std::chrono::milliseconds interval, Clock::time_point now = Clock::now())
      : interval_(interval), last_round_(now) {}
  // Call when a round starts. True when this round is late (and so runs at normal priority).
  bool begin_round() { return begin_round(Clock::now()); }
  // The same with the time given (tests pass simulated time instead of sleeping).
  bool begin_round(Clock::time_point now);
  // Runs `work` as background work unless the round is late; normal priority again afterwards.
  template <class Work>
  decltype(auto) run_background(Work&& work) {
    struct Restore {
      ThreadPriority& p;
      ~Restore() { p.set_background(false); }
    } restore{priority_};
    priority_.set_background(!late_);
    return work();
  }

 private:
  ThreadPriority priority_;
  std::chrono::milliseconds interval_;
  Clock::time_point last_round_;
  bool late_ = false;
};

}  // namespace gf::io
