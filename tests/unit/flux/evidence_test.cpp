// The evidence added for issue 12's families: the NS set fluxing (glue, NS host lookups), answers
// from one edge cluster, addresses shared with allowlisted names, a small reused set without ASN
// data. Pure: observations in, verdicts out, time passed in.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/flux/allowlist.hpp"
#include "core/flux/score.hpp"
#include "core/flux/tracker.hpp"
#include "core/flux/verdicts.hpp"
#include "flux_fixtures.hpp"

using namespace gf;
using namespace gf::flux;

namespace {

using test::agent;
using test::answer;
using test::minimal_look;
using test::SlashSixteenAsn;
using test::v4;

constexpr std::int64_t kT0 = 1'800'000'000;

// The name's A answer with the zone's NS names and glue in the authority/additional sections.
Observation with_ns(Observation o, const std::vector<std::string>& ns,
                    const std::vector<IpAddress>& glue, std::uint32_t ns_ttl) {
  o.ns_names = ns;
  o.ns_addresses = glue;
  o.ns_ttl_s = ns_ttl;
  return o;
}

Verdict latest(const Tracker& t, const std::string& name, const Allowlist* allow = nullptr) {
  return judge_latest(name, *t.find(name), t, allow);
}

bool fired(const Verdict& v, const std::string& id) {
  for (const Rule& r : v.composite.fired) {
    if (r.id == id) {
      return true;
    }
  }
  return false;
}

const SlashSixteenAsn kAsn;
const std::vector<const AsnSource*> kBothModes = {&kAsn, nullptr};

}  // namespace

// Double flux where only the NS set fluxes: one stable A with a 1 h TTL, glue that changes with
// every answer over residential networks, NS TTL 5 min. Flux with and without ASN data.
TEST(Evidence, RotatingGlueIsNsFluxEvenWithAStableA) {
  for (const AsnSource* asn : kBothModes) {
    Tracker t({}, asn, nullptr);
    const IpAddress a = v4(172, 16, 0, 10);
    for (int r = 0; r < 3; ++r) {
      t.observe(with_ns(answer(kT0 + r * 600, "www.bad.test", {a}, 3600),
                        {"ns1.bad.test", "ns2.bad.test"}, {agent(2 * r), agent(2 * r + 1)}, 300));
    }
    const Verdict v = latest(t, "www.bad.test");
    EXPECT_TRUE(v.flux()) << to_text_line(v);
    EXPECT_EQ(v.features.ns_new_events, 2u);
    EXPECT_EQ(v.features.ns_addresses, 6u);
  }
}

// A benign zone: the same glue every time (dual-stack included), a day's TTL; then a provider move
// that brings new addresses once. Neither is NS flux.
TEST(Evidence, StableGlueAndOneProviderMoveAreNotNsFlux) {
  for (const AsnSource* asn : kBothModes) {
    Tracker t({}, asn, nullptr);
    const IpAddress a = v4(172, 16, 0, 10);
    const std::vector<IpAddress> old_glue = {v4(198, 18, 0, 1), v4(198, 19, 0, 1),
                                             *parse_ip("2001:db8::53")};
    const std::vector<IpAddress> new_glue = {v4(198, 20, 0, 1), v4(198, 21, 0, 1)};
    for (int r = 0; r < 6; ++r) {
      t.observe(with_ns(answer(kT0 + r * 600, "www.good.test", {a}, 300),
                        r < 4 ? std::vector<std::string>{"ns1.prov-a.test", "ns2.prov-a.test"}
                              : std::vector<std::string>{"ns1.prov-b.test", "ns2.prov-b.test"},
                        r < 4 ? old_glue : new_glue, 86400));
    }
    const Verdict v = latest(t, "www.good.test");
    EXPECT_FALSE(v.flux()) << to_text_line(v);
    EXPECT_EQ(v.features.ns_new_events, 1u);
  }
}

// A resolver with minimal responses: the name's answers carry no NS data; an NS query for the
// domain names the servers, and the A lookups of those names carry the fluxing addresses.
TEST(Evidence, NsHostLookupsShowTheNsSetWithoutGlue) {
  for (const AsnSource* asn : kBothModes) {
    Tracker t({}, asn, nullptr);
    for (int r = 0; r < 4; ++r) {
      const std::int64_t now = kT0 + r * 600;
      t.observe(answer(now, "www.bad.test", {v4(172, 16, 0, 10)}, 3600));
      Observation ns;
      ns.time = from_unix(now);
      ns.qname = "bad.test";
      ns.qtype = dns::kTypeNs;
      ns.ns_names = {"ns1.bad.test", "ns2.bad.test"};
      ns.ns_ttl_s = 300;
      t.observe(ns);
      t.observe(answer(now + 1, "ns1.bad.test", {agent(10 + 2 * r)}, 300));
      t.observe(answer(now + 1, "ns2.bad.test", {agent(11 + 2 * r)}, 300));
    }
    const Verdict v = latest(t, "www.bad.test");
    EXPECT_TRUE(v.flux()) << to_text_line(v);
    EXPECT_TRUE(fired(v, asn ? "ns_flux" : "ns_flux_approx")) << to_text_line(v);
  }
}

// Without ASN data a CDN whose edge clusters sit in many /16s has the window diversity of agents;
// each answer coming from one /24 is what tells it apart. Agents answering alike stay flux.
TEST(Evidence, AnswersFromOneClusterAreNotFluxWithoutAsnData) {
  Tracker t({}, nullptr, nullptr);
  for (int r = 0; r < 6; ++r) {
    std::vector<IpAddress> edge, bots;
    for (int k = 0; k < 4; ++k) {
      edge.push_back(v4(100, 64 + r * 7, 3, 10 + k));
      bots.push_back(agent(r * 4 + k));
    }
    t.observe(answer(kT0 + r * 300, "www.shop.test", edge, 20));
    t.observe(answer(kT0 + r * 300, "bad.test", bots, 20));
  }
  const Verdict cdn = latest(t, "www.shop.test");
  EXPECT_FALSE(cdn.flux()) << to_text_line(cdn);
  EXPECT_TRUE(fired(cdn, "answers_from_one_cluster"));
  EXPECT_NEAR(cdn.features.answer_spread, 0.25, 1e-9);
  const Verdict bad = latest(t, "bad.test");
  EXPECT_TRUE(bad.flux()) << to_text_line(bad);
  EXPECT_NEAR(bad.features.answer_spread, 1.0, 1e-9);
}

// An unlisted name answered by the servers of an allowlisted pool (NTP-pool volunteers) is not
// flux, with or without ASN data; the same answers with no listed name around are.
TEST(Evidence, AddressesOfAnAllowlistedPoolAreNotAgents) {
  const auto allow = *Allowlist::parse("pool.ntp.org ntp-pool\n");
  for (const AsnSource* asn : kBothModes) {
    for (const bool listed_seen : {true, false}) {
      Tracker t({}, asn, nullptr);
      t.set_listed([&allow](std::string_view n) { return allow.match(n).has_value(); });
      for (int r = 0; r < 5; ++r) {
        std::vector<IpAddress> four;
        for (int k = 0; k < 4; ++k) {
          four.push_back(agent(r * 4 + k));
        }
        if (listed_seen) {
          t.observe(answer(kT0 + r * 300, "0.pool.ntp.org", four, 130));
        }
        t.observe(answer(kT0 + r * 300 + 1, "0.timepool.test", four, 130));
      }
      const Verdict v = latest(t, "0.timepool.test", &allow);
      EXPECT_EQ(v.flux(), !listed_seen) << to_text_line(v);
      EXPECT_EQ(v.features.listed_shared, listed_seen ? 20u : 0u);
    }
  }
}

// The listed-address memory is bounded: past max_listed_ips, addresses older than the window go,
// then new ones are counted and not kept.
TEST(Evidence, ListedAddressesAreBounded) {
  TrackerConfig c;
  c.max_listed_ips = 8;
  Tracker t(c, nullptr, nullptr);
  t.set_listed([](std::string_view n) { return n.ends_with(".pool.ntp.org"); });
  for (int r = 0; r < 5; ++r) {
    t.observe(answer(kT0 + r, "0.pool.ntp.org",
                     {agent(4 * r), agent(4 * r + 1), agent(4 * r + 2), agent(4 * r + 3)}, 130));
    EXPECT_LE(t.listed_ips(), 8u);
  }
  EXPECT_EQ(t.stats().listed_ips_dropped, 12u);
  EXPECT_NE(t.listed_last_seen(agent(0)), 0u);
  EXPECT_EQ(t.listed_last_seen(agent(19)), 0u);
  // Seven hours later the old entries are past the window and make room.
  t.observe(answer(kT0 + 7 * 3600, "1.pool.ntp.org", {agent(100)}, 130));
  EXPECT_EQ(t.listed_ips(), 1u);
  EXPECT_NE(t.listed_last_seen(agent(100)), 0u);
}

// Without ASN data a load balancer's few nodes answered again and again lose the points their
// /16 spread earned; with ASN data the rule stays off (the one ASN already decides).
TEST(Evidence, SmallReusedSetWithoutAsnData) {
  for (const AsnSource* asn : kBothModes) {
    Tracker t({}, asn, nullptr);
    const std::vector<IpAddress> nodes = {agent(1), agent(2), agent(3),
                                          agent(4), agent(5), agent(6)};
    for (int r = 0; r < 10; ++r) {
      std::vector<IpAddress> pick;
      for (int k = 0; k < 4; ++k) {
        pick.push_back(nodes[(r + k) % nodes.size()]);
      }
      t.observe(answer(kT0 + r * 120, "lb.test", pick, 60));
    }
    const Verdict v = latest(t, "lb.test");
    EXPECT_EQ(fired(v, "stable_small_set_approx"), asn == nullptr) << to_text_line(v);
    EXPECT_EQ(v.features.unique_ever, 6u);
    EXPECT_NEAR(v.features.reuse, 1.0 - 6.0 / 40.0, 1e-9);
  }
}

namespace {

constexpr std::int64_t kEightHours = 8 * 3600;

}  // namespace

// A zone looked up three times, eight hours apart: every 6 h window holds one look, so the NS set
// never changes within a window; the name servers' own addresses changed between looks. That is
// NS flux (ns_host_churn), with and without ASN data.
TEST(Evidence, NsHostsChangingAcrossWindowsAreNsFlux) {
  for (const AsnSource* asn : kBothModes) {
    Tracker t({}, asn, nullptr);
    for (int r = 0; r < 3; ++r) {
      minimal_look(t, kT0 + r * kEightHours, "bad.test", {"ns1.bad.test", "ns2.bad.test"},
                   {agent(20 + 2 * r), agent(21 + 2 * r)}, 300);
    }
    const Verdict v = latest(t, "www.bad.test");
    EXPECT_TRUE(v.flux()) << to_text_line(v);
    EXPECT_TRUE(fired(v, "ns_host_churn")) << to_text_line(v);
    EXPECT_EQ(v.features.ns_host_later, 4u);
    EXPECT_EQ(v.features.ns_host_changes, 4u);
    EXPECT_EQ(v.features.ns_host_ttl_min_s, 300u);
    EXPECT_EQ(v.features.ns_addresses, 2u);  // the window holds one look
  }
}

// Benign counterparts: name servers that keep their addresses (one per host name, a 5-minute
// TTL); a name server on a home line renumbered once in twelve looks. Neither is NS flux. Host
// addresses that change with a day's TTL are not NS-host churn (what they are in one window is
// the older NS rules' business).
TEST(Evidence, StableOrRarelyRenumberedNsHostsAreNotNsFlux) {
  for (const AsnSource* asn : kBothModes) {
    Tracker t({}, asn, nullptr);
    for (int r = 0; r < 12; ++r) {
      const std::int64_t now = kT0 + r * 1800;
      minimal_look(t, now, "good.test", {"ns1.dnsco.test", "ns2.dnsco.test"},
                   {v4(198, 18, 0, 1), v4(198, 19, 0, 1)}, 300);
      minimal_look(t, now, "home.test", {"ns1.home.test"}, {r < 6 ? agent(40) : agent(41)}, 120);
      minimal_look(t, now, "slow.test", {"ns1.slow.test", "ns2.slow.test"},
                   {agent(50 + r), agent(70 + r)}, 86400);
    }
    for (const char* name : {"www.good.test", "www.home.test"}) {
      const Verdict v = latest(t, name);
      EXPECT_FALSE(fired(v, "ns_host_churn")) << to_text_line(v);
      EXPECT_FALSE(v.flux()) << to_text_line(v);
    }
    const Verdict slow = latest(t, "www.slow.test");
    EXPECT_FALSE(fired(slow, "ns_host_churn")) << to_text_line(slow);
    EXPECT_EQ(slow.features.ns_host_ttl_min_s, 86400u);
    EXPECT_EQ(latest(t, "www.home.test").features.ns_host_changes, 1u);
    EXPECT_EQ(latest(t, "www.home.test").features.ns_host_later, 11u);
    EXPECT_EQ(latest(t, "www.good.test").features.ns_host_changes, 0u);
  }
}

// The rule's parameters: the same churn is NS flux or not by ns_host_min_changes and
// ns_host_change_share.
TEST(Evidence, NsHostChurnFollowsItsParameters) {
  Tracker t({}, &kAsn, nullptr);
  for (int r = 0; r < 5; ++r) {  // 4 later looks of one host, 2 of them with a new address
    minimal_look(t, kT0 + r * kEightHours, "mid.test", {"ns1.mid.test"}, {agent(60 + r / 2)}, 300);
  }
  const Features f = latest(t, "www.mid.test").features;
  ASSERT_EQ(f.ns_host_later, 4u);
  ASSERT_EQ(f.ns_host_changes, 2u);
  CompositeParams p;
  p.ns_host_min_changes = 2;
  p.ns_host_change_share = 0.5;
  EXPECT_GE(composite_score(f, p), 5.0);
  p.ns_host_change_share = 0.75;
  EXPECT_LT(composite_score(f, p), 5.0);
  p.ns_host_change_share = 0.25;
  p.ns_host_min_changes = 3;
  EXPECT_LT(composite_score(f, p), 5.0);
  EXPECT_EQ(composite_score(f, p), score_composite(f, p).score);
}
