// Milter packets built by hand, independent of the codec's encoders: a 4-byte big-endian length
// (the code byte and the payload), the code, the payload.
#pragma once

#include <cstdint>
#include <string>

namespace gf::test {

inline std::string milter_packet(char code, const std::string& payload) {
  const auto len = static_cast<std::uint32_t>(payload.size() + 1);
  std::string out;
  out += static_cast<char>(len >> 24);
  out += static_cast<char>((len >> 16) & 0xff);
  out += static_cast<char>((len >> 8) & 0xff);
  out += static_cast<char>(len & 0xff);
  out += code;
  return out + payload;
}

}  // namespace gf::test
