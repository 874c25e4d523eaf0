#include "core/akismet/protocol.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/akismet/ids.hpp"
#include "core/akismet/records.hpp"

namespace gf::akismet {
namespace {

std::string header(const Reply& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) {
      return v;
    }
  }
  return "<none>";
}

TEST(Protocol, Endpoints) {
  EXPECT_EQ(endpoint_of("/1.1/verify-key"), Endpoint::VerifyKey);
  EXPECT_EQ(endpoint_of("/1.1/comment-check"), Endpoint::CommentCheck);
  EXPECT_EQ(endpoint_of("/1.1/submit-spam/"), Endpoint::SubmitSpam);
  EXPECT_EQ(endpoint_of("/1.1/submit-ham?x=1"), Endpoint::SubmitHam);
  EXPECT_EQ(endpoint_of("/1.2/key-sites"), Endpoint::KeySites);
  EXPECT_EQ(endpoint_of("/1.2/usage-limit"), Endpoint::UsageLimit);
  EXPECT_EQ(endpoint_of("/1.1/get-subscription"), Endpoint::GetSubscription);
  EXPECT_EQ(endpoint_of("/1.1/get-stats"), Endpoint::GetStats);
  EXPECT_EQ(endpoint_of("/1.1/test"), Endpoint::Test);
  EXPECT_EQ(reply_connected().body, "connected");  // the plugin compares it byte for byte
  EXPECT_EQ(endpoint_of("/1.1/deactivate"), Endpoint::Deactivate);
  EXPECT_EQ(reply_deactivated().body, "deactivated");  // Akismet::deactivate_key() compares it
  EXPECT_EQ(to_string(Endpoint::Deactivate), "deactivate");
  EXPECT_EQ(endpoint_of("/1.1/nope"), Endpoint::Unknown);
  EXPECT_EQ(endpoint_of("/"), Endpoint::Unknown);
}

TEST(Protocol, UsageAlertOnlyOverTheLimit) {
  Reply r;
  add_usage_alert(r, 0, 1000);  // no limit
  add_usage_alert(r, 10, 10);   // at the limit
  EXPECT_TRUE(r.headers.empty());
  add_usage_alert(r, 10, 11);
  ASSERT_EQ(r.headers.size(), 4u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"X-akismet-alert-code", "10501"}));
  EXPECT_EQ(r.headers[2].second, "11");
  EXPECT_EQ(r.headers[3].second, "10");
}

TEST(Protocol, KeyFromHost) {
  EXPECT_EQ(key_from_host("abcdef123456.rest.akismet.com"), "abcdef123456");
  EXPECT_EQ(key_from_host("abcdef123456.localhost:8080"), "abcdef123456");
  EXPECT_EQ(key_from_host("rest.akismet.com"), "");
  EXPECT_EQ(key_from_host("127.0.0.1:8080"), "");
  EXPECT_EQ(key_from_host("[::1]:8080"), "");
  EXPECT_EQ(key_from_host("localhost"), "");
  EXPECT_EQ(key_from_host("abcdef12345.x"), "");  // 11 characters
}

TEST(Protocol, RequiredFields) {
  CommentRequest r;
  EXPECT_EQ(missing_required(Endpoint::CommentCheck, r), "blog");
  r.blog = "https://b.example";
  EXPECT_EQ(missing_required(Endpoint::CommentCheck, r), "user_ip");
  EXPECT_EQ(missing_required(Endpoint::VerifyKey, r), std::nullopt);
  r.user_ip = "192.0.2.1";
  EXPECT_EQ(missing_required(Endpoint::SubmitSpam, r), std::nullopt);
}

TEST(Protocol, ExactBodies) {
  EXPECT_EQ(reply_valid().body, "valid");
  const Reply inv = reply_invalid("Empty \"api_key\" value");
  EXPECT_EQ(inv.status, 200);
  EXPECT_EQ(inv.body, "invalid");
  EXPECT_EQ(header(inv, "X-akismet-debug-help"), "Empty \"api_key\" value");
  EXPECT_EQ(reply_missing_field("blog").body, "Missing required field: blog.");
  EXPECT_EQ(reply_thanks().body, "Thanks for making the web a better place.");
  Decision spam;
  spam.spam = true;
  spam.discard = true;
  const Reply c = reply_check(spam, "guid-1");
  EXPECT_EQ(c.body, "true");
  EXPECT_EQ(header(c, "X-akismet-guid"), "guid-1");
  EXPECT_EQ(header(c, "X-akismet-pro-tip"), "discard");
  const Reply h = reply_check(Decision{}, "guid-2");
  EXPECT_EQ(h.body, "false");
  EXPECT_EQ(header(h, "X-akismet-pro-tip"), "<none>");
}

TEST(Protocol, CheckReplyNamesAtMostTwelveSymbolsWithTwoDecimals) {
  Decision d;
  d.spam = true;
  d.score = -0.125;  // an exact tie: printf's "%.2f" rounds it to even
  for (int i = 0; i < 20; ++i) {
    d.symbols.push_back({"S" + std::to_string(i), 20.0 - i, ""});
  }
  const std::string stored = format_symbols(d.symbols, 32);
  const Reply r = reply_check(d, "g", stored);
  EXPECT_EQ(header(r, "X-Greyflux-Score"), "-0.12");
  const std::string reasons = header(r, "X-Greyflux-Reasons");
  EXPECT_EQ(std::count(reasons.begin(), reasons.end(), '('), 12);
  EXPECT_TRUE(reasons.starts_with("S0(20.00) S1(19.00) "));
  EXPECT_TRUE(reasons.ends_with("S11(9.00)"));
  EXPECT_EQ(reply_check(d, "g").headers, r.headers);  // the same as formatting inside
  EXPECT_EQ(std::count(stored.begin(), stored.end(), '('), 20);
}

TEST(Protocol, KeySitesJsonAndCsv) {
  Form f = decode_form("month=2026-11&order=spam&limit=1").value();
  KeySitesQuery q = key_sites_query(f, "2026-10");
  EXPECT_EQ(q.month, "2026-11");
  std::vector<SiteUsage> sites{{"https://a.example", 10, 1, 9, 0, 0, false},
                               {"https://b.example", 5, 4, 1, 1, 0, false}};
  Reply j = reply_key_sites(q, "abcdefabcdef", sites);
  EXPECT_EQ(j.body,
            "{\"2026-11\":[{\"site\":\"https://b.example\",\"api_calls\":\"5\",\"spam\":\"4\","
            "\"ham\":\"1\",\"missed_spam\":\"1\",\"false_positives\":\"0\",\"is_revoked\":false}],"
            "\"limit\":1,\"offset\":0,\"total\":2}");
  q = key_sites_query(decode_form("format=csv&month=bad").value(), "2026-10");
  EXPECT_EQ(q.month, "2026-10");
  Reply c = reply_key_sites(q, "abcdefabcdef", sites);
  EXPECT_EQ(c.body,
            "Active sites for abcdefabcdef during 2026-10 (limit:500, offset: 0, total: 2)\n"
            "Site,Total API Calls,Spam,Ham,Missed Spam,False Positives,Is Revoked\n"
            "https://a.example,10,1,9,0,0,false\nhttps://b.example,5,4,1,1,0,false\n");
}

TEST(Protocol, UsageLimit) {
  EXPECT_EQ(reply_usage_limit(0, 7).body,
            "{\"limit\":\"none\",\"usage\":7,\"percentage\":\"0.00\",\"throttled\":false}");
  EXPECT_EQ(reply_usage_limit(1000, 250).body,
            "{\"limit\":1000,\"usage\":250,\"percentage\":\"25.00\",\"throttled\":false}");
}

// The WordPress plugin keeps only [a-f0-9] of a key typed on its settings page.
class FixedBits final : public RandomSource {
 public:
  explicit FixedBits(std::uint64_t v) : v_(v) {}
  std::uint64_t next_u64() override { return v_; }

 private:
  std::uint64_t v_;
};

TEST(Protocol, NewKeysAreTwelveHexDigits) {
  FixedBits a(0x0123456789abULL);
  EXPECT_EQ(make_api_key(a), "0123456789ab");
  FixedBits b(0xfedcba9876543210ULL);
  EXPECT_EQ(make_api_key(b), "ba9876543210");  // the low 48 bits
  SplitMix64 rng(7);
  for (int i = 0; i < 200; ++i) {
    const std::string k = make_api_key(rng);
    EXPECT_TRUE(well_formed_key(k)) << k;
    EXPECT_EQ(k.find_first_not_of("0123456789abcdef"), std::string::npos) << k;
  }
}

// What Akismet 5.0's settings page reads: `status` must be "active" for a typed key to be
// saved. limit_reached "yellow"/"red" would show the plugin's "more sites than your Plus
// subscription allows" notice, which is not what a greyflux usage limit means (API calls; the
// X-akismet-alert-* headers carry that, UsageAlertOnlyOverTheLimit), so it is always false.
TEST(Protocol, SubscriptionIsActiveAndNeverClaimsASiteLimit) {
  const std::string base =
      "{\"account_id\":0,\"account_name\":\"greyflux\",\"account_type\":\"self-hosted\","
      "\"status\":\"active\",\"next_billing_date\":null,\"limit_reached\":";
  EXPECT_EQ(reply_subscription(0, 5000).body, base + "false}");
  EXPECT_EQ(reply_subscription(1000, 899).body, base + "false}");
  EXPECT_EQ(reply_subscription(1000, 900).body, base + "false}");
  EXPECT_EQ(reply_subscription(1000, 1001).body, base + "false}");
  EXPECT_EQ(reply_subscription(0, 0).content_type, "application/json; charset=utf-8");
}

TEST(Protocol, StatsTotalsAndMonths) {
  EXPECT_EQ(reply_stats({}).body,
            "{\"spam\":0,\"ham\":0,\"missed_spam\":0,\"false_positives\":0,\"accuracy\":100.00}");
  EXPECT_EQ(reply_stats({3, 5, 1, 1}).body,
            "{\"spam\":3,\"ham\":5,\"missed_spam\":1,\"false_positives\":1,\"accuracy\":75.00}");
  EXPECT_EQ(stats_first_month("all", 1795600000), "");
  EXPECT_EQ(stats_first_month("", 1795600000), "");
  EXPECT_EQ(stats_first_month("6-months", 1795600000), "2026-06");  // 2026-11
  EXPECT_EQ(stats_first_month("6-months", 1767225600), "2025-08");  // 2026-01-01
}

TEST(Protocol, MonthOf) {
  EXPECT_EQ(month_of(0), "1970-01");
  EXPECT_EQ(month_of(1795600000), "2026-11");
  EXPECT_EQ(month_of(951868800), "2000-03");
}

TEST(Records, RoundTripAndRejectGarbage) {
  KeyRecord k{"https://b.example", 1795600000, true};
  auto k2 = decode_key(encode_key(k));
  ASSERT_TRUE(k2);
  EXPECT_EQ(k2->blog, k.blog);
  EXPECT_TRUE(k2->revoked);
  EXPECT_FALSE(decode_key(""));
  EXPECT_FALSE(decode_key(encode_key(k) + "x"));

  ReputationRecord rep{3, 1, 99};
  EXPECT_EQ(decode_reputation(encode_reputation(rep))->spam, 3u);
  EXPECT_FALSE(decode_reputation("\x01\x02"));

  SiteUsage u{"", 7, 3, 4, 1, 2, false};
  EXPECT_EQ(decode_usage(encode_usage(u))->false_positives, 2u);

  CheckRecord c;
  c.kind = 's';
  c.time_s = 5;
  c.spam = true;
  c.score = 2.5;
  c.key = "abcdefabcdef";
  c.reasons = "LINKS_MANY(2.50)";
  c.fields = {{"blog", "https://b.example"}, {"comment_content", "x\"y"}};
  auto c2 = decode_check(encode_check(c));
  ASSERT_TRUE(c2);
  EXPECT_EQ(c2->fields, c.fields);
  EXPECT_EQ(c2->kind, 's');
  const std::string enc = encode_check(c);
  for (std::size_t n = 0; n < enc.size(); ++n) {
    EXPECT_FALSE(decode_check(enc.substr(0, n))) << n;
  }
  EXPECT_NE(check_to_json("g", c).find("\"comment_content\":\"x\\\"y\""), std::string::npos);
}

}  // namespace
}  // namespace gf::akismet
