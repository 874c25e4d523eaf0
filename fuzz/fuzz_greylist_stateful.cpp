// Stateful fuzzer: replays scenario scripts (REQUEST / TIME_PASSES / STORE fail / EXPIRE ...)
// against the greylist with simulated time, as Envoy's rate-limit fuzzers replay actions.
#include <cstdint>
#include <string_view>

#include "scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16384) {
    return 0;
  }
  (void)gf::testing::run_scenario(std::string_view(reinterpret_cast<const char*>(data), size),
                                  /*strict=*/false);
  return 0;
}
