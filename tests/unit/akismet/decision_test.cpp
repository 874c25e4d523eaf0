#include "core/akismet/decision.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/akismet/evidence.hpp"

namespace gf::akismet {
namespace {

constexpr std::int64_t kNow = 1795600000;  // 2026-11-24

CommentRequest base() {
  CommentRequest r;
  r.blog = "https://blog.example";
  r.permalink = "https://blog.example/2026/bread";
  r.user_ip = "192.0.2.7";
  r.user_agent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0";
  r.referrer = "https://blog.example/2026/bread";
  r.comment_author = "Ann";
  r.comment_author_email = "ann@example.org";
  r.comment_content = "Thanks, I tried the recipe with rye flour and it worked well.";
  r.blog_lang = "en_US";
  return r;
}

Decision run(const CommentRequest& r, Signals s = {}) {
  s.now_s = s.now_s == 0 ? kNow : s.now_s;
  return decide(r, analyze(r), s);
}

bool has(const Decision& d, std::string_view name) {
  return std::any_of(d.symbols.begin(), d.symbols.end(),
                     [&](const Symbol& s) { return s.name == name; });
}

TEST(Decision, OrdinaryCommentIsHamOnColdStart) {
  const Decision d = run(base());
  EXPECT_FALSE(d.spam);
  EXPECT_FALSE(d.discard);
  EXPECT_EQ(d.rule, Rule::Score);
}

double weight_of(const Decision& d, std::string_view name) {
  for (const Symbol& s : d.symbols) {
    if (s.name == name) {
      return s.weight;
    }
  }
  ADD_FAILURE() << "no symbol " << name;
  return -100.0;
}

// Issue 12: a server-side contact form or an API client sends neither user_agent nor
// referrer; before any training that alone must not make a plain comment spam.
TEST(Decision, ColdStartMissingOptionalFieldsAloneAreNotSpam) {
  CommentRequest r = base();
  r.user_agent.clear();
  r.referrer.clear();
  const Decision d = run(r);
  EXPECT_FALSE(d.spam) << d.score;
  EXPECT_DOUBLE_EQ(d.score, -1.0);  // the prior alone: the two symbols weigh nothing yet
  EXPECT_DOUBLE_EQ(weight_of(d, "NO_USER_AGENT"), 0.0);
  EXPECT_DOUBLE_EQ(weight_of(d, "NO_REFERRER"), 0.0);
}

TEST(Decision, ColdStartObviousSpamWithoutOptionalFieldsIsStillSpam) {
  CommentRequest r = base();
  r.user_agent.clear();
  r.referrer.clear();
  r.comment_content =
      "Cheap viagra and cialis pills, online pharmacy with no prescription: "
      "http://pills.example/a http://pharma.example/b http://meds.example/c";
  const Decision d = run(r);
  EXPECT_TRUE(d.spam) << d.score;
  EXPECT_TRUE(has(d, "LINKS_MANY"));
  EXPECT_GT(d.score, 1.0);
}

TEST(Decision, TrainedModelStillWeighsMissingOptionalFields) {
  CommentRequest with = base();
  CommentRequest without = base();
  without.user_agent.clear();
  without.referrer.clear();
  Signals s;
  s.text_probability = 0.6;  // the classifier leans a little to spam: log-odds 0.405
  const Decision a = run(with, s);
  const Decision b = run(without, s);
  EXPECT_DOUBLE_EQ(weight_of(b, "NO_USER_AGENT"), 0.8);
  EXPECT_DOUBLE_EQ(weight_of(b, "NO_REFERRER"), 0.2);
  EXPECT_NEAR(b.score - a.score, 1.0, 1e-9);
  EXPECT_FALSE(a.spam) << a.score;
  EXPECT_TRUE(b.spam) << b.score;
  // A neutral classifier (P = 0.5) with both fields missing stays at the threshold: ham.
  s.text_probability = 0.5;
  EXPECT_FALSE(run(without, s).spam);
}

TEST(Decision, TestHooksAsAkismet) {
  CommentRequest r = base();
  r.comment_author = "viagra-test-123";
  Decision d = run(r);
  EXPECT_TRUE(d.spam);
  EXPECT_TRUE(d.discard);
  EXPECT_EQ(d.rule, Rule::TestSpam);
  r.comment_author = "akismet-guaranteed-spam";
  EXPECT_TRUE(run(r).spam);
  r = base();
  r.comment_author_email = "akismet-guaranteed-spam@example.com";
  EXPECT_TRUE(run(r).spam);
  r = base();
  r.user_role = "administrator";
  r.comment_content = "buy [url=http://a.example]pills[/url] http://b.example http://c.example";
  d = run(r);
  EXPECT_FALSE(d.spam);
  EXPECT_EQ(d.rule, Rule::TestHam);
}

TEST(Decision, ManyLinksAndBbcodeAreSpamWithoutTraining) {
  CommentRequest r = base();
  r.comment_content =
      "cheap pills http://pills.example/a http://pills2.example/b <a "
      "href=\"http://c.example\">c</a> "
      "[url=http://d.example]d[/url]";
  const Decision d = run(r);
  EXPECT_TRUE(has(d, "LINKS_MANY"));
  EXPECT_TRUE(has(d, "BBCODE_URL"));
  EXPECT_TRUE(d.spam);
}

TEST(Decision, LinksToTheBlogItselfDoNotCount) {
  CommentRequest r = base();
  r.comment_content = "See also https://blog.example/2026/rye and https://www.blog.example/x";
  const Analysis a = analyze(r);
  EXPECT_EQ(a.links, 0u);
}

TEST(Decision, AuthorWithLinkOrEmail) {
  CommentRequest r = base();
  r.comment_author = "Best Loans www.loans.example";
  EXPECT_TRUE(has(run(r), "AUTHOR_HAS_LINK"));
  r.comment_author = "cheap-seo.com";
  EXPECT_TRUE(has(run(r), "AUTHOR_HAS_LINK"));
  r.comment_author = "mail me bob@spam.example";
  EXPECT_TRUE(has(run(r), "AUTHOR_HAS_EMAIL"));
  r.comment_author = "Dr. Ann Smith";
  const Decision d = run(r);
  EXPECT_FALSE(has(d, "AUTHOR_HAS_LINK"));
  EXPECT_FALSE(has(d, "AUTHOR_HAS_EMAIL"));
}

TEST(Decision, HoneypotIsBlatant) {
  CommentRequest r = base();
  r.honeypot_field_name = "hidden_honeypot_field";
  r.honeypot_value = "i am a bot";
  const Decision d = run(r);
  EXPECT_TRUE(has(d, "HONEYPOT_FILLED"));
  EXPECT_TRUE(d.spam);
  EXPECT_TRUE(d.discard);
  r.honeypot_value = "";
  EXPECT_FALSE(run(r).spam);
}

TEST(Decision, FastSubmitFromAkJs) {
  CommentRequest r = base();
  r.comment_date_s = kNow;
  r.ak_js_ms = (kNow - 2) * 1000;
  EXPECT_TRUE(has(run(r), "FAST_SUBMIT"));
  r.ak_js_ms = (kNow - 90) * 1000;
  EXPECT_FALSE(has(run(r), "FAST_SUBMIT"));
  r.ak_js_ms.reset();
  r.extra.emplace_back("POST_ak_js", "");
  EXPECT_TRUE(has(run(r), "NO_JAVASCRIPT"));
}

TEST(Decision, CommentRightAfterThePostChanged) {
  CommentRequest r = base();
  r.comment_date_s = kNow;
  r.comment_post_modified_s = kNow - 3;
  EXPECT_TRUE(has(run(r), "RIGHT_AFTER_POST_UPDATE"));
  r.comment_post_modified_s = kNow - 3600;
  EXPECT_FALSE(has(run(r), "RIGHT_AFTER_POST_UPDATE"));
}

TEST(Decision, ReputationFromSubmitSpam) {
  Signals s;
  s.text.spam = 1;
  Decision d = run(base(), s);
  EXPECT_TRUE(has(d, "TEXT_REPORTED_SPAM"));
  EXPECT_TRUE(d.spam);
  s = {};
  s.ip.spam = 5;
  s.email.spam = 2;
  d = run(base(), s);
  EXPECT_TRUE(has(d, "IP_REPORTED_SPAM"));
  EXPECT_TRUE(has(d, "EMAIL_REPORTED_SPAM"));
  EXPECT_TRUE(d.spam);
  s = {};
  s.url.spam = 1;
  s.url.ham = 4;
  EXPECT_TRUE(has(run(base(), s), "URL_REPORTED_HAM"));
}

TEST(Decision, SameTextOnManySites) {
  Signals s;
  s.text_sites = 4;
  const Decision d = run(base(), s);
  EXPECT_TRUE(has(d, "TEXT_ON_MANY_SITES"));
}

TEST(Decision, LanguageMismatch) {
  CommentRequest r = base();
  r.comment_content = "Очень хороший сайт, заходите на наш форум и покупайте наши товары сегодня";
  EXPECT_TRUE(has(run(r), "LANGUAGE_MISMATCH"));
  r.blog_lang = "ru_RU";
  EXPECT_FALSE(has(run(r), "LANGUAGE_MISMATCH"));
  r.blog_lang = "";
  EXPECT_FALSE(has(run(r), "LANGUAGE_MISMATCH"));
  r.blog_lang = "xx";  // unknown language: no claim
  EXPECT_FALSE(has(run(r), "LANGUAGE_MISMATCH"));
}

TEST(Decision, ClassifierOpinionIsASymbol) {
  Signals s;
  s.text_probability = 0.999;
  Decision d = run(base(), s);
  EXPECT_TRUE(has(d, "TEXT_CLASSIFIER"));
  EXPECT_TRUE(d.spam);
  s.text_probability = 0.01;
  d = run(base(), s);
  EXPECT_FALSE(d.spam);
}

const Symbol* find(const Decision& d, std::string_view name) {
  auto it = std::find_if(d.symbols.begin(), d.symbols.end(),
                         [&](const Symbol& s) { return s.name == name; });
  return it == d.symbols.end() ? nullptr : &*it;
}

TEST(Decision, SiteModelIsItsOwnSymbolWithItsShare) {
  Signals s;
  s.text_probability = 0.3;  // the deployment model leans ham
  Decision d = run(base(), s);
  EXPECT_FALSE(has(d, "SITE_CLASSIFIER"));
  const double alone = find(d, "TEXT_CLASSIFIER")->weight;
  EXPECT_NEAR(alone, std::log(0.3 / 0.7), 1e-9);

  s.site_probability = 0.99;  // this site's own feedback says spam
  d = run(base(), s);
  const Symbol* text = find(d, "TEXT_CLASSIFIER");
  const Symbol* site = find(d, "SITE_CLASSIFIER");
  ASSERT_NE(text, nullptr);
  ASSERT_NE(site, nullptr);
  const classify::SiteCombineOptions o;
  EXPECT_NEAR(text->weight, o.deployment_weight * alone, 1e-9);
  EXPECT_NEAR(site->weight, o.site_weight * std::log(0.99 / 0.01), 1e-9);
  EXPECT_NE(site->detail.find("0.990"), std::string::npos);
  // The site's share moves the score by exactly its weight.
  Signals deployment_only;
  deployment_only.text_probability = 0.3;
  EXPECT_NEAR(d.score - run(base(), deployment_only).score, site->weight + text->weight - alone,
              1e-9);
  // No deployment opinion (cold start): no site symbol either.
  Signals cold;
  cold.site_probability = 0.99;
  EXPECT_FALSE(has(run(base(), cold), "SITE_CLASSIFIER"));
}

TEST(Decision, FastFluxSymbolOnlyWhenFlagged) {
  EXPECT_FALSE(has(run(base()), "FAST_FLUX_LINK"));
  Signals s;
  s.fast_flux_domains = {"flux.example"};
  EXPECT_TRUE(has(run(base(), s), "FAST_FLUX_LINK"));
}

TEST(Decision, FormatSymbolsLargestFirst) {
  std::vector<Symbol> s{{"A", 0.5, ""}, {"B", -3.0, ""}, {"C", 1.0, ""}};
  EXPECT_EQ(format_symbols(s), "B(-3.00) C(1.00) A(0.50)");
}

TEST(Evidence, UrlHost) {
  EXPECT_EQ(url_host("https://User@WWW.Example.COM:8080/x?y"), "example.com");
  EXPECT_EQ(url_host("example.org/path"), "example.org");
  EXPECT_EQ(url_host(""), "");
}

TEST(Evidence, TextHashIgnoresCaseSpaceAndHtml) {
  CommentRequest a = base();
  CommentRequest b = base();
  b.comment_content = "<p>THANKS,   I tried the recipe with rye flour and it worked well.</p>";
  EXPECT_EQ(analyze(a).text_hash, analyze(b).text_hash);
  b.comment_content = "ok";
  EXPECT_EQ(analyze(b).text_hash, 0u);
}

TEST(Flood, CountsDistinctBlogsWithinWindow) {
  FloodTracker f(100, 3600);
  EXPECT_EQ(f.observe(1, 10, 0), 1u);
  EXPECT_EQ(f.observe(1, 10, 5), 1u);
  EXPECT_EQ(f.observe(1, 11, 6), 2u);
  EXPECT_EQ(f.observe(1, 12, 7), 3u);
  EXPECT_EQ(f.count(1, 13, 8), 4u);
  EXPECT_EQ(f.observe(1, 13, 100000), 1u);  // the others are out of the window
}

TEST(Flood, MemoryIsBounded) {
  FloodTracker f(10, 3600);
  for (std::uint64_t t = 0; t < 1000; ++t) {
    f.observe(t, 1, 0);
  }
  EXPECT_EQ(f.count(999, 2, 0), 2u);
  EXPECT_EQ(f.count(0, 2, 0), 1u);  // forgotten
}

}  // namespace
}  // namespace gf::akismet
