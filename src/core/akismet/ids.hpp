#pragma once
// The ids the comment API hands out, made from injected randomness and time: check GUIDs
// (UUIDv7-shaped, so their text sorts by creation time and retention trims stored checks from
// the front) and API keys (kKeyLength hex digits, from 48 random bits).
//
// Threading: pure apart from the RandomSource, which the caller provides. Errors: none.
#include <cstdint>
#include <string>

#include "core/common/random.hpp"

namespace gf::akismet {

// A UUIDv7 for a check made at Unix milliseconds `unix_ms`: the first 48 bits are the time.
[[nodiscard]] std::string make_guid(std::int64_t unix_ms, RandomSource& rng);
// The smallest GUID text of `unix_ms` (checks made before it sort below).
[[nodiscard]] std::string guid_floor(std::int64_t unix_ms);
// A fresh API key candidate, 12 lower-case hex digits (the caller checks it is unused).
[[nodiscard]] std::string make_api_key(RandomSource& rng);

}  // namespace gf::akismet
