#pragma once
// Scheduling class of the calling thread, for background work that must never delay a request.
//
// A background thread (SCHED_IDLE) runs only on a core no request-serving thread wants, so its
// bursts (a group commit, an expiry sweep) cannot preempt an io thread and show up as a latency
// tail. A thread that must still keep up (the store writer: at most one commit interval of writes
// may be lost) switches itself back to normal priority when it notices it has fallen behind.
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

// For a writer thread that runs a round (a group commit) every `interval`: idle priority while
// rounds start on time; a round that starts more than two intervals after the previous one means
// the cores are saturated, and runs at normal priority so the writer catches up.
class RoundPriority {
 public:
  explicit RoundPriority(std::chrono::milliseconds interval) : interval_(interval) {}
  // Call when a round starts. True when this round was raised from idle to normal priority.
  bool begin_round();

 private:
  ThreadPriority priority_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point last_round_ = std::chrono::steady_clock::now();
};

}  // namespace gf::io
