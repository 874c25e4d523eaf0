#include "core/classify/html.hpp"

#include <gtest/gtest.h>

namespace gf::classify {
namespace {

TEST(HtmlToText, RemovesTagsAndKeepsText) {
  auto r = html_to_text("Hello<br />world <b>bold</b>");
  EXPECT_EQ(r.text.find('<'), std::string::npos);
  EXPECT_NE(r.text.find("Hello"), std::string::npos);
  EXPECT_NE(r.text.find("world"), std::string::npos);
  EXPECT_NE(r.text.find("bold"), std::string::npos);
  // <br> separates words rather than gluing them.
  EXPECT_EQ(r.text.find("Helloworld"), std::string::npos);
}

TEST(HtmlToText, DecodesEntities) {
  auto r = html_to_text("I&#39;m &amp; you&apos;re &lt;3 &#x263A; &eacute;x &nbsp;");
  EXPECT_NE(r.text.find("I'm & you're <3 \xE2\x98\xBA"), std::string::npos) << r.text;
  // Unknown entities stay as written.
  EXPECT_NE(r.text.find("&eacute;x"), std::string::npos);
}

TEST(HtmlToText, KeepsHrefAsLink) {
  auto r = html_to_text(
      "see <a rel=\"nofollow\" href=\"http://www.youtube.com/watch?v=KQ6&amp;t=2m19s\">2:19</a>");
  ASSERT_EQ(r.links.size(), 1U);
  EXPECT_EQ(r.links[0], "http://www.youtube.com/watch?v=KQ6&t=2m19s");
  EXPECT_NE(r.text.find("2:19"), std::string::npos);
  EXPECT_EQ(r.text.find("href"), std::string::npos);
  ASSERT_FALSE(r.tags.empty());
  EXPECT_EQ(r.tags[0], "a");
}

TEST(HtmlToText, LessThanThatIsNotATagStaysText) {
  auto r = html_to_text("I <3 this, 1 < 2");
  EXPECT_EQ(r.text, "I <3 this, 1 < 2");
}

TEST(HtmlToText, DropsScriptStyleAndComments) {
  auto r = html_to_text("a<script>var x = '<b>';</script>b<style>p{}</style>c<!-- hidden -->d");
  EXPECT_EQ(r.text.find("var"), std::string::npos);
  EXPECT_EQ(r.text.find("hidden"), std::string::npos);
  EXPECT_EQ(r.text.find("p{}"), std::string::npos);
  EXPECT_NE(r.text.find('d'), std::string::npos);
}

TEST(HtmlToText, UnterminatedTagDoesNotLoseText) {
  auto r = html_to_text("tail <a href=\"x");
  EXPECT_NE(r.text.find("tail"), std::string::npos);
}

TEST(HtmlToText, QuotedGreaterThanInsideAttribute) {
  auto r = html_to_text("<a title=\"a>b\" href='http://x.com/'>t</a>");
  EXPECT_EQ(r.text.find("b\""), std::string::npos);
  ASSERT_EQ(r.links.size(), 1U);
  EXPECT_EQ(r.links[0], "http://x.com/");
}

}  // namespace
}  // namespace gf::classify
