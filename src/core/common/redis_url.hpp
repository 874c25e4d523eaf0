#pragma once
// Where a Redis server is, as configured by `store.redis_url`:
//   redis://[[user]:password@]HOST[:PORT][/DB]   HOST a name, an IPv4 address or [IPv6]
//   unix:/path/to/redis.sock[?db=N]              a unix socket (as `redis-cli -s`)
// Port defaults to 6379 and DB to 0. User and password may be %XX-escaped (a ':' or '@' in a
// password). rediss:// (TLS) is refused with a clear error: the Debian hiredis has no TLS.
//
// Error contract: parse_redis_url() never throws; anything else is InvalidInput with a message
// that names what is wrong (config text is untrusted input). format_redis_url() writes a URL
// that parses back to the same value; with `redact`, the password is shown as "***" (for logs).
#include <cstdint>
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace gf {

struct RedisUrl {
  enum class Kind { Tcp, Unix };
  Kind kind = Kind::Tcp;
  std::string host;  // Tcp: a name or an address, IPv6 without brackets
  std::uint16_t port = 6379;
  std::string path;  // Unix: the socket's path
  std::string user;  // empty: the default user (AUTH with the password only)
  std::string password;
  bool has_password = false;
  std::uint32_t db = 0;

  friend bool operator==(const RedisUrl&, const RedisUrl&) = default;
};

// Each part is bounded so that format_redis_url() of anything parse_redis_url() accepts fits in
// kMaxRedisUrlBytes again, %XX escapes (3 bytes for 1) included: fuzz_redis_url found a 371-byte
// URL of raw control bytes in the credentials whose escaped form no longer parsed.
inline constexpr std::size_t kMaxRedisUrlBytes = 2048;
inline constexpr std::size_t kMaxRedisCredentialBytes = 256;  // user, password; after %XX decoding
inline constexpr std::size_t kMaxRedisHostBytes = 253;        // a DNS name's limit
inline constexpr std::size_t kMaxUnixPathBytes = 107;         // sun_path less its NUL

[[nodiscard]] Result<RedisUrl> parse_redis_url(std::string_view text);
std::string format_redis_url(const RedisUrl& url, bool redact = true);

}  // namespace gf
