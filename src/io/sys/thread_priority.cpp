#include "io/sys/thread_priority.hpp"

#include <sched.h>

namespace gf::io {

bool ThreadPriority::set_background(bool background) {
  if (background == background_) {
    return true;
  }
  sched_param param{};
  if (::sched_setscheduler(0, background ? SCHED_BATCH : SCHED_OTHER, &param) != 0) {
    return false;
  }
  background_ = background;
  return true;
}

bool RoundPriority::begin_round(Clock::time_point now) {
  late_ = now - last_round_ > 2 * interval_;
  last_round_ = now;
  return late_;
}

}  // namespace gf::io
