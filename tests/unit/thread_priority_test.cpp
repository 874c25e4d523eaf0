// Scheduling class of background work: the store writer's commits run idle while it keeps up.
#include "io/sys/thread_priority.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "io/store/group_commit.hpp"

namespace gf::io {
namespace {

TEST(ThreadPriority, SwitchesTheCallingThreadBetweenIdleAndNormal) {
  std::thread t([] {
    ThreadPriority p;
    EXPECT_FALSE(p.background());
    ASSERT_TRUE(p.set_background(true));
    EXPECT_EQ(::sched_getscheduler(0), SCHED_IDLE);
    EXPECT_TRUE(p.background());
    ASSERT_TRUE(p.set_background(false));
    EXPECT_EQ(::sched_getscheduler(0), SCHED_OTHER);
  });
  t.join();
  EXPECT_EQ(::sched_getscheduler(0), SCHED_OTHER);  // other threads are untouched
}

TEST(RoundPriority, OnlyTheWorkOfAnOnTimeRoundRunsIdle) {
  std::thread t([] {
    // Simulated time: rounds 20 ms apart are on time, one 60 ms after the last is late.
    using std::chrono::milliseconds;
    const RoundPriority::Clock::time_point t0{};
    RoundPriority p(milliseconds(20), t0);
    EXPECT_FALSE(p.begin_round(t0 + milliseconds(20)));  // on time
    EXPECT_EQ(::sched_getscheduler(0), SCHED_OTHER);     // nothing idle outside run_idle()
    EXPECT_EQ(p.run_idle([] { return ::sched_getscheduler(0); }), SCHED_IDLE);
    EXPECT_EQ(::sched_getscheduler(0), SCHED_OTHER);
    EXPECT_FALSE(p.begin_round(t0 + milliseconds(60)));  // exactly two intervals: not late yet
    EXPECT_TRUE(p.begin_round(t0 + milliseconds(121)));  // > 2 intervals late
    EXPECT_EQ(p.run_idle([] { return ::sched_getscheduler(0); }), SCHED_OTHER);  // catching up
    EXPECT_FALSE(p.begin_round(t0 + milliseconds(141)));                         // back on time
    EXPECT_EQ(p.run_idle([] { return ::sched_getscheduler(0); }), SCHED_IDLE);
  });
  t.join();
}

// The writer commits at idle priority, but never holds the lock (which every read takes) or runs
// its chore at idle priority: a starved idle thread must not make requests wait.
TEST(GroupCommit, CommitsRunIdleAndNothingElseDoes) {
  GroupCommit<int> gc;
  std::mutex mu;
  std::vector<int> commit_policies;
  std::vector<int> chore_policies;
  gc.init("test", Millis(2), [&](const GroupCommit<int>::Batch&) -> Result<void> {
    std::lock_guard lock(mu);
    commit_policies.push_back(::sched_getscheduler(0));
    return {};
  });
  gc.start_writer(
      [&] {
        std::lock_guard lock(mu);
        chore_policies.push_back(::sched_getscheduler(0));
      },
      Millis(1), /*background=*/true);
  for (int i = 0; i < 20; ++i) {
    {
      auto lock = gc.lock();
      ASSERT_TRUE(gc.stage(std::to_string(i), i).has_value());
    }
    ASSERT_TRUE(gc.flush().has_value());
  }
  gc.stop();
  std::lock_guard lock(mu);
  ASSERT_FALSE(commit_policies.empty());
  ASSERT_FALSE(chore_policies.empty());
  // Late rounds (a loaded machine) commit at normal priority; most rounds are on time.
  EXPECT_GT(std::count(commit_policies.begin(), commit_policies.end(), SCHED_IDLE), 0);
  EXPECT_EQ(std::count(chore_policies.begin(), chore_policies.end(), SCHED_IDLE), 0);
}

}  // namespace
}  // namespace gf::io
