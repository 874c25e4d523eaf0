#pragma once
// Comparing secrets (API keys, admin tokens) without leaking where they differ.
//
// constant_time_equal() looks at every byte of the expected secret whatever the candidate holds,
// and folds the differences into one value that is tested once at the end, so its running time
// depends on the secret's length only, never on how long a prefix of it the candidate got right.
// A candidate of another length is unequal; the length of the secret is not treated as secret.
// Pure; safe from any thread.
#include <string_view>

namespace gf {

[[nodiscard]] bool constant_time_equal(std::string_view candidate, std::string_view secret);

}  // namespace gf
