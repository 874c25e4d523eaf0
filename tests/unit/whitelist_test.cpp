#include "core/greylist/whitelist.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace gf::greylist {
namespace {

IpAddress ip(const char* s) { return parse_ip(s).value(); }

TEST(ClientWhitelist, ReadsPostgreyForms) {
  ClientWhitelist w;
  auto warnings = w.add_text(
      "# comment\n"
      "example.com   # trailing comment\n"
      "/^mail\\d+\\.telekom\\.de$/\n"
      "66.216.126.174\n"
      "195.235.39\n"
      "51.4.72.0/24\n"
      "2a01:4180:4051:0800::/64\n"
      "\n",
      "test");
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(w.size(), 6u);
  EXPECT_TRUE(w.matches(ip("198.51.100.1"), "mx.example.com"));
  EXPECT_TRUE(w.matches(ip("198.51.100.1"), "EXAMPLE.COM"));
  EXPECT_FALSE(w.matches(ip("198.51.100.1"), "notexample.com"));
  EXPECT_TRUE(w.matches(ip("198.51.100.1"), "mail12.telekom.de"));
  EXPECT_FALSE(w.matches(ip("198.51.100.1"), "mailx.telekom.de"));
  EXPECT_TRUE(w.matches(ip("66.216.126.174"), "unknown"));
  EXPECT_TRUE(w.matches(ip("195.235.39.200"), "unknown"));
  EXPECT_TRUE(w.matches(ip("51.4.72.9"), "unknown"));
  EXPECT_TRUE(w.matches(ip("::ffff:51.4.72.9"), "unknown"));
  EXPECT_TRUE(w.matches(ip("2a01:4180:4051:800::1"), "unknown"));
  EXPECT_FALSE(w.matches(ip("203.0.113.1"), "unknown"));
}

TEST(ClientWhitelist, NeverMatchesTheUnknownName) {
  ClientWhitelist w;
  ASSERT_TRUE(w.add_entry("/.*/"));
  EXPECT_FALSE(w.matches(ip("203.0.113.1"), "unknown"));
  EXPECT_TRUE(w.matches(ip("203.0.113.1"), "host.example"));
}

TEST(ClientWhitelist, WarnsAboutLinesItCannotRead) {
  ClientWhitelist w;
  auto warnings =
      w.add_text("good.example\nbad entry with spaces\n/[unclosed/\n10.0.0.0/99\n", "f");
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_EQ(warnings[0].line, 2);
  EXPECT_EQ(warnings[1].line, 3);
  EXPECT_EQ(warnings[2].line, 4);
  EXPECT_EQ(w.size(), 1u);
}

TEST(ClientWhitelist, RemovesEntries) {
  ClientWhitelist w;
  ASSERT_TRUE(w.add_entry("192.0.2.0/24"));
  ASSERT_TRUE(w.add_entry("example.org"));
  EXPECT_TRUE(w.remove_entry("192.0.2.0/24"));
  EXPECT_FALSE(w.remove_entry("192.0.2.0/24"));
  EXPECT_FALSE(w.matches(ip("192.0.2.1"), "unknown"));
  EXPECT_TRUE(w.matches(ip("192.0.2.1"), "a.example.org"));
}

TEST(ClientWhitelist, LoadsDebiansPostgreyFile) {
  // Debian's file, shipped as test data (tests/data/postgrey/README) so the test never skips.
  const std::string path = std::string(GF_TEST_DATA) + "/postgrey/whitelist_clients";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  ClientWhitelist w;
  auto warnings = w.add_text(ss.str(), path);
  EXPECT_TRUE(warnings.empty()) << warnings.front().message;
  EXPECT_GT(w.size(), 150u);
  EXPECT_TRUE(w.matches(ip("203.0.113.1"), "mail-out.ovh.net"));
  EXPECT_TRUE(w.matches(ip("203.0.113.1"), "smtp12.orange.fr"));
  EXPECT_TRUE(w.matches(ip("205.201.130.1"), "unknown"));
  EXPECT_FALSE(w.matches(ip("203.0.113.1"), "spammer.invalid"));
}

TEST(RecipientWhitelist, ReadsPostgreyForms) {
  RecipientWhitelist w;
  auto warnings =
      w.add_text("postmaster@\nabuse@\nsales@example.com\nexample.net\n/^noc-.*@/\n", "r");
  EXPECT_TRUE(warnings.empty());
  EXPECT_TRUE(w.matches("Postmaster@anything.example"));
  EXPECT_TRUE(w.matches("abuse+x@anything.example"));
  EXPECT_TRUE(w.matches("sales@example.com"));
  EXPECT_TRUE(w.matches("sales+q4@example.com"));
  EXPECT_FALSE(w.matches("sales@example.org"));
  EXPECT_TRUE(w.matches("anyone@example.net"));
  EXPECT_TRUE(w.matches("anyone@mail.example.net"));
  EXPECT_FALSE(w.matches("anyone@badexample.net"));
  EXPECT_TRUE(w.matches("noc-east@isp.example"));
  EXPECT_FALSE(w.matches("bob@isp.example"));
}

}  // namespace
}  // namespace gf::greylist
