// Runs every tests/scenarios/comments/*.scn script (the comment-check dialect,
// tests/support/comment_scenario.hpp) on simulated time.
#include "comment_scenario.hpp"

#include <gtest/gtest.h>

#include "scenario_suite.hpp"

namespace {

class CommentScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(CommentScenario, Passes) {
  gf::testing::expect_scenario_passes(GetParam(), gf::testing::run_comment_scenario);
}

INSTANTIATE_TEST_SUITE_P(Scripts, CommentScenario,
                         ::testing::ValuesIn(gf::testing::scenario_files(GF_COMMENT_SCENARIO_DIR)),
                         gf::testing::scenario_test_name);

TEST(CommentScenarioRunner, ReportsAFailedExpectationWithItsLine) {
  const auto res = gf::testing::run_comment_scenario(
      "CHECK\nEXPECT verdict=spam\nEXPECT verdict=ham no_symbol=NO_REFERRER\n", true);
  ASSERT_EQ(res.failures.size(), 1u);
  EXPECT_NE(res.failures[0].find("line 2"), std::string::npos) << res.failures[0];
  EXPECT_EQ(res.expectations, 3u);
}

TEST(CommentScenarioRunner, StrictModeRejectsUnknownCommandsAndExpectations) {
  EXPECT_EQ(
      gf::testing::run_comment_scenario("FROB\nCHECK\nEXPECT colour=red\n", true).failures.size(),
      2u);
  EXPECT_TRUE(gf::testing::run_comment_scenario("FROB\nCHECK\nEXPECT colour=red\n", false)
                  .failures.empty());
}

}  // namespace
