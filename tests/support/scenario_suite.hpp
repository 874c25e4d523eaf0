#pragma once
// One parametrised GoogleTest per scenario script in a directory, for every dialect:
//
//   class Scenario : public ::testing::TestWithParam<std::string> {};
//   TEST_P(Scenario, Passes) { gf::testing::expect_scenario_passes(GetParam(), run_scenario); }
//   INSTANTIATE_TEST_SUITE_P(Scripts, Scenario,
//                            ::testing::ValuesIn(gf::testing::scenario_files(DIR)),
//                            gf::testing::scenario_test_name);
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "scenario_result.hpp"

namespace gf::testing {

// The *.scn files directly in `dir`, sorted.
inline std::vector<std::string> scenario_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".scn") {
      out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The file's stem with every character GoogleTest does not take in a name made '_'.
inline std::string scenario_test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = std::filesystem::path(info.param).stem().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      c = '_';
    }
  }
  return name;
}

// Runs the script at `path` strictly with `run(script, strict)`: it must check something and
// every failure is reported with the file's name.
template <typename Run>
void expect_scenario_passes(const std::string& path, Run run) {
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  const ScenarioResult res = run(ss.str(), /*strict=*/true);
  EXPECT_GT(res.expectations, 0u) << "a scenario must check something";
  for (const auto& f : res.failures) {
    ADD_FAILURE() << path << ": " << f;
  }
}

}  // namespace gf::testing
