#include "core/common/redis_url.hpp"

#include <gtest/gtest.h>

namespace gf {
namespace {

TEST(RedisUrl, HostPortAndDatabase) {
  auto u = parse_redis_url("redis://10.0.0.5:7001/3").value();
  EXPECT_EQ(u.kind, RedisUrl::Kind::Tcp);
  EXPECT_EQ(u.host, "10.0.0.5");
  EXPECT_EQ(u.port, 7001);
  EXPECT_EQ(u.db, 3u);
  EXPECT_FALSE(u.has_password);
}

TEST(RedisUrl, DefaultsArePort6379AndDatabaseZero) {
  auto u = parse_redis_url("redis://redis.example").value();
  EXPECT_EQ(u.host, "redis.example");
  EXPECT_EQ(u.port, 6379);
  EXPECT_EQ(u.db, 0u);
  EXPECT_EQ(parse_redis_url("redis://h/").value().db, 0u);
}

TEST(RedisUrl, CredentialsWithEscapesAndPasswordOnly) {
  auto u = parse_redis_url("redis://gf%40mx:p%3Aw@d@[::1]:6380/1").value();
  EXPECT_EQ(u.user, "gf@mx");
  EXPECT_EQ(u.password, "p:w@d");  // the last '@' ends the credentials
  EXPECT_TRUE(u.has_password);
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 6380);
  auto p = parse_redis_url("redis://:s3cret@localhost").value();
  EXPECT_EQ(p.user, "");
  EXPECT_EQ(p.password, "s3cret");
}

TEST(RedisUrl, UnixSocketWithOptionalDatabase) {
  auto u = parse_redis_url("unix:/run/redis/redis-server.sock").value();
  EXPECT_EQ(u.kind, RedisUrl::Kind::Unix);
  EXPECT_EQ(u.path, "/run/redis/redis-server.sock");
  EXPECT_EQ(u.db, 0u);
  EXPECT_EQ(parse_redis_url("unix:///tmp/r.sock?db=4").value(),
            (RedisUrl{RedisUrl::Kind::Unix, "", 6379, "/tmp/r.sock", "", "", false, 4}));
}

TEST(RedisUrl, RefusalsSayWhatIsWrong) {
  const std::pair<const char*, const char*> cases[] = {
      {"http://h", "expected redis://"},
      {"rediss://h", "TLS"},
      {"redis://", "no host"},
      {"redis://h:0", "port must be 1 to 65535"},
      {"redis://h:65536", "port must be 1 to 65535"},
      {"redis://h:", "empty port"},
      {"redis://h/x", "database number"},
      {"redis://user@h", "user:password"},
      {"redis://u:%zz@h", "escape"},
      {"redis://[::1", "unclosed"},
      {"redis://::1:6379", "[brackets]"},
      {"redis://h o", "bad character"},
      {"unix:relative.sock", "absolute"},
      {"unix:/s?timeout=3", "?db=N"},
  };
  for (const auto& [text, why] : cases) {
    auto r = parse_redis_url(text);
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error().code, Errc::InvalidInput) << text;
    EXPECT_NE(r.error().message.find(why), std::string::npos) << text << ": " << r.error().message;
  }
  EXPECT_FALSE(parse_redis_url("redis://" + std::string(2100, 'a')).has_value());
  EXPECT_FALSE(parse_redis_url("redis://" + std::string(254, 'a')).has_value());  // host
  EXPECT_FALSE(parse_redis_url("redis://u:" + std::string(257, 'p') + "@h").has_value());
  EXPECT_FALSE(parse_redis_url("unix:/" + std::string(107, 's')).has_value());
}

// Found by fuzz_redis_url at depth: raw control bytes in the credentials come back as %XX, three
// bytes for one; the formatted URL must still be within what the parser takes.
TEST(RedisUrl, TheLongestAcceptedUrlStillRoundTripsWhenEscaped) {
  const std::string raw(256, '\x01');
  const std::string text = "redis://" + raw + ":" + raw + "@" + std::string(253, 'h') + ":1/2";
  auto u = parse_redis_url(text).value();
  const std::string again = format_redis_url(u, /*redact=*/false);
  EXPECT_GT(again.size(), 1536u);
  EXPECT_EQ(parse_redis_url(again).value(), u);
}

TEST(RedisUrl, FormatRoundTripsAndRedactsThePassword) {
  for (const char* text :
       {"redis://a:b@h:1/2", "redis://[fe80::1]:6379/0", "unix:/x.sock?db=9", "redis://:p%25w@h"}) {
    auto u = parse_redis_url(text).value();
    EXPECT_EQ(parse_redis_url(format_redis_url(u, /*redact=*/false)).value(), u) << text;
  }
  auto u = parse_redis_url("redis://gf:hunter2@h:1/0").value();
  EXPECT_EQ(format_redis_url(u), "redis://gf:***@h:1/0");
  EXPECT_EQ(format_redis_url(u, false), "redis://gf:hunter2@h:1/0");
}

}  // namespace
}  // namespace gf
