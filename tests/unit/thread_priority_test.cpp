// Scheduling class of background work: the store writer's commits run as SCHED_BATCH while it
// keeps up, and its thread can always get back to SCHED_OTHER, privileged or not.
#include "io/sys/thread_priority.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "io/store/group_commit.hpp"

namespace gf::io {
namespace {

TEST(ThreadPriority, SwitchesTheCallingThreadBetweenBatchAndNormal) {
  std::thread t([] {
    ThreadPriority p;
    EXPECT_FALSE(p.background());
    ASSERT_TRUE(p.set_background(true));
    EXPECT_EQ(::sched_getscheduler(0), SCHED_BATCH);
    EXPECT_TRUE(p.background());
    ASSERT_TRUE(p.set_background(false));
    EXPECT_EQ(::sched_getscheduler(0), SCHED_OTHER);
  });
  t.join();
  EXPECT_EQ(::sched_getscheduler(0), SCHED_OTHER);  // other threads are untouched
}

// The packaged daemon runs as its own user without CAP_SYS_NICE and with RLIMIT_NICE 0: it must
// still get back to SCHED_OTHER (it could not leave SCHED_IDLE, and stayed starved for good).
// Exits 0 when the calling thread, without privilege, goes to SCHED_BATCH and back three times.
[[noreturn]] void round_trip_unprivileged() {
  const rlimit no_nice{0, 0};
  if (::setrlimit(RLIMIT_NICE, &no_nice) != 0) {
    std::_Exit(10);
  }
  // Root drops to nobody (and so every capability); anyone else already is unprivileged.
  if (::geteuid() == 0 &&
      (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0)) {
    std::_Exit(11);
  }
  ThreadPriority p;
  for (int i = 0; i < 3; ++i) {
    if (!p.set_background(true) || ::sched_getscheduler(0) != SCHED_BATCH) {
      std::_Exit(1);
    }
    if (!p.set_background(false) || ::sched_getscheduler(0) != SCHED_OTHER) {
      std::_Exit(2);
    }
  }
  std::_Exit(0);
}

TEST(ThreadPriority, AnUnprivilegedThreadGetsBackToNormal) {
  EXPECT_EXIT(round_trip_unprivileged(), ::testing::ExitedWithCode(0), "");
}

TEST(RoundPriority, OnlyTheWorkOfAnOnTimeRoundRunsInTheBackground) {
  std::thread t([] {
    // Simulated time: rounds 20 ms apart are on time, one 60 ms after the last is late.
    using std::chrono::milliseconds;
    const RoundPriority::Clock::time_point t0{};
    RoundPriority p(milliseconds(20), t0);
    EXPECT_FALSE(p.begin_round(t0 + milliseconds(20)));  // on time
    EXPECT_EQ(::sched_getscheduler(0), SCHED_OTHER);     // nothing batch outside run_background()
    EXPECT_EQ(p.run_background([] { return ::sched_getscheduler(0); }), SCHED_BATCH);
    EXPECT_EQ(::sched_getscheduler(0), SCHED_OTHER);
    EXPECT_FALSE(p.begin_round(t0 + milliseconds(60)));  // exactly two intervals: not late yet
    EXPECT_TRUE(p.begin_round(t0 + milliseconds(121)));  // > 2 intervals late
    EXPECT_EQ(p.run_background([] { return ::sched_getscheduler(0); }), SCHED_OTHER);  // catch up
    EXPECT_FALSE(p.begin_round(t0 + milliseconds(141)));  // back on time
    EXPECT_EQ(p.run_background([] { return ::sched_getscheduler(0); }), SCHED_BATCH);
  });
  t.join();
}

// The writer commits as SCHED_BATCH, but never holds the lock (which every read takes) or runs
// its chore in the background class.
TEST(GroupCommit, CommitsRunInTheBackgroundAndNothingElseDoes) {
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
  EXPECT_GT(std::count(commit_policies.begin(), commit_policies.end(), SCHED_BATCH), 0);
  EXPECT_EQ(std::count(commit_policies.begin(), commit_policies.end(), SCHED_IDLE), 0);
  EXPECT_EQ(std::count(chore_policies.begin(), chore_policies.end(), SCHED_BATCH), 0);
}

}  // namespace
}  // namespace gf::io
