#pragma once
// IP addresses and networks as values. IPv4 is stored in its IPv4-mapped IPv6 form
// (::ffff:a.b.c.d) so that one comparison serves both families; an address written as
// IPv4-mapped IPv6 is therefore the same value as the plain IPv4 address.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace gf {

struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};

  bool is_v4() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// Accepts dotted IPv4, IPv6 (with optional brackets and a zone id, which is dropped).
[[nodiscard]] Result<IpAddress> parse_ip(std::string_view text);
std::string to_string(const IpAddress& ip);

// Zeroes all bits after the prefix; v4_prefix counts IPv4 bits (0-32), v6_prefix IPv6 bits.
IpAddress mask(const IpAddress& ip, int v4_prefix, int v6_prefix);

// The network an address belongs to, as text: "192.0.2.0/24", "2001:db8::/64".
std::string network_key(const IpAddress& ip, int v4_prefix, int v6_prefix);

struct Cidr {
  IpAddress network;
  int prefix_bits = 128;  // in IPv6 bits: an IPv4 /24 is stored as 96 + 24

  bool contains(const IpAddress& ip) const;
};

// Parses "192.0.2.0/24", "2001:db8::/32", or a single address (full-length prefix).
[[nodiscard]] Result<Cidr> parse_cidr(std::string_view text);
std::string to_string(const Cidr& c);

}  // namespace gf
