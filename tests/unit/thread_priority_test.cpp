// The store writer's scheduling class: idle priority while it keeps up, normal when behind.
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "io/store/lmdb_store.hpp"
#include "io/sys/thread_priority.hpp"

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

// Scheduling policy (field 41 of /proc/self/task/TID/stat) of every thread of this process.
std::vector<int> thread_policies() {
  std::vector<int> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream f(e.path() / "stat");
    std::string line;
    std::getline(f, line);
    std::istringstream rest(line.substr(line.rfind(')') + 2));  // fields from 3 on
    std::string field;
    for (int i = 3; i <= 41 && rest >> field; ++i) {
      if (i == 41) {
        out.push_back(std::stoi(field));
      }
    }
  }
  return out;
}

TEST(RoundPriority, ARoundOnTimeStaysIdleALateRoundIsRaised) {
  std::thread t([] {
    RoundPriority p(std::chrono::milliseconds(20));
    EXPECT_FALSE(p.begin_round());  // on time: idle
    EXPECT_EQ(::sched_getscheduler(0), SCHED_IDLE);
    std::this_thread::sleep_for(std::chrono::milliseconds(60));  // > 2 intervals late
    EXPECT_TRUE(p.begin_round());
    EXPECT_EQ(::sched_getscheduler(0), SCHED_OTHER);
    EXPECT_FALSE(p.begin_round());  // back on time: idle again, not a new promotion
    EXPECT_EQ(::sched_getscheduler(0), SCHED_IDLE);
  });
  t.join();
}

TEST(ThreadPriority, TheLmdbWriterRunsAtIdlePriority) {
  char tmpl[] = "/tmp/gf-prio-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  {
    LmdbOptions o;
    o.path = dir + "/db";
    o.map_size = 16 << 20;
    o.commit_interval = Millis(5);
    auto store = LmdbStore::open(o, {}).value();
    ASSERT_TRUE(store->put("t:k", greylist::Record{1, 2, 3, 4}).has_value());
    ASSERT_TRUE(store->flush().has_value());  // the writer has run at least one round
    const auto policies = thread_policies();
    EXPECT_EQ(std::count(policies.begin(), policies.end(), SCHED_IDLE), 1);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gf::io
