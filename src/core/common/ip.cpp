#include "core/common/ip.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <charconv>
#include <cstring>

namespace gf {
namespace {

constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

IpAddress mask_bits(const IpAddress& ip, int bits) {
  IpAddress out = ip;
  for (int i = 0; i < 16; ++i) {
    const int keep = bits - i * 8;
    if (keep >= 8) {
      continue;
    }
    out.bytes[i] = keep <= 0 ? 0 : static_cast<std::uint8_t>(out.bytes[i] & (0xff << (8 - keep)));
  }
  return out;
}

}  // namespace

bool IpAddress::is_v4() const { return std::memcmp(bytes.data(), kMappedPrefix, 12) == 0; }

Result<IpAddress> parse_ip(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (auto pct = text.find('%'); pct != std::string_view::npos) {
    text = text.substr(0, pct);
  }
  if (text.empty() || text.size() > 45) {
    return fail(Errc::InvalidInput, "not an IP address");
  }
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip;
  if (text.find(':') == std::string_view::npos) {
    in_addr a4{};
    if (inet_pton(AF_INET, buf, &a4) != 1) {
      return fail(Errc::InvalidInput, fmt::format("'{}' is not an IPv4 address", text));
    }
    std::memcpy(ip.bytes.data(), kMappedPrefix, 12);
    std::memcpy(ip.bytes.data() + 12, &a4, 4);
    return ip;
  }
  in6_addr a6{};
  if (inet_pton(AF_INET6, buf, &a6) != 1) {
    return fail(Errc::InvalidInput, fmt::format("'{}' is not an IPv6 address", text));
  }
  std::memcpy(ip.bytes.data(), &a6, 16);
  return ip;
}

std::string to_string(const IpAddress& ip) {
  char buf[INET6_ADDRSTRLEN];
  if (ip.is_v4()) {
    inet_ntop(AF_INET, ip.bytes.data() + 12, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, ip.bytes.data(), buf, sizeof buf);
  }
  return buf;
}

IpAddress mask(const IpAddress& ip, int v4_prefix, int v6_prefix) {
  return ip.is_v4() ? mask_bits(ip, 96 + v4_prefix) : mask_bits(ip, v6_prefix);
}

std::string network_key(const IpAddress& ip, int v4_prefix, int v6_prefix) {
  const IpAddress net = mask(ip, v4_prefix, v6_prefix);
  return fmt::format("{}/{}", to_string(net), ip.is_v4() ? v4_prefix : v6_prefix);
}

bool Cidr::contains(const IpAddress& ip) const { return mask_bits(ip, prefix_bits) == network; }

Result<Cidr> parse_cidr(std::string_view text) {
  std::string_view addr = text;
  int bits = -1;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    std::string_view len = text.substr(slash + 1);
    auto [p, ec] = std::from_chars(len.data(), len.data() + len.size(), bits);
    if (ec != std::errc() || p != len.data() + len.size() || bits < 0) {
      return fail(Errc::InvalidInput, fmt::format("'{}' has a bad prefix length", text));
    }
  }
  auto ip = parse_ip(addr);
  if (!ip) {
    return tl::unexpected(ip.error());
  }
  const bool v4 = addr.find(':') == std::string_view::npos;
  const int max_bits = v4 ? 32 : 128;
  if (bits < 0) {
    bits = max_bits;
  }
  if (bits > max_bits) {
    return fail(Errc::InvalidInput,
                fmt::format("'{}' has a prefix longer than {}", text, max_bits));
  }
  const int bits128 = v4 ? 96 + bits : bits;
  return Cidr{mask_bits(*ip, bits128), bits128};
}

std::string to_string(const Cidr& c) {
  const bool v4 = c.network.is_v4() && c.prefix_bits >= 96;
  return fmt::format("{}/{}", to_string(c.network), v4 ? c.prefix_bits - 96 : c.prefix_bits);
}

}  // namespace gf
