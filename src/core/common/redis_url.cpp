#include "core/common/redis_url.hpp"

#include <fmt/format.h>

#include <charconv>

#include "core/common/strings.hpp"

namespace gf {
namespace {

Result<RedisUrl> bad(std::string_view why) {
  return fail(Errc::InvalidInput, "redis url: " + std::string(why));
}

// %XX-decodes `in`; false on a broken escape.
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) {
      return false;
    }
    const int hi = hex_digit_value(in[i + 1]);
    const int lo = hex_digit_value(in[i + 2]);
    if (hi < 0 || lo < 0) {
      return false;
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

// Escapes what would not parse back: '%', ':', '@', '/', '?', '#', '[', ']', controls, space.
std::string percent_encode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : in) {
    const auto u = static_cast<unsigned char>(c);
    const bool plain = u > 0x20 && u < 0x7f && c != '%' && c != ':' && c != '@' && c != '/' &&
                       c != '?' && c != '#' && c != '[' && c != ']';
    if (plain) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

template <class T>
bool parse_number(std::string_view s, T max, T& out) {
  if (s.empty() || s.size() > 10) {
    return false;
  }
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > max) {
    return false;
  }
  out = static_cast<T>(v);
  return true;
}

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

bool ipv6_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
         c == '.';
}

Result<RedisUrl> parse_unix(std::string_view rest) {
  RedisUrl url;
  url.kind = RedisUrl::Kind::Unix;
  if (const std::size_t q = rest.find('?'); q != std::string_view::npos) {
    const std::string_view query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    if (!query.starts_with("db=") ||
        !parse_number<std::uint32_t>(query.substr(3), 1u << 30, url.db)) {
      return bad("a unix socket URL takes only ?db=N (N a number)");
    }
  }
  if (rest.starts_with("//")) {
    rest.remove_prefix(2);  // unix:///path
  }
  if (rest.empty() || rest[0] != '/') {
    return bad("unix: needs an absolute socket path, as unix:/run/redis/redis.sock");
  }
  if (rest.size() > kMaxUnixPathBytes) {
    return bad(fmt::format("the socket path is longer than a unix socket address holds ({} bytes)",
                           kMaxUnixPathBytes));
  }
  for (char c : rest) {
    if (static_cast<unsigned char>(c) < 0x20) {
      return bad("control character in the socket path");
    }
  }
  url.path = std::string(rest);
  return url;
}

Result<void> parse_userinfo(std::string_view info, RedisUrl& url) {
  const std::size_t colon = info.find(':');
  if (colon == std::string_view::npos) {
    return tl::unexpected(
        Error{Errc::InvalidInput, "redis url: credentials must be user:password or :password"});
  }
  if (!percent_decode(info.substr(0, colon), url.user) ||
      !percent_decode(info.substr(colon + 1), url.password)) {
    return tl::unexpected(Error{Errc::InvalidInput, "redis url: broken %XX escape in credentials"});
  }
  if (url.user.size() > kMaxRedisCredentialBytes ||
      url.password.size() > kMaxRedisCredentialBytes) {
    return tl::unexpected(Error{
        Errc::InvalidInput, fmt::format("redis url: user and password are limited to {} bytes each",
                                        kMaxRedisCredentialBytes)});
  }
  url.has_password = true;
  return {};
}

Result<void> parse_host_port(std::string_view hp, RedisUrl& url) {
  auto err = [](std::string_view why) {
    return tl::unexpected(Error{Errc::InvalidInput, "redis url: " + std::string(why)});
  };
  std::string_view port;
  if (!hp.empty() && hp[0] == '[') {
    const std::size_t close = hp.find(']');
    if (close == std::string_view::npos) {
      return err("unclosed [ in the IPv6 address");
    }
    url.host = std::string(hp.substr(1, close - 1));
    for (char c : url.host) {
      if (!ipv6_char(c)) {
        return err("bad character in the IPv6 address");
      }
    }
    const std::string_view after = hp.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        return err("expected :PORT after the IPv6 address");
      }
      port = after.substr(1);
      if (port.empty()) {
        return err("empty port");
      }
    }
  } else {
    const std::size_t colon = hp.find(':');
    if (colon != hp.rfind(':')) {
      return err("an IPv6 address goes in [brackets], as redis://[::1]:6379");
    }
    url.host = std::string(hp.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = hp.substr(colon + 1);
      if (port.empty()) {
        return err("empty port");
      }
    }
    for (char c : url.host) {
      if (!host_char(c)) {
        return err("bad character in the host name (IPv6 goes in [brackets])");
      }
    }
  }
  if (url.host.empty()) {
    return err("no host");
  }
  if (url.host.size() > kMaxRedisHostBytes) {
    return err(fmt::format("host longer than {} bytes", kMaxRedisHostBytes));
  }
  if (!port.empty() && (!parse_number<std::uint16_t>(port, 65535, url.port) || url.port == 0)) {
    return err("port must be 1 to 65535");
  }
  return {};
}

}  // namespace

Result<RedisUrl> parse_redis_url(std::string_view text) {
  if (text.size() > kMaxRedisUrlBytes) {
    return bad(fmt::format("longer than {} bytes", kMaxRedisUrlBytes));
  }
  if (text.starts_with("unix:")) {
    return parse_unix(text.substr(5));
  }
  if (text.starts_with("rediss://")) {
    return bad("rediss:// (TLS) is not supported: Debian's hiredis has no TLS");
  }
  if (!text.starts_with("redis://")) {
    return bad("expected redis://[user:pass@]HOST[:PORT][/DB] or unix:/path");
  }
  std::string_view rest = text.substr(8);
  RedisUrl url;
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    const std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && !parse_number<std::uint32_t>(db, 1u << 30, url.db)) {
      return bad("the path must be a database number, as redis://HOST/2");
    }
  }
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    if (auto ok = parse_userinfo(authority.substr(0, at), url); !ok) {
      return tl::unexpected(ok.error());
    }
    authority = authority.substr(at + 1);
  }
  if (auto ok = parse_host_port(authority, url); !ok) {
    return tl::unexpected(ok.error());
  }
  return url;
}

std::string format_redis_url(const RedisUrl& url, bool redact) {
  if (url.kind == RedisUrl::Kind::Unix) {
    return "unix://" + url.path + (url.db != 0 ? "?db=" + std::to_string(url.db) : "");
  }
  std::string out = "redis://";
  if (url.has_password) {
    out += percent_encode(url.user);
    out += ':';
    out += redact ? std::string("***") : percent_encode(url.password);
    out += '@';
  }
  const bool v6 = url.host.find(':') != std::string::npos;
  if (v6) {
    out += '[';
  }
  out += url.host;
  if (v6) {
    out += ']';
  }
  out += ':';
  out += std::to_string(url.port);
  out += '/';
  out += std::to_string(url.db);
  return out;
}

}  // namespace gf
