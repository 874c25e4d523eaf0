// core/flux/churn: the bounded per-name churn history behind GET /api/v1/flux/NAME/series.
#include "core/flux/churn.hpp"

#include <gtest/gtest.h>

namespace gf::flux {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kT0 = 1'800'000'000;

IpEntry entry(std::string_view ip, std::uint32_t asn, std::int64_t first, std::int64_t last) {
  IpEntry e;
  e.ip = *parse_ip(ip);
  e.asn = asn;
  e.first_s = static_cast<std::uint32_t>(first);
  e.last_s = static_cast<std::uint32_t>(last);
  return e;
}

ChurnPoint at(std::int64_t t, std::uint32_t addresses) {
  ChurnPoint p;
  p.t = t;
  p.addresses = addresses;
  return p;
}

TEST(Churn, PointTakesCountsFromFeaturesAndTtlsFromTheRing) {
  Features f;
  f.unique_ips = 7;
  f.v4_slash24 = 5;
  f.v6_slash48 = 1;
  f.asns = 4;
  NameState s;
  s.ttl_ring = {300, 60, 120};
  s.ttl_count = 3;
  const ChurnPoint p = point_of(f, s, from_unix(kT0));
  EXPECT_EQ(p.t, kT0);
  EXPECT_EQ(p.addresses, 7u);
  EXPECT_EQ(p.networks, 6u);
  EXPECT_EQ(p.asns, 4u);
  EXPECT_EQ(p.min_ttl_s, 60u);
  EXPECT_EQ(p.max_ttl_s, 300u);
  EXPECT_FALSE(p.reconstructed);
}

TEST(Churn, ReconstructCountsAddressesActiveInEachEarlierWindow) {
  NameState s;
  s.first_seen_s = kT0 - 3000;
  s.ips = {entry("192.0.2.1", 64500, kT0 - 3000, kT0 - 2900),  // early only
           entry("192.0.2.9", 64500, kT0 - 1000, kT0),         // same /24 and AS
           entry("198.51.100.1", 0, kT0 - 500, kT0),           // no ASN: its /16 stands in
           entry("2001:db8:1::1", 64501, kT0 - 100, kT0)};
  // Steps of 1000 s, a window of 600 s: t = now-3000 .. now-1000.
  const auto pts = reconstruct(s, from_unix(kT0), 1000s, 4, 600s);
  ASSERT_EQ(pts.size(), 3u);
  EXPECT_EQ(pts[0].t, kT0 - 3000);
  EXPECT_EQ(pts[0].addresses, 1u);
  EXPECT_EQ(pts[1].t, kT0 - 2000);  // window [now-2600, now-2000]: 192.0.2.1 ended at -2900
  EXPECT_EQ(pts[1].addresses, 0u);
  EXPECT_EQ(pts[2].t, kT0 - 1000);
  EXPECT_EQ(pts[2].addresses, 1u);
  for (const ChurnPoint& p : pts) {
    EXPECT_TRUE(p.reconstructed);
    EXPECT_EQ(p.min_ttl_s, 0u);
  }
  // At now itself all three recent addresses count: 3 networks, 3 "ASNs" (AS64500, the /16 of
  // 198.51.100.1, AS64501).
  const auto last = reconstruct(s, from_unix(kT0 + 100), 100s, 2, 600s);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].addresses, 3u);
  EXPECT_EQ(last[0].networks, 3u);
  EXPECT_EQ(last[0].asns, 3u);
}

TEST(Churn, ReconstructSkipsStepsBeforeTheFirstSighting) {
  NameState s;
  s.first_seen_s = kT0 - 150;
  s.ips = {entry("192.0.2.1", 1, kT0 - 150, kT0)};
  EXPECT_EQ(reconstruct(s, from_unix(kT0), 100s, 10, 600s).size(), 1u);  // only now-100
}

TEST(Churn, NewNameIsSeededAndPointsWithinAStepReplaceTheNewest) {
  ChurnHistory h(ChurnConfig{4, 5, 300s});
  h.record("a.example", at(kT0, 10), {at(kT0 - 600, 2), at(kT0 - 300, 5), at(kT0 + 5, 99)});
  const auto* pts = h.find("a.example");
  ASSERT_NE(pts, nullptr);
  ASSERT_EQ(pts->size(), 3u);  // the seed after p.t is dropped
  EXPECT_EQ((*pts)[2].addresses, 10u);
  h.record("a.example", at(kT0 + 60, 11));   // over a step after kT0-300: appended
  h.record("a.example", at(kT0 + 120, 12));  // within 300 s of kT0: replaces kT0+60
  ASSERT_EQ(pts->size(), 4u);
  EXPECT_EQ(pts->back().addresses, 12u);
  EXPECT_EQ(pts->back().t, kT0 + 120);
  h.record("a.example", at(kT0 + 100, 1));  // clock went back: ignored
  EXPECT_EQ(pts->back().t, kT0 + 120);
  h.record("a.example", at(kT0 + 400, 13));  // past a step from kT0: appended, oldest dropped
  h.record("a.example", at(kT0 + 800, 14));
  ASSERT_EQ(pts->size(), 5u);
  EXPECT_EQ(pts->front().t, kT0 - 300);
  EXPECT_EQ(pts->back().addresses, 14u);
}

TEST(Churn, FullHistoryDropsTheStalestName) {
  ChurnHistory h(ChurnConfig{2, 8, 60s});
  h.record("old.example", at(kT0, 1));
  h.record("new.example", at(kT0 + 100, 1));
  h.record("old.example", at(kT0 + 200, 2));  // now new.example is the stalest
  h.record("third.example", at(kT0 + 300, 1));
  EXPECT_EQ(h.size(), 2u);
  EXPECT_TRUE(h.contains("old.example"));
  EXPECT_FALSE(h.contains("new.example"));
  EXPECT_TRUE(h.contains("third.example"));
  h.forget("old.example");
  EXPECT_FALSE(h.contains("old.example"));
}

TEST(Churn, JsonListsPointsWithUnknownTtlsAsNull) {
  std::deque<ChurnPoint> pts;
  pts.push_back(at(kT0, 3));
  pts.back().reconstructed = true;
  ChurnPoint p = at(kT0 + 300, 4);
  p.networks = 2;
  p.asns = 1;
  p.min_ttl_s = 60;
  p.max_ttl_s = 300;
  pts.push_back(p);
  EXPECT_EQ(churn_json("x\"y.example", pts, 300s),
            R"({"name":"x\"y.example","step_s":300,"points":[)"
            R"({"t":1800000000,"addresses":3,"networks":0,"asns":0,"min_ttl":null,)"
            R"("max_ttl":null,"reconstructed":true},)"
            R"({"t":1800000300,"addresses":4,"networks":2,"asns":1,"min_ttl":60,)"
            R"("max_ttl":300,"reconstructed":false}]})");
}

}  // namespace
}  // namespace gf::flux
