#include "core/akismet/ids.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/akismet/protocol.hpp"

namespace gf::akismet {

std::string make_guid(std::int64_t unix_ms, RandomSource& rng) {
  const std::uint64_t a = rng.next_u64();
  const std::uint64_t b = rng.next_u64();
  const auto t = static_cast<std::uint64_t>(std::max<std::int64_t>(unix_ms, 0));
  // "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}" of (t >> 16, t & 0xffff, a's 12 bits, the variant
  // and a's next 14 bits, b's 48 bits), written by hand: it runs on every check.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string g(36, '-');
  const auto put = [&](std::size_t at, std::uint64_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i) {
      g[at + static_cast<std::size_t>(i)] = kHex[v & 15];
      v >>= 4;
    }
  };
  put(0, (t >> 16) & 0xffffffffULL, 8);
  put(9, t & 0xffffULL, 4);
  g[14] = '7';
  put(15, a & 0xfffULL, 3);
  put(19, 0x8000ULL | ((a >> 12) & 0x3fffULL), 4);
  put(24, b & 0xffffffffffffULL, 12);
  return g;
}

std::string guid_floor(std::int64_t unix_ms) {
  const auto t = static_cast<std::uint64_t>(std::max<std::int64_t>(unix_ms, 0));
  return fmt::format("{:08x}-{:04x}", (t >> 16) & 0xffffffffULL, t & 0xffffULL);
}

std::string make_api_key(RandomSource& rng) {
  // Hex, as Akismet's keys are: the WordPress plugin drops every character outside [a-f0-9]
  // from a key typed on its settings page.
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t bits = rng.next_u64();
  std::string key(kKeyLength, '0');
  for (std::size_t i = kKeyLength; i-- > 0;) {
    key[i] = kHex[bits & 15];
    bits >>= 4;
  }
  return key;
}

}  // namespace gf::akismet
