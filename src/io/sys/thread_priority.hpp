#pragma once
// Scheduling class of the calling thread, for background work that must never delay a request.
//
// Work at idle priority (SCHED_IDLE) runs only on a core no request-serving thread wants, so its
// bursts (a group commit) cannot preempt an io thread and show up as a latency tail. Work that
// must still keep up (at most one commit interval of writes may be lost) runs at normal priority
// when its thread notices it has fallen behind.
#include <chrono>

namespace gf::io {

class ThreadPriority {
 public:
  // True: SCHED_IDLE; false: SCHED_OTHER. Returns whether the thread now has that class (an
  // unprivileged thread may always make itself less important and undo it on Linux).
  bool set_background(bool background);
  bool background() const { return background_; }

 private:
  bool background_ = false;
};

// For a writer thread that runs a round (a group commit) every `interval`. The round's heavy
// part runs at idle priority through run_idle(), unless the round started more than two
// intervals after the previous one (the cores are saturated; the writer must catch up).
// Only lock-free work may go through run_idle(): a starved idle thread holding a lock that an
// io thread waits for would stall requests for as long as other work keeps the cores busy.
class RoundPriority {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RoundPriority(std::chrono::milliseconds interval, Clock::time_point now = Clock::now())
      : interval_(interval), last_round_(now) {}
  // Call when a round starts. True when this round is late (and so runs at normal priority).
  bool begin_round() { return begin_round(Clock::now()); }
  // The same with the time given (tests pass simulated time instead of sleeping).
  bool begin_round(Clock::time_point now);
  // Runs `work` at idle priority unless the round is late; normal priority again afterwards.
  template <class Work>
  decltype(auto) run_idle(Work&& work) {
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
