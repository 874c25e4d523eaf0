// Runs every tests/scenarios/*.scn script with simulated time.
#include "scenario.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

class Scenario : public ::testing::TestWithParam<std::string> {};

TEST_P(Scenario, Passes) {
  std::ifstream in(GetParam());
  ASSERT_TRUE(in) << GetParam();
  std::stringstream ss;
  ss << in.rdbuf();
  const auto res = gf::testing::run_scenario(ss.str(), /*strict=*/true);
  EXPECT_GT(res.expectations, 0u) << "a scenario must check something";
  for (const auto& f : res.failures) {
    ADD_FAILURE() << GetParam() << ": " << f;
  }
}

std::vector<std::string> scenario_files() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(GF_SCENARIO_DIR)) {
    if (e.path().extension() == ".scn") {
      out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Scripts, Scenario, ::testing::ValuesIn(scenario_files()),
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

TEST(ScenarioRunner, ReportsAFailedExpectation) {
  const auto res = gf::testing::run_scenario("REQUEST\nEXPECT action=DUNNO\n", true);
  ASSERT_EQ(res.failures.size(), 1u);
  EXPECT_NE(res.failures[0].find("line 2"), std::string::npos);
}

}  // namespace
