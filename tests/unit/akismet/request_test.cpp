#include "core/akismet/request.hpp"

#include <gtest/gtest.h>

namespace gf::akismet {
namespace {

CommentRequest from(std::string_view body) { return comment_from_form(decode_form(body).value()); }

TEST(Request, ReadsEveryDocumentedField) {
  const CommentRequest r = from(
      "api_key=abcdefabcdef&blog=https%3A%2F%2Fblog.example&user_ip=192.0.2.1&user_agent=UA"
      "&referrer=https%3A%2F%2Fr.example&permalink=https%3A%2F%2Fblog.example%2Fp"
      "&comment_type=comment&comment_author=Ann&comment_author_email=ann%40example.org"
      "&comment_author_url=https%3A%2F%2Fann.example&comment_content=Hi"
      "&comment_date_gmt=2026-11-24T10%3A00%3A05Z&comment_post_modified_gmt=2026-11-24+10%3A00%3A00"
      "&blog_lang=en_us&blog_charset=UTF-8&user_role=subscriber&is_test=1&recheck_reason=edit"
      "&honeypot_field_name=hp&hp=filled&comment_context%5B%5D=cooking&comment_context%5B%5D=bread"
      "&POST_ak_js=1795600000000&HTTP_ACCEPT=text%2Fhtml");
  EXPECT_EQ(r.api_key, "abcdefabcdef");
  EXPECT_EQ(r.blog, "https://blog.example");
  EXPECT_EQ(r.user_ip, "192.0.2.1");
  EXPECT_EQ(r.user_agent, "UA");
  EXPECT_EQ(r.referrer, "https://r.example");
  EXPECT_EQ(r.permalink, "https://blog.example/p");
  EXPECT_EQ(r.comment_type, "comment");
  EXPECT_EQ(r.comment_author, "Ann");
  EXPECT_EQ(r.comment_author_email, "ann@example.org");
  EXPECT_EQ(r.comment_author_url, "https://ann.example");
  EXPECT_EQ(r.comment_content, "Hi");
  ASSERT_TRUE(r.comment_date_s);
  ASSERT_TRUE(r.comment_post_modified_s);
  EXPECT_EQ(*r.comment_date_s - *r.comment_post_modified_s, 5);
  EXPECT_EQ(r.blog_lang, "en_us");
  EXPECT_EQ(r.blog_charset, "UTF-8");
  EXPECT_EQ(r.user_role, "subscriber");
  EXPECT_TRUE(r.is_test);
  EXPECT_EQ(r.recheck_reason, "edit");
  EXPECT_EQ(r.honeypot_field_name, "hp");
  EXPECT_EQ(r.honeypot_value, "filled");
  EXPECT_EQ(r.comment_context, (std::vector<std::string>{"cooking", "bread"}));
  ASSERT_TRUE(r.ak_js_ms);
  EXPECT_EQ(*r.ak_js_ms, 1795600000000);
  ASSERT_EQ(r.extra.size(), 3u);  // hp, POST_ak_js, HTTP_ACCEPT
}

TEST(Request, KeyFieldIsAnAlias) { EXPECT_EQ(from("key=abc&blog=x").api_key, "abc"); }

TEST(Request, IsTestFalseValues) {
  EXPECT_FALSE(from("is_test=0").is_test);
  EXPECT_FALSE(from("is_test=false").is_test);
  EXPECT_TRUE(from("is_test=true").is_test);
}

TEST(Request, HoneypotUnderPostPrefix) {
  EXPECT_EQ(from("honeypot_field_name=hp&POST_hp=x").honeypot_value, "x");
}

TEST(Date, ParsesIsoAndMysql) {
  EXPECT_EQ(parse_date("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_date("1970-01-01 00:01:00"), 60);
  EXPECT_EQ(parse_date("2026-11-24T10:00:00+01:00"), parse_date("2026-11-24 09:00:00"));
  EXPECT_EQ(parse_date("2026-11-24T10:00:00-0230"), parse_date("2026-11-24T12:30:00Z"));
  EXPECT_EQ(parse_date("2026-11-24T10:00:00.123Z"), parse_date("2026-11-24 10:00:00"));
  EXPECT_EQ(parse_date("2000-03-01"), 951868800);
  EXPECT_EQ(parse_date("2026-11-24T10:00"), parse_date("2026-11-24 10:00:00"));
}

TEST(Date, RejectsGarbage) {
  EXPECT_FALSE(parse_date(""));
  EXPECT_FALSE(parse_date("yesterday"));
  EXPECT_FALSE(parse_date("2026-13-01"));
  EXPECT_FALSE(parse_date("2026-11-24X10:00:00"));
  EXPECT_FALSE(parse_date("2026-11-24T25:00:00"));
  EXPECT_FALSE(parse_date("2026-11-24T10:00:00Zjunk"));
}

}  // namespace
}  // namespace gf::akismet
