#pragma once
// What running a scenario script returns, in every dialect (scenario.hpp for the greylist,
// comment_scenario.hpp for the comment API).
#include <cstddef>
#include <string>
#include <vector>

namespace gf::testing {

struct ScenarioResult {
  std::vector<std::string> failures;  // "line N: ..."
  std::size_t requests = 0;
  std::size_t expectations = 0;
};

}  // namespace gf::testing
