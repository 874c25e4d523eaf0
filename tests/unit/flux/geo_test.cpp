// Country data without ASN data (flux.geoip_db): addresses all in one country withdraw the
// points the /16 count gave, since a provider's pool sits in one region; agents spread over
// countries keep them. The known limit is tested too: a botnet in one country is then missed
// without ASN data. The io adapter is checked on Debian's GeoIP.dat when it is installed.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "core/flux/score.hpp"
#include "core/flux/tracker.hpp"
#include "core/flux/verdicts.hpp"
#include "flux_fixtures.hpp"
#include "io/flux/geoip_country.hpp"

using namespace gf;
using namespace gf::flux;

namespace {

using test::v4;

constexpr std::int64_t kT0 = 1'800'000'000;

// ASN per /16 (as in evidence_test), with countries.
class PlanAsn final : public AsnSource {
 public:
  AsnInfo lookup(const IpAddress& a) const override {
    return a.is_v4() ? AsnInfo{4200000000u + a.bytes[13], test::SplitCountries().lookup(a).country}
                     : AsnInfo{};
  }
  std::string describe() const override { return "test asn"; }
};

// Six answers of five addresses, each new, each on its own /16 from `first16` on: the shape of a
// pool over many /16s or of flux agents, TTL 60.
void churn(Tracker& t, const std::string& name, int first16, int a = 10) {
  for (int r = 0; r < 6; ++r) {
    std::vector<IpAddress> ips;
    for (int k = 0; k < 5; ++k) {
      ips.push_back(v4(a, first16 + (r * 5 + k) % 90, r * 5 + k, 9));
    }
    Observation o;
    o.time = from_unix(kT0 + r * 300);
    o.qname = name;
    o.qtype = dns::kTypeA;
    for (const auto& ip : ips) {
      o.addresses.push_back({ip, 60});
    }
    t.observe(o);
  }
}

bool fired(const Verdict& v, const std::string& id) {
  for (const Rule& r : v.composite.fired) {
    if (r.id == id) {
      return true;
    }
  }
  return false;
}

Verdict latest(const Tracker& t, const std::string& name) {
  return judge_latest(name, *t.find(name), t, nullptr);
}

const test::SplitCountries kGeo;
const PlanAsn kAsn;

}  // namespace

TEST(Geo, PoolInOneCountryIsNotFluxWithCountryData) {
  Tracker none({}, nullptr, nullptr);
  churn(none, "lb.test", 0);
  const Verdict before = latest(none, "lb.test");
  EXPECT_TRUE(before.flux()) << to_text_line(before);  // the problem: /16s look like ISPs
  EXPECT_EQ(before.features.countries_known, 0u);

  Tracker geo({}, nullptr, nullptr);
  geo.set_geo(&kGeo);
  churn(geo, "lb.test", 0);
  const Verdict after = latest(geo, "lb.test");
  EXPECT_FALSE(after.flux()) << to_text_line(after);
  EXPECT_TRUE(fired(after, "one_country_approx"));
  EXPECT_TRUE(after.features.asn_approximate);
  EXPECT_EQ(after.features.countries, 1u);
  EXPECT_EQ(after.features.countries_known, after.features.unique_ips);
  // The withdrawn points are exactly the /16-derived ones.
  EXPECT_NEAR(before.composite.score - after.composite.score, 3.5, 1e-9);
  EXPECT_FALSE(geo.has_asn_data());
}

TEST(Geo, AgentsOverManyCountriesStayFlux) {
  Tracker geo({}, nullptr, nullptr);
  geo.set_geo(&kGeo);
  churn(geo, "bad.test", 100);
  const Verdict v = latest(geo, "bad.test");
  EXPECT_TRUE(v.flux()) << to_text_line(v);
  EXPECT_FALSE(fired(v, "one_country_approx"));
  EXPECT_GE(v.features.countries, 10u);
}

// The limit, on purpose: a botnet whose agents all sit in one country has the shape of a
// provider's regional pool without ASN data. Country data then misses it; ASN data does not.
TEST(Geo, BotnetInOneCountryNeedsAsnData) {
  Tracker geo({}, nullptr, nullptr);
  geo.set_geo(&kGeo);
  churn(geo, "bad.test", 0);
  EXPECT_FALSE(latest(geo, "bad.test").flux());
  Tracker asn({}, &kAsn, nullptr);
  churn(asn, "bad.test", 0);
  const Verdict v = latest(asn, "bad.test");
  EXPECT_TRUE(v.flux()) << to_text_line(v);
  EXPECT_FALSE(fired(v, "one_country_approx"));  // never with ASN data
}

// Countries must be known for three quarters of the addresses: an unknown country is no sign
// of one region.
TEST(Geo, UnknownCountriesDoNotCountAsOneCountry) {
  Tracker geo({}, nullptr, nullptr);
  geo.set_geo(&kGeo);
  churn(geo, "lb.test", 0, 172);  // 172.x: no country in the plan
  const Verdict v = latest(geo, "lb.test");
  EXPECT_EQ(v.features.countries_known, 0u);
  EXPECT_FALSE(fired(v, "one_country_approx"));
  EXPECT_TRUE(v.flux()) << to_text_line(v);
}

// The ASN source's own country wins; the geo source fills in only where it has none.
TEST(Geo, GeoFillsOnlyMissingCountries) {
  class NoCountryAsn final : public AsnSource {
   public:
    AsnInfo lookup(const IpAddress&) const override { return {64512, {0, 0}}; }
    std::string describe() const override { return "asn without countries"; }
  } asn;
  Tracker t({}, &asn, nullptr);
  t.set_geo(&kGeo);
  churn(t, "x.test", 100);
  const NameState* s = t.find("x.test");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->ips.front().asn, 64512u);
  EXPECT_EQ(s->ips.front().country[0], 'X');
}

// Debian's geoip-database (GeoIP.dat of December 2019), when installed.
TEST(GeoIpCountry, ReadsDebiansCountryDatabase) {
  const std::string path = "/usr/share/GeoIP/GeoIP.dat";
  std::string note;
  auto src = io::open_geo_source(path, note);
  ASSERT_TRUE(src.has_value()) << src.error().message;
  if (*src == nullptr) {
    GTEST_SKIP() << note;
  }
  const AsnSource& g = **src;
  EXPECT_EQ(g.lookup(v4(8, 8, 8, 8)).asn, 0u);
  const auto us = g.lookup(v4(8, 8, 8, 8)).country;
  EXPECT_EQ(std::string(us.data(), 2), "US");
  const auto nl = g.lookup(v4(193, 0, 0, 1)).country;  // RIPE NCC, Amsterdam
  EXPECT_EQ(std::string(nl.data(), 2), "NL");
  EXPECT_EQ(g.lookup(v4(10, 1, 2, 3)).country[0], 0);  // private: no country
  EXPECT_NE(g.describe().find("GeoIP"), std::string::npos);
}

TEST(GeoIpCountry, MissingFileIsOffAndBadFileIsAnError) {
  std::string note;
  auto missing = io::open_geo_source("/nonexistent/GeoIP.dat", note);
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(*missing, nullptr);
  EXPECT_NE(note.find("not found"), std::string::npos);
  auto off = io::open_geo_source("", note);
  ASSERT_TRUE(off.has_value());
  EXPECT_EQ(*off, nullptr);
  const std::string bad = testing::TempDir() + "/not-geoip.dat";
  std::ofstream(bad) << "this is not a GeoIP database\n";
  auto err = io::open_geo_source(bad, note);
  EXPECT_FALSE(err.has_value());
}

namespace {

// `looks` answers of `per` addresses each, every address new, on /16s from `first16` on (countries
// as test::SplitCountries says), TTL 60.
void answers(Tracker& t, const std::string& name, int first16, int looks, int per) {
  for (int r = 0; r < looks; ++r) {
    Observation o;
    o.time = from_unix(kT0 + r * 300);
    o.qname = name;
    o.qtype = dns::kTypeA;
    for (int k = 0; k < per; ++k) {
      o.addresses.push_back({v4(10, first16 + (r * per + k) % 90, r * per + k, 9), 60});
    }
    t.observe(o);
  }
}

}  // namespace

// A set too big and churning too fast for one provider's pool (16+ addresses, 6+ per answer)
// keeps its network points even in one country: a botnet concentrated in one country with the
// usual flux shape is flagged with country data alone. A smaller set in one country is not.
TEST(Geo, BigChurningSetInOneCountryStaysFlux) {
  Tracker geo({}, nullptr, nullptr);
  geo.set_geo(&kGeo);
  answers(geo, "big.test", 0, 6, 8);    // 48 addresses, 8 per answer, all in XA
  answers(geo, "small.test", 0, 6, 5);  // 30 addresses, 5 per answer
  const Verdict big = latest(geo, "big.test");
  EXPECT_TRUE(big.flux()) << to_text_line(big);
  EXPECT_FALSE(fired(big, "one_country_approx"));
  EXPECT_EQ(big.features.countries, 1u);
  const Verdict small = latest(geo, "small.test");
  EXPECT_FALSE(small.flux()) << to_text_line(small);
  EXPECT_TRUE(fired(small, "one_country_approx"));
}

// Two countries among 8+ addresses withdraw the /16 points too (a pool over two regions); the
// same with 4 addresses does not, nor do agents over many countries.
TEST(Geo, TwoCountriesAmongManyAddressesWithdrawTheNetworkPoints) {
  Tracker geo({}, nullptr, nullptr);
  geo.set_geo(&kGeo);
  for (int r = 0; r < 4; ++r) {  // 10.0-99 is XA, 10.101 is XB: two countries, 20 addresses
    std::vector<IpAddress> ips;
    for (int k = 0; k < 5; ++k) {
      ips.push_back(k % 2 ? v4(10, 101, r * 5 + k, 9) : v4(10, r * 5 + k, 1, 9));
    }
    Observation o;
    o.time = from_unix(kT0 + r * 300);
    o.qname = "eu-pool.test";
    o.qtype = dns::kTypeA;
    for (const auto& ip : ips) {
      o.addresses.push_back({ip, 10});
    }
    geo.observe(o);
  }
  const Verdict v = latest(geo, "eu-pool.test");
  EXPECT_EQ(v.features.countries, 2u);
  EXPECT_TRUE(fired(v, "one_country_approx")) << to_text_line(v);
  CompositeParams p;
  p.two_countries_min_addresses = 21;  // more addresses than it has: the rule stays off
  EXPECT_GT(composite_score(v.features, p), v.composite.score);
}

// No data at all, with the option on (no_data_min_answers 4; off by default, the CV's choice):
// names answered 2-3 addresses at a time (a mail provider's MX pool) lose the /16 points;
// answers of 4+ agents keep them (one wide answer is flux evidence on its own).
TEST(Geo, WithoutAnyDataNarrowAnswersLoseTheNetworkPointsWhenOn) {
  Tracker none({}, nullptr, nullptr);
  answers(none, "mx.test", 0, 10, 3);
  answers(none, "bad.test", 0, 6, 5);
  const Verdict mx = latest(none, "mx.test");
  EXPECT_FALSE(fired(mx, "no_ownership_data"));  // off by default
  EXPECT_TRUE(mx.flux()) << to_text_line(mx);    // the known no-data limit
  CompositeParams on;
  on.no_data_min_answers = 4;
  const ScoreResult mx_on = score_composite(mx.features, on);
  EXPECT_FALSE(mx_on.flux);
  EXPECT_NEAR(mx.composite.score - mx_on.score, 3.5, 1e-9);  // the /16-derived points
  const ScoreResult bad_on = score_composite(latest(none, "bad.test").features, on);
  EXPECT_TRUE(bad_on.flux);
  EXPECT_EQ(bad_on.score, latest(none, "bad.test").composite.score);
}
