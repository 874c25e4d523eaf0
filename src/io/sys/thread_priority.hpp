#pragma once
// Scheduling class of the calling thread, for background work that must never delay a request.
//
// A background thread (SCHED_IDLE) runs only on a core no request-serving thread wants, so its
// bursts (a group commit, an expiry sweep) cannot preempt an io thread and show up as a latency
// tail. A thread that must still keep up (the store writer: at most one commit interval of writes
// may be lost) switches itself back to normal priority when it notices it has fallen behind.
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

}  // namespace gf::io
