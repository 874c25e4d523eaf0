#include "core/akismet/form.hpp"

#include <gtest/gtest.h>

namespace gf::akismet {
namespace {

TEST(Form, DecodesPairsPlusAndEscapes) {
  auto f = decode_form("blog=http%3A%2F%2Fexample.com&comment_content=hello+world%21&empty=&flag");
  ASSERT_TRUE(f);
  ASSERT_EQ(f->fields.size(), 4u);
  EXPECT_EQ(f->get("blog"), "http://example.com");
  EXPECT_EQ(f->get("comment_content"), "hello world!");
  EXPECT_TRUE(f->has("empty"));
  EXPECT_EQ(f->get("flag"), "");
  EXPECT_FALSE(f->repaired);
}

TEST(Form, SkipsEmptyPairsAndKeepsDuplicatesInOrder) {
  auto f = decode_form("&&a=1&&a=2&");
  ASSERT_TRUE(f);
  ASSERT_EQ(f->fields.size(), 2u);
  EXPECT_EQ(f->get("a"), "1");
  EXPECT_EQ(f->fields[1].second, "2");
}

TEST(Form, EmptyBodyIsAnEmptyForm) {
  auto f = decode_form("");
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->fields.empty());
}

TEST(Form, RejectsBrokenEscapes) {
  EXPECT_FALSE(decode_form("a=%G1"));
  EXPECT_FALSE(decode_form("a=%4"));
  EXPECT_FALSE(decode_form("a=%"));
  EXPECT_FALSE(decode_form("%zz=1"));
  EXPECT_EQ(decode_form("a=%").error().code, Errc::InvalidInput);
}

TEST(Form, RepairsInvalidUtf8) {
  auto f = decode_form("comment_content=caf%E9+ok&x=%C3%A9");
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->repaired);
  EXPECT_EQ(f->get("comment_content"), "caf\xEF\xBF\xBD ok");
  EXPECT_EQ(f->get("x"), "\xC3\xA9");
}

TEST(Form, Utf8ValidatorRejectsOverlongAndSurrogates) {
  // Overlong encodings and surrogates are invalid too.
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));
  EXPECT_TRUE(valid_utf8("\xF0\x9F\x98\x80 ok"));
}

TEST(Form, Latin1WhenTheBlogSaysSo) {
  auto f = decode_form("comment_content=caf%E9", {}, true);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->get("comment_content"), "caf\xC3\xA9");
  EXPECT_TRUE(is_latin1_charset("ISO-8859-1"));
  EXPECT_TRUE(is_latin1_charset("windows-1252"));
  EXPECT_FALSE(is_latin1_charset("UTF-8"));
}

TEST(Form, EnforcesLimits) {
  FormLimits l;
  l.max_fields = 3;
  EXPECT_EQ(decode_form("a=1&b=2&c=3&d=4", l).error().code, Errc::TooLarge);
  l.max_bytes = 4;
  EXPECT_EQ(decode_form("abcdef", l).error().code, Errc::TooLarge);
  FormLimits n;
  n.max_name_bytes = 4;
  EXPECT_FALSE(decode_form("abcdef=1", n));
  EXPECT_FALSE(decode_form("a%00b=1"));
}

TEST(Form, EncodeRoundTrips) {
  const std::string text = "a b&c=d/é\xF0\x9F\x98\x80%+";
  auto f = decode_form("x=" + form_encode(text));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->get("x"), text);
}

}  // namespace
}  // namespace gf::akismet
