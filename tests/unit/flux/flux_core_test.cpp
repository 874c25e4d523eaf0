#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/dns/builder.hpp"
#include "core/flux/allowlist.hpp"
#include "core/flux/asn.hpp"
#include "core/flux/networks.hpp"
#include "core/flux/observation.hpp"
#include "core/flux/score.hpp"
#include "core/flux/tracker.hpp"

using namespace gf;
using namespace gf::flux;

namespace {

IpAddress ip(const std::string& s) { return *parse_ip(s); }

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const AsnTable& test_table() {
  static const AsnTable t = *AsnTable::parse_tsv(slurp(GF_FLUX_TEST_DATA "/asn-test.tsv"));
  return t;
}

// A synthetic source: 10.x.y.z belongs to AS 4200000000 + x (one network per /16).
class SlashSixteenAsn final : public AsnSource {
 public:
  AsnInfo lookup(const IpAddress& a) const override {
    if (!a.is_v4()) {
      return {};
    }
    return {4200000000u + a.bytes[13], {'X', static_cast<char>('A' + a.bytes[13] % 26)}};
  }
  std::string describe() const override { return "test"; }
};

Observation obs(std::int64_t t, const std::string& name, std::vector<std::string> ips,
                std::uint32_t ttl) {
  Observation o;
  o.time = from_unix(t);
  o.qname = name;
  o.qtype = dns::kTypeA;
  for (const auto& s : ips) {
    o.addresses.push_back({ip(s), ttl});
  }
  return o;
}

Verdict verdict_of(const Tracker& t, const std::string& name, std::int64_t now,
                   const Allowlist* allow = nullptr) {
  return judge(features(name, *t.find(name), from_unix(now), t, allow));
}

constexpr std::int64_t kT0 = 1'800'000'000;

}  // namespace

TEST(AsnTable, ParsesTsvAndLooksUp) {
  const AsnTable& t = test_table();
  EXPECT_EQ(t.stats().ranges, 7u);
  EXPECT_EQ(t.stats().skipped_lines, 1u);
  EXPECT_EQ(t.lookup(ip("192.0.2.5")).asn, 64496u);
  EXPECT_EQ(t.lookup(ip("192.0.2.200")).asn, 64497u);
  EXPECT_EQ(t.lookup(ip("203.0.113.255")).asn, 64499u);
  EXPECT_EQ(t.lookup(ip("10.1.2.3")).asn, 4200000001u);
  EXPECT_EQ(t.lookup(ip("2001:db8::5")).asn, 64500u);
  EXPECT_EQ(t.lookup(ip("8.8.8.8")).asn, 0u);
  EXPECT_EQ(t.lookup(ip("0.1.2.3")).asn, 0u);
  EXPECT_EQ(std::string(t.lookup(ip("198.51.100.1")).country.data(), 2), "XA");
  ASSERT_NE(t.name_of(64498), nullptr);
  EXPECT_EQ(*t.name_of(64498), "TEST-NET-2");
}

TEST(AsnTable, RejectsGarbage) { EXPECT_FALSE(AsnTable::parse_tsv("nothing\there\n")); }

TEST(Observation, FollowsCnameChainAndGlue) {
  dns::Builder b(1, "www.shop.example", dns::kTypeA);
  b.add_name(dns::Section::Answer, "www.shop.example", dns::kTypeCname, "e1.edge.example", 300);
  b.add_name(dns::Section::Answer, "e1.edge.example", dns::kTypeCname, "a1.edge.example", 30);
  b.add_address(dns::Section::Answer, "a1.edge.example", ip("192.0.2.10"), 20);
  b.add_address(dns::Section::Answer, "a1.edge.example", ip("192.0.2.11"), 20);
  b.add_name(dns::Section::Authority, "shop.example", dns::kTypeNs, "ns.shop.example", 300);
  b.add_address(dns::Section::Additional, "ns.shop.example", ip("198.51.100.1"), 300);
  auto m = dns::parse_message(b.finish());
  ASSERT_TRUE(m);
  Observation o;
  ASSERT_TRUE(from_message(*m, from_unix(kT0), 3, o));
  EXPECT_EQ(o.qname, "www.shop.example");
  ASSERT_EQ(o.cname_chain.size(), 2u);
  EXPECT_EQ(o.cname_chain[1], "a1.edge.example");
  EXPECT_EQ(o.cname_ttl_s, 30u);
  EXPECT_EQ(o.addresses.size(), 2u);
  ASSERT_EQ(o.ns_names.size(), 1u);
  ASSERT_EQ(o.ns_addresses.size(), 1u);
  EXPECT_EQ(o.source_id, 3u);
}

TEST(Observation, CnameLoopEnds) {
  dns::Builder b(1, "a.example", dns::kTypeA);
  b.add_name(dns::Section::Answer, "a.example", dns::kTypeCname, "b.example", 30);
  b.add_name(dns::Section::Answer, "b.example", dns::kTypeCname, "a.example", 30);
  auto m = dns::parse_message(b.finish());
  Observation o;
  ASSERT_TRUE(from_message(*m, from_unix(kT0), 0, o));
  EXPECT_EQ(o.cname_chain.size(), 1u);
}

TEST(Tracker, CountsDiversityTtlAndGrowth) {
  SlashSixteenAsn asn;
  Tracker t({}, &asn, nullptr);
  t.observe(
      obs(kT0, "flux.example", {"10.1.1.1", "10.2.1.1", "10.3.1.1", "10.4.1.1", "10.5.1.1"}, 180));
  t.observe(obs(kT0 + 200, "flux.example",
                {"10.6.1.1", "10.7.1.1", "10.8.1.1", "10.1.1.1", "10.9.2.1"}, 120));
  t.observe(obs(kT0 + 400, "flux.example",
                {"10.10.1.1", "10.11.1.1", "10.12.1.1", "10.13.1.1", "10.14.1.1"}, 300));
  const Features f =
      features("flux.example", *t.find("flux.example"), from_unix(kT0 + 400), t, nullptr);
  EXPECT_EQ(f.responses, 3u);
  EXPECT_EQ(f.unique_ips, 14u);
  EXPECT_EQ(f.asns, 14u);
  EXPECT_FALSE(f.asn_approximate);
  EXPECT_EQ(f.v4_slash16, 14u);
  EXPECT_EQ(f.ttl_min_s, 120u);
  EXPECT_EQ(f.ttl_median_s, 180u);
  EXPECT_DOUBLE_EQ(f.answers_per_response, 5.0);
  EXPECT_DOUBLE_EQ(f.ip_growth, 4.5);
  EXPECT_EQ(f.registrable_domain, "flux.example");
  EXPECT_EQ(f.first_seen, kT0);
  EXPECT_EQ(f.last_seen, kT0 + 400);
}

TEST(Tracker, WindowForgetsOldAddresses) {
  TrackerConfig c;
  c.window = Seconds(3600);
  Tracker t(c, nullptr, nullptr);
  t.observe(obs(kT0, "a.example", {"192.0.2.1"}, 60));
  t.observe(obs(kT0 + 7200, "a.example", {"192.0.2.2"}, 60));
  const Features f = features("a.example", *t.find("a.example"), from_unix(kT0 + 7200), t, nullptr);
  EXPECT_EQ(f.unique_ips, 1u);
  EXPECT_TRUE(f.asn_approximate);
}

TEST(Tracker, EvictsIdleAndBoundsNames) {
  TrackerConfig c;
  c.idle_evict = Seconds(3600);
  c.max_names = 64;
  Tracker t(c, nullptr, nullptr);
  for (int i = 0; i < 200; ++i) {
    t.observe(obs(kT0 + i, "n" + std::to_string(i) + ".example", {"192.0.2.1"}, 60));
  }
  EXPECT_LE(t.size(), 64u);
  EXPECT_GT(t.stats().names_evicted_full, 0u);
  EXPECT_NE(t.find("n199.example"), nullptr);
  EXPECT_EQ(t.evict_idle(from_unix(kT0 + 100000)), t.stats().names_evicted_idle);
  EXPECT_EQ(t.size(), 0u);
}

TEST(Tracker, BoundsAddressesPerName) {
  TrackerConfig c;
  c.max_ips_per_name = 100;
  Tracker t(c, nullptr, nullptr);
  for (int i = 0; i < 300; ++i) {
    t.observe(obs(kT0 + i, "big.example",
                  {"10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ".1"}, 60));
  }
  EXPECT_EQ(t.find("big.example")->ips.size(), 100u);
  EXPECT_EQ(t.find("big.example")->ips_dropped, 200u);
  // The index still finds every kept address.
  t.observe(obs(kT0 + 400, "big.example", {"10.0.5.1"}, 60));
  EXPECT_EQ(t.find("big.example")->ips_dropped, 200u);
}

TEST(Tracker, IgnoresEmptyAndOtherTypes) {
  Tracker t({}, nullptr, nullptr);
  Observation o = obs(kT0, "x.example", {}, 0);
  o.rcode = 3;
  t.observe(o);
  Observation mx = obs(kT0, "y.example", {"192.0.2.1"}, 60);
  mx.qtype = 15;
  t.observe(mx);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.stats().ignored, 2u);
}

TEST(Score, HolzFormulaAndThreshold) {
  Features f;
  f.unique_ips = 10;
  f.asns = 7;
  f.ns_names = 5;
  const ScoreResult r = score_holz(f);
  EXPECT_NEAR(r.score, 1.32 * 10 + 18.54 * 7, 1e-9);
  EXPECT_TRUE(r.flux);  // 13.2 + 129.78 = 142.98 > 142.38
  f.asns = 6;
  EXPECT_FALSE(score_holz(f).flux);
}

TEST(Score, NazarioNeedsFivePoints) {
  Features f;
  f.responses = 3;
  f.ttl_min_s = 300;
  f.max_answers = 5;
  f.unique_ips = 12;
  f.v4_slash16 = 12;
  EXPECT_EQ(score_nazario(f).score, 4);
  EXPECT_FALSE(score_nazario(f).flux);
  f.asns = 9;
  EXPECT_EQ(score_nazario(f).score, 5);
  EXPECT_TRUE(score_nazario(f).flux);
}

TEST(Score, FluxNameVersusCdnAndAllowlist) {
  SlashSixteenAsn asn;
  Tracker t({}, &asn, nullptr);
  for (int r = 0; r < 4; ++r) {
    std::vector<std::string> agents, edge;
    for (int k = 0; k < 5; ++k) {
      agents.push_back("10." + std::to_string(r * 5 + k + 1) + "." + std::to_string(k) + ".7");
      edge.push_back("10.200.0." + std::to_string(r * 5 + k + 1));
    }
    t.observe(obs(kT0 + r * 300, "bad.flux.example", agents, 300));
    t.observe(obs(kT0 + r * 300, "www.shop.example", edge, 20));
    t.observe(obs(kT0 + r * 300, "0.pool.ntp.org", agents, 130));
  }
  auto allow = Allowlist::parse(slurp(GF_FLUX_ALLOWLIST));
  ASSERT_TRUE(allow);
  const Verdict flux = verdict_of(t, "bad.flux.example", kT0 + 900, &*allow);
  EXPECT_TRUE(flux.flux()) << to_text_line(flux);
  EXPECT_TRUE(flux.holz.flux);
  const Verdict cdn = verdict_of(t, "www.shop.example", kT0 + 900, &*allow);
  EXPECT_FALSE(cdn.flux()) << to_text_line(cdn);
  const Verdict ntp = verdict_of(t, "0.pool.ntp.org", kT0 + 900, &*allow);
  EXPECT_FALSE(ntp.flux());
  EXPECT_TRUE(ntp.holz.flux);  // the formula alone cannot tell the pool from a flux network
  EXPECT_EQ(ntp.composite.fired.at(0).id, "allowlisted:ntp-pool:pool.ntp.org");
}

TEST(Score, CnameIntoCdnLowersTheScore) {
  SlashSixteenAsn asn;
  Tracker t({}, &asn, nullptr);
  auto allow = *Allowlist::parse("akamaiedge.net cdn\n");
  Observation o = obs(kT0, "www.site.example",
                      {"10.1.0.1", "10.2.0.1", "10.3.0.1", "10.4.0.1", "10.5.0.1", "10.6.0.1"}, 20);
  o.cname_chain = {"e5.a.akamaiedge.net"};
  o.cname_ttl_s = 300;
  t.observe(o);
  const Verdict v = verdict_of(t, "www.site.example", kT0, &allow);
  bool seen = false;
  for (const Rule& r : v.composite.fired) {
    seen = seen || r.id == "cname_into:cdn:akamaiedge.net";
  }
  EXPECT_TRUE(seen);
  EXPECT_FALSE(v.flux()) << to_text_line(v);
}

TEST(Score, ExplanationsAreJsonAndOneLine) {
  Tracker t({}, &test_table(), nullptr);
  t.observe(obs(kT0, "q\"uote.example", {"192.0.2.1", "198.51.100.1"}, 60));
  const Verdict v = verdict_of(t, "q\"uote.example", kT0);
  const std::string json = to_json(v, true);
  EXPECT_NE(json.find(R"("name":"q\"uote.example")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("holz":{"score":)"), std::string::npos);
  EXPECT_NE(json.find(R"("addresses":["192.0.2.1","198.51.100.1"])"), std::string::npos) << json;
  const std::string line = to_text_line(v);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.rfind("benign q\"uote.example score=", 0), 0u) << line;
}

TEST(Score, WithoutAsnDataTheVerdictIsApproximate) {
  Tracker t({}, nullptr, nullptr);
  t.observe(obs(kT0, "x.example", {"10.1.0.1", "10.2.0.1"}, 60));
  const Verdict v = verdict_of(t, "x.example", kT0);
  EXPECT_TRUE(v.features.asn_approximate);
  EXPECT_EQ(v.features.asns, 2u);
  EXPECT_NE(to_text_line(v).find("approximate"), std::string::npos);
}

TEST(Networks, NamesSharingAgentsFormOneNetwork) {
  std::vector<NamedAddresses> in = {
      {"a.example", {ip("10.0.0.1"), ip("10.0.0.2"), ip("10.0.0.3")}},
      {"b.example", {ip("10.0.0.2"), ip("10.0.0.3"), ip("10.0.0.9")}},
      {"c.example", {ip("10.9.0.1"), ip("10.0.0.1")}},  // one shared address only
      {"d.example", {ip("10.8.0.1")}},
  };
  auto nets = cluster_networks(in, 2);
  ASSERT_EQ(nets.size(), 3u);
  EXPECT_EQ(nets[0].names, (std::vector<std::string>{"a.example", "b.example"}));
  EXPECT_EQ(nets[0].agents.size(), 4u);
  EXPECT_EQ(cluster_networks(in, 1).size(), 2u);
}
