#include <gtest/gtest.h>

#include <cstdio>
#include <limits>

#include "core/common/ip.hpp"
#include "core/common/pattern.hpp"
#include "core/common/strings.hpp"
#include "core/common/time.hpp"

namespace gf {
namespace {

TEST(Strings, AppendFixed2MatchesPrintf) {
  for (double v : {0.0, -0.0, 0.004, 0.005, -0.004, 1.0, -1.5, 2.675, 3.14159, -6.0, 123456.789,
                   0.995, 99.999, -99.994}) {
    std::string got;
    append_fixed2(got, v);
    char want[64];
    std::snprintf(want, sizeof want, "%.2f", v);
    if (std::string(want) == "-0.00") {
      EXPECT_EQ(got, "0.00") << v;  // no negative zero in the reasons
    } else {
      EXPECT_EQ(got, want) << v;
    }
  }
  std::string s = "x=";
  append_fixed2(s, std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(s, "x=nan");
  s.clear();
  append_fixed2(s, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(s, "-inf");
}

TEST(Duration, ParsesUnits) {
  EXPECT_EQ(parse_duration("300s").value(), Millis(300'000));
  EXPECT_EQ(parse_duration("5m").value(), Millis(300'000));
  EXPECT_EQ(parse_duration("2d").value(), Millis(2 * 86'400'000LL));
  EXPECT_EQ(parse_duration("100ms").value(), Millis(100));
  EXPECT_EQ(parse_duration("42").value(), Millis(42'000));
  EXPECT_FALSE(parse_duration("5 parsecs").has_value());
  EXPECT_FALSE(parse_duration("").has_value());
  EXPECT_FALSE(parse_duration("-5s").has_value());
  EXPECT_FALSE(parse_duration("99999999999999999999d").has_value());
}

TEST(Duration, FormatsShortestExactUnit) {
  EXPECT_EQ(format_duration(Millis(300'000)), "5m");
  EXPECT_EQ(format_duration(Millis(1500)), "1500ms");
  EXPECT_EQ(format_duration(Millis(35LL * 86'400'000)), "5w");
}

TEST(Size, ParsesBinaryAndDecimalUnits) {
  EXPECT_EQ(parse_size("64KiB").value(), 65536u);
  EXPECT_EQ(parse_size("1GiB").value(), 1ULL << 30);
  EXPECT_EQ(parse_size("100KB").value(), 100'000u);
  EXPECT_FALSE(parse_size("12 furlongs").has_value());
  EXPECT_EQ(format_size(65536), "64KiB");
  EXPECT_EQ(format_size(1ULL << 30), "1GiB");
  EXPECT_EQ(format_size(1000), "1000");
}

TEST(Date, FormatsRfc5322InUtc) {
  EXPECT_EQ(format_rfc5322_utc(from_unix(0)), "Thu, 01 Jan 1970 00:00:00 +0000");
}

TEST(Date, FormatsIso8601InUtc) {
  EXPECT_EQ(format_iso8601_utc(from_unix(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_iso8601_utc(from_unix(1796617561)), "2026-12-07T04:26:01Z");
}

TEST(Ip, MapsIpv4MappedIpv6ToIpv4) {
  auto a = parse_ip("::ffff:192.0.2.1").value();
  auto b = parse_ip("192.0.2.1").value();
  EXPECT_EQ(a, b);
  EXPECT_TRUE(a.is_v4());
  EXPECT_EQ(to_string(a), "192.0.2.1");
}

TEST(Ip, MasksToConfiguredNetworks) {
  EXPECT_EQ(network_key(parse_ip("192.0.2.77").value(), 24, 64), "192.0.2.0/24");
  EXPECT_EQ(network_key(parse_ip("2001:db8:1:2:3:4:5:6").value(), 24, 64), "2001:db8:1:2::/64");
  EXPECT_EQ(network_key(parse_ip("2001:db8:1:2:3:4:5:6").value(), 24, 48), "2001:db8:1::/48");
  EXPECT_EQ(network_key(parse_ip("[::1]").value(), 24, 64), "::/64");
}

TEST(Ip, RejectsGarbage) {
  EXPECT_FALSE(parse_ip("").has_value());
  EXPECT_FALSE(parse_ip("256.1.1.1").has_value());
  EXPECT_FALSE(parse_ip("1.2.3").has_value());
  EXPECT_FALSE(parse_ip("not-an-ip").has_value());
  EXPECT_FALSE(parse_ip(std::string(100, '1')).has_value());
}

TEST(Cidr, ContainsBothFamilies) {
  auto net = parse_cidr("198.2.128.0/18").value();
  EXPECT_TRUE(net.contains(parse_ip("198.2.150.3").value()));
  EXPECT_FALSE(net.contains(parse_ip("198.2.192.1").value()));
  auto v6 = parse_cidr("2a01:4180:4051:0800::/64").value();
  EXPECT_TRUE(v6.contains(parse_ip("2a01:4180:4051:800::25").value()));
  EXPECT_FALSE(v6.contains(parse_ip("2a01:4180:4051:801::25").value()));
  EXPECT_FALSE(parse_cidr("10.0.0.0/33").has_value());
  EXPECT_FALSE(parse_cidr("10.0.0.0/x").has_value());
  EXPECT_EQ(to_string(net), "198.2.128.0/18");
}

TEST(Strings, EndsWithLabelRespectsDots) {
  EXPECT_TRUE(ends_with_label("mx1.example.com", "example.com"));
  EXPECT_TRUE(ends_with_label("example.com", "EXAMPLE.com"));
  EXPECT_FALSE(ends_with_label("badexample.com", "example.com"));
}

TEST(Strings, EditDistanceCountsTyposUpToTheLimit) {
  EXPECT_EQ(edit_distance("retry_window", "retry_window", 2), 0u);
  EXPECT_EQ(edit_distance("retry_windw", "retry_window", 2), 1u);   // a letter left out
  EXPECT_EQ(edit_distance("retyr_window", "retry_window", 2), 1u);  // two letters swapped
  EXPECT_EQ(edit_distance("delay", "dealy", 2), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting", 5), 3u);
  EXPECT_EQ(edit_distance("", "abc", 5), 3u);
  EXPECT_EQ(edit_distance("abc", "", 5), 3u);
  // Beyond the limit the answer is limit + 1, whatever the true distance.
  EXPECT_EQ(edit_distance("kitten", "sitting", 2), 3u);
  EXPECT_EQ(edit_distance("a", "abcdefgh", 2), 3u);
  EXPECT_EQ(edit_distance("abcdefgh", "hgfedcba", 1), 2u);
}

TEST(Strings, SanitizeReplacesControlCharacters) {
  EXPECT_EQ(sanitize_line("a\nb\x01", 10), "a?b?");
  EXPECT_EQ(sanitize_line("abcdef", 3), "abc...");
  EXPECT_EQ(sanitize_line("j\xc3\xbcrgen\xff\xc3", 20), "j\xc3\xbcrgen??");
}

}  // namespace
}  // namespace gf

namespace gf {
namespace {

TEST(Pattern, TranslatesPostgreysPerlConstructs) {
  EXPECT_EQ(perl_to_ere("^mail\\d+\\.telekom\\.de$").value(), "^mail[0-9]+\\.telekom\\.de$");
  EXPECT_EQ(perl_to_ere("^(?:smtp\\w*|postfix)[0-9]+$").value(),
            "^(smtp[[:alnum:]_]*|postfix)[0-9]+$");
  EXPECT_EQ(perl_to_ere("^.*?.server$").value(), "^.*.server$");
  EXPECT_FALSE(perl_to_ere("(a)\\1").has_value());
  EXPECT_FALSE(perl_to_ere("(?=x)").has_value());
  EXPECT_FALSE(perl_to_ere("[abc").has_value());
}

TEST(Pattern, MatchesCaseInsensitively) {
  auto p = Pattern::compile("^mx\\d+\\.partner\\.example$").value();
  EXPECT_TRUE(p.search("MX12.Partner.example"));
  EXPECT_FALSE(p.search("mxa.partner.example"));
  EXPECT_FALSE(Pattern::compile("(unclosed").has_value());
}

TEST(Pattern, PathologicalPatternsDoNotBacktrackExponentially) {
  // (a+)+$ against a long run of a's followed by a non-match takes std::regex hours.
  auto p = Pattern::compile("^(a+)+$").value();
  EXPECT_FALSE(p.search(std::string(4000, 'a') + "!"));
  auto q = Pattern::compile("(x+x+)+y").value();
  EXPECT_FALSE(q.search(std::string(3000, 'x')));
}

TEST(Pattern, RejectsShapesThatWouldBlowUpTheCompiler) {
  EXPECT_FALSE(Pattern::compile("e++++++++++++++++").has_value());  // found by fuzz_whitelist
  EXPECT_FALSE(Pattern::compile("a**").has_value());
  EXPECT_FALSE(Pattern::compile("((((((((((a))))))))))").has_value());
  EXPECT_FALSE(Pattern::compile("a{1000}").has_value());
  EXPECT_FALSE(Pattern::compile("(ab){3}").has_value());
  EXPECT_FALSE(Pattern::compile("a{3}{3}").has_value());
  EXPECT_FALSE(Pattern::compile("a{3,}").has_value());
  EXPECT_FALSE(Pattern::compile("(a").has_value());
  EXPECT_FALSE(Pattern::compile("a)").has_value());
  EXPECT_TRUE(Pattern::compile("^\\d{1,3}\\.\\d{1,3}$").has_value());
  EXPECT_TRUE(Pattern::compile("^(a|b)+c?$").value().search("ababc"));
}

}  // namespace
}  // namespace gf
