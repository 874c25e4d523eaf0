// GF_CHECK / GF_CHECK_OK / GF_ASSERT / GF_BUG (src/core/common/check.hpp).
#include "core/common/check.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/common/result.hpp"

namespace gf {
namespace {

TEST(Check, PassingCheckDoesNothing) {
  int evaluated = 0;
  GF_CHECK(++evaluated == 1, "evaluated once");
  EXPECT_EQ(evaluated, 1);
  Result<int> ok = 3;
  GF_CHECK_OK(ok, "a value");
}

TEST(CheckDeathTest, FailingCheckAbortsWithFileLineAndMessage) {
  EXPECT_DEATH(GF_CHECK(1 + 1 == 3, "arithmetic"),
               "check_test\\.cpp:[0-9]+: check failed: 1 \\+ 1 == 3: arithmetic");
}

TEST(CheckDeathTest, FailingCheckOkNamesTheError) {
  Result<int> bad = fail(Errc::Config, "policy.listen: bad port");
  EXPECT_DEATH(GF_CHECK_OK(bad, "validated at load"),
               "check failed: bad: validated at load: policy.listen: bad port");
}

#ifdef NDEBUG
std::string g_last_bug;
void record_bug(std::string_view report) { g_last_bug = std::string(report); }

TEST(Check, AssertIsNotEvaluatedInRelease) {
  int evaluated = 0;
  GF_ASSERT(++evaluated == 42, "never evaluated");
  EXPECT_EQ(evaluated, 0);
}

TEST(Check, BugCountsAndReportsInRelease) {
  set_bug_handler(&record_bug);
  const std::uint64_t before = bug_count();
  GF_BUG("an impossible branch");
  EXPECT_EQ(bug_count(), before + 1);
  EXPECT_NE(g_last_bug.find("check_test.cpp:"), std::string::npos);
  EXPECT_NE(g_last_bug.find(": an impossible branch"), std::string::npos);
  set_bug_handler(nullptr);
}
#else
TEST(CheckDeathTest, AssertAndBugAbortInDebug) {
  EXPECT_DEATH(GF_ASSERT(false, "debug assert"), "debug assert");
  EXPECT_DEATH(GF_BUG("debug bug"), "GF_BUG: debug bug");
}
#endif

}  // namespace
}  // namespace gf
