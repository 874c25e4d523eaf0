// Runs every tests/scenarios/comments/*.scn script (the comment-check dialect,
// tests/support/comment_scenario.hpp) on simulated time.
#include "comment_scenario.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

class CommentScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(CommentScenario, Passes) {
  std::ifstream in(GetParam());
  ASSERT_TRUE(in) << GetParam();
  std::stringstream ss;
  ss << in.rdbuf();
  const auto res = gf::testing::run_comment_scenario(ss.str(), /*strict=*/true);
  EXPECT_GT(res.expectations, 0u) << "a scenario must check something";
  for (const auto& f : res.failures) {
    ADD_FAILURE() << GetParam() << ": " << f;
  }
}

std::vector<std::string> scenario_files() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(GF_COMMENT_SCENARIO_DIR)) {
    if (e.path().extension() == ".scn") {
      out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Scripts, CommentScenario, ::testing::ValuesIn(scenario_files()),
                         [](const auto& param_info) {
                           std::string name =
                               std::filesystem::path(param_info.param).stem().string();
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) {
                               c = '_';
                             }
                           }
                           return name;
                         });

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
