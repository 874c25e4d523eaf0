// Evidence without ownership data (third pass, docs/flux.md): addresses that also answer for other
// registrable domains (a botnet's agents serve many unrelated domains) keep the network points the
// no-data withdrawal would take; names behind a CNAME count as the CNAME target's domain; the
// index is bounded. NS hosts renumbered inside their network (ASN, or country without ASN data)
// are not NS-host churn. Pure: observations in, verdicts out, time passed in.
#include <gtest/gtest.h>

#include <string>
#include <vector>

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

Verdict latest(const Tracker& t, const std::string& name) {
  return judge_latest(name, *t.find(name), t, nullptr);
}

bool fired(const ScoreResult& r, const std::string& id) {
  for (const Rule& x : r.fired) {
    if (x.id == id) {
      return true;
    }
  }
  return false;
}

// Six looks at `name`, 4 of the 12 agents from `first` on per answer (each seen twice), TTL 60.
void small_set(Tracker& t, const std::string& name, int first, std::int64_t offset) {
  for (int r = 0; r < 6; ++r) {
    std::vector<IpAddress> ips;
    for (int k = 0; k < 4; ++k) {
      ips.push_back(agent(first + (r * 4 + k) % 12));
    }
    t.observe(answer(kT0 + r * 300 + offset, name, ips, 60));
  }
}

// The withdrawal on for every name without data, the shared-agents exception at a quarter.
CompositeParams withdraw_unless_shared() {
  CompositeParams p;
  p.no_data_min_answers = 1e9;
  p.shared_min_share = 0.25;
  p.shared_min_domains = 2;
  return p;
}

}  // namespace

// Three unrelated domains answered by the same 12 agents, and a fourth domain of the same shape
// whose agents serve nobody else. Without any data, with the withdrawal on, the shared agents keep
// their network points (flux) and the lone set loses them (not flux).
TEST(Sharing, AgentsServingOtherDomainsKeepTheirNetworkPoints) {
  Tracker t({}, nullptr, nullptr);
  small_set(t, "bad-one.test", 0, 0);
  small_set(t, "www.bad-two.test", 0, 1);
  small_set(t, "bad-three.test", 0, 2);
  small_set(t, "lone.test", 100, 3);
  const CompositeParams p = withdraw_unless_shared();
  const Features bad = latest(t, "bad-one.test").features;
  EXPECT_EQ(bad.shared_addresses, 12u);
  EXPECT_EQ(bad.shared_domains, 2u);
  const ScoreResult bad_r = score_composite(bad, p);
  EXPECT_TRUE(bad_r.flux) << bad_r.score;
  EXPECT_FALSE(fired(bad_r, "no_ownership_data"));
  const Features lone = latest(t, "lone.test").features;
  EXPECT_EQ(lone.shared_addresses, 0u);
  const ScoreResult lone_r = score_composite(lone, p);
  EXPECT_FALSE(lone_r.flux) << lone_r.score;
  EXPECT_TRUE(fired(lone_r, "no_ownership_data"));
  CompositeParams keep = p;
  keep.no_data_min_answers = 0;  // no withdrawal: the difference is the /16-derived points
  EXPECT_NEAR(score_composite(lone, keep).score - lone_r.score, 3.5, 1e-9);
  // Two domains are not enough when the rule asks for three others.
  CompositeParams three = p;
  three.shared_min_domains = 3;
  EXPECT_FALSE(score_composite(bad, three).flux);
  // With ASN data nothing is withdrawn: the rule does not apply.
  const SlashSixteenAsn asn;
  Tracker with({}, &asn, nullptr);
  small_set(with, "lone.test", 100, 0);
  EXPECT_FALSE(fired(score_composite(latest(with, "lone.test").features, p), "no_ownership_data"));
}

// A platform answering directly for many customers from one pool: each of the name's 12
// addresses also served two other customers, a different two each time (24 domains named once
// each), where a botnet's domains meet on every agent (above: 2 domains named 12 times each).
// Such sharing is not coherent: the name loses its network points as a lone set does, unless the
// recurrence condition is switched off (1.0).
TEST(Sharing, SharingWithADifferentDomainOnEachAddressIsNotABotnet) {
  Tracker t({}, nullptr, nullptr);
  small_set(t, "cust-main.test", 0, 0);
  for (int c = 0; c < 24; ++c) {
    t.observe(answer(kT0 + 2000 + c, "cust" + std::to_string(c) + ".test",
                     {agent(c % 12), agent(100 + c)}, 60));
  }
  const CompositeParams p = withdraw_unless_shared();
  const Features f = latest(t, "cust-main.test").features;
  EXPECT_EQ(f.shared_addresses, 12u);
  EXPECT_EQ(f.shared_domains, 24u);
  EXPECT_EQ(f.shared_mentions, 24u);
  const ScoreResult r = score_composite(f, p);
  EXPECT_FALSE(r.flux) << r.score;
  EXPECT_TRUE(fired(r, "no_ownership_data"));
  CompositeParams off = p;
  off.shared_min_recurrence = 1.0;
  const ScoreResult kept = score_composite(f, off);
  EXPECT_TRUE(kept.flux) << kept.score;
  EXPECT_FALSE(fired(kept, "no_ownership_data"));
}

// Three domains answered by the same 12 addresses, as in the first test, but the addresses sit in
// two /16s (a provider's blocks, not home lines one per network): the sharing does not keep the
// network points, unless the scatter condition is switched off (0).
TEST(Sharing, SharedAddressesInAFewBlocksAreNotScatteredAgents) {
  Tracker t({}, nullptr, nullptr);
  const std::vector<std::string> names = {"pool-one.test", "www.pool-two.test", "pool-three.test"};
  for (std::size_t n = 0; n < names.size(); ++n) {
    for (int r = 0; r < 6; ++r) {
      std::vector<IpAddress> ips;
      for (int k = 0; k < 4; ++k) {
        const int j = (r * 4 + k) % 12;
        ips.push_back(v4(10, 1 + j % 2, j, 7));
      }
      t.observe(answer(kT0 + r * 300 + static_cast<std::int64_t>(n), names[n], ips, 60));
    }
  }
  const CompositeParams p = withdraw_unless_shared();
  const Features f = latest(t, "pool-one.test").features;
  EXPECT_EQ(f.shared_addresses, 12u);
  EXPECT_EQ(f.shared_domains, 2u);
  EXPECT_EQ(f.asns, 2u);
  const ScoreResult r = score_composite(f, p);
  EXPECT_TRUE(fired(r, "no_ownership_data"));
  CompositeParams off = p;
  off.shared_min_scatter = 0;
  EXPECT_FALSE(fired(score_composite(f, off), "no_ownership_data"));
}

// A provider's pool behind CNAMEs into the provider's domain is one owner however many customers
// point at it; the same pool answered directly for unrelated customers' names is shared.
TEST(Sharing, NamesBehindACnameCountAsTheProvidersDomain) {
  Tracker t({}, nullptr, nullptr);
  for (int c = 0; c < 3; ++c) {
    for (int r = 0; r < 4; ++r) {
      Observation o = answer(kT0 + r * 60 + c, "www.cust" + std::to_string(c) + ".test",
                             {agent(r % 4), agent(r % 4 + 4)}, 60);
      o.cname_chain = {"lb" + std::to_string(c) + ".provider.test"};
      o.cname_ttl_s = 300;
      t.observe(o);
      t.observe(answer(kT0 + r * 60 + c + 10, "direct" + std::to_string(c) + ".test",
                       {agent(20 + r % 4), agent(24 + r % 4)}, 60));
    }
  }
  const Features behind = latest(t, "www.cust0.test").features;
  EXPECT_EQ(behind.unique_ips, 8u);
  EXPECT_EQ(behind.shared_addresses, 0u);
  EXPECT_EQ(behind.shared_domains, 0u);
  const Features direct = latest(t, "direct0.test").features;
  EXPECT_EQ(direct.shared_addresses, 8u);
  EXPECT_EQ(direct.shared_domains, 2u);
}

// The index keeps at most max_owner_ips addresses (older than the window go first, then new ones
// are counted and not kept); names with one address are not indexed at all.
TEST(Sharing, OwnerIndexIsBounded) {
  TrackerConfig cfg;
  cfg.max_owner_ips = 8;
  Tracker t(cfg, nullptr, nullptr);
  t.observe(answer(kT0, "static.test", {agent(200)}, 300));
  EXPECT_EQ(t.owner_ips(), 0u);
  for (int r = 0; r < 5; ++r) {
    t.observe(answer(kT0 + r, "pool.test", {agent(4 * r), agent(4 * r + 1), agent(4 * r + 2)}, 60));
  }
  EXPECT_EQ(t.owner_ips(), 8u);
  EXPECT_EQ(t.stats().owner_ips_dropped, 7u);
  // A window later the old entries make room.
  t.observe(answer(kT0 + 7 * 3600, "pool.test", {agent(90), agent(91)}, 60));
  EXPECT_EQ(t.owner_ips(), 2u);
  std::array<std::uint32_t, 3> out{};
  EXPECT_EQ(t.other_owners(agent(90), 0, kT0 + 7 * 3600, out), 1u);  // pool.test's, not 0
}

// Name servers on a home line that the ISP renumbers every other look (8 h apart, one look per
// window): inside one /16 with ASN data (one ASN per /16), across /16s of one country with country
// data. The host changed in half its later looks, but never left its network: not NS-host churn,
// not NS flux. A host replaced by agents elsewhere at the same pace is.
TEST(Sharing, NsHostsRenumberedInsideTheirNetworkAreNotChurn) {
  const SlashSixteenAsn asn;
  const test::SplitCountries geo;
  for (int mode = 0; mode < 2; ++mode) {
    Tracker t({}, mode == 0 ? &asn : nullptr, nullptr);
    if (mode == 1) {
      t.set_geo(&geo);
    }
    for (int r = 0; r < 6; ++r) {
      const std::int64_t now = kT0 + r * 8 * 3600;
      // ASN mode: 10.5.x.y with x moving; geo mode: 10.5-10.7 (all "XA").
      const IpAddress home = mode == 0 ? v4(10, 5, r / 2, 9) : v4(10, 5 + r / 2, 0, 9);
      minimal_look(t, now, "home.test", {"ns1.home.test"}, {home}, 300);
      minimal_look(t, now, "bad.test", {"ns1.bad.test"}, {agent(100 + 7 * (r / 2))}, 300);
    }
    const Verdict home = latest(t, "www.home.test");
    EXPECT_EQ(home.features.ns_host_later, 5u);
    EXPECT_EQ(home.features.ns_host_changes, 2u);
    EXPECT_EQ(home.features.ns_host_net_changes, 0u);
    EXPECT_FALSE(fired(home.composite, "ns_host_churn")) << to_text_line(home);
    EXPECT_FALSE(home.flux()) << to_text_line(home);
    const Verdict bad = latest(t, "www.bad.test");
    EXPECT_EQ(bad.features.ns_host_net_changes, 2u);
    EXPECT_TRUE(fired(bad.composite, "ns_host_churn")) << to_text_line(bad);
    EXPECT_TRUE(bad.flux()) << to_text_line(bad);
  }
  // With no data at all the /16 is all there is: the home line moved across /16s looks like
  // agents (the known limit, docs/flux.md).
  Tracker none({}, nullptr, nullptr);
  for (int r = 0; r < 6; ++r) {
    minimal_look(none, kT0 + r * 8 * 3600, "home.test", {"ns1.home.test"},
                 {v4(10, 5 + r / 2, 0, 9)}, 300);
  }
  EXPECT_TRUE(fired(latest(none, "www.home.test").composite, "ns_host_churn"));
}

// Within one window, with country data only: NS addresses that keep changing over several /16s
// but all in one country are not NS flux by their /16 count; over several countries they are.
TEST(Sharing, NsSetInOneCountryIsNotNsFluxWithCountryDataOnly) {
  const test::SplitCountries geo;
  Tracker t({}, nullptr, nullptr);
  t.set_geo(&geo);
  for (int r = 0; r < 4; ++r) {
    const std::int64_t now = kT0 + r * 600;
    minimal_look(t, now, "home.test", {"ns1.home.test", "ns2.home.test"},
                 {v4(10, 10 + 2 * r, 0, 9), v4(10, 11 + 2 * r, 0, 9)}, 300);
    minimal_look(t, now, "bad.test", {"ns1.bad.test", "ns2.bad.test"},
                 {v4(10, 100 + 2 * r, 0, 9), v4(10, 101 + 2 * r, 0, 9)}, 300);
  }
  const Verdict home = latest(t, "www.home.test");
  EXPECT_EQ(home.features.ns_countries, 1u);
  EXPECT_FALSE(home.flux()) << to_text_line(home);
  const Verdict bad = latest(t, "www.bad.test");
  EXPECT_GE(bad.features.ns_countries, 4u);
  EXPECT_TRUE(bad.flux()) << to_text_line(bad);
}
