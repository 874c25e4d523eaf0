#include "core/common/constant_time.hpp"

namespace gf {

bool constant_time_equal(std::string_view candidate, std::string_view secret) {
  // Every byte of `secret` is read; a shorter candidate is read cyclically (never past its end)
  // and the length difference is folded in, so no branch depends on the contents.
  unsigned diff = candidate.size() == secret.size() ? 0u : 1u;
  const std::size_t n = candidate.size();
  for (std::size_t i = 0; i < secret.size(); ++i) {
    const auto c = n == 0 ? 0u : static_cast<unsigned char>(candidate[i % n]);
    diff |= c ^ static_cast<unsigned char>(secret[i]);
  }
  // Keep the compiler from turning the loop back into an early-exit comparison.
  volatile unsigned sink = diff;
  return sink == 0;
}

}  // namespace gf
