// Flux verdicts that outlive their data: VerdictMemory, the tracker's drop hook, judging a name
// on its own latest window, and the daemon's publish pass on simulated time.
#include "core/flux/verdicts.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/flux/lookup.hpp"
#include "core/flux/score.hpp"
#include "core/flux/tracker.hpp"
#include "flux_fixtures.hpp"

using namespace gf;
using namespace gf::flux;

namespace {

using test::answer;
using test::SlashSixteenAsn;

constexpr std::int64_t kT0 = 1'800'000'000;
constexpr std::int64_t kHour = 3600;

IpAddress agent(int k) {
  return *parse_ip("10." + std::to_string(k % 250) + ".7." + std::to_string(k / 250 + 1));
}

// A fluxing name for one hour: 12 lookups, 6 fresh agents each, TTL 120.
void flux_hour(Tracker& t, const std::string& name, std::int64_t from, int& next_agent) {
  for (int i = 0; i < 12; ++i) {
    std::vector<IpAddress> ips;
    for (int k = 0; k < 6; ++k) {
      ips.push_back(agent(next_agent++));
    }
    t.observe(answer(from + i * 300, name, ips, 120));
  }
}

// The daemon's publish pass (flux_service.cpp) without the clock: judge, hold, build the index.
FluxIndex publish(const Tracker& t, VerdictMemory& m, TimePoint now, RpzContent* rpz = nullptr) {
  FluxIndex idx;
  judge_and_hold(
      t, m, nullptr, now, [](const Verdict& v) -> const ScoreResult& { return v.composite; },
      [&](Verdict v) { idx.add(v); });
  m.for_each(now, [&](const std::string& name, const HeldVerdict& h) { idx.add(name, h); });
  if (rpz != nullptr) {
    *rpz = held_content(m, now);
    rpz->normalise();
  }
  return idx;
}

}  // namespace

TEST(VerdictMemory, HoldsForTtlAfterLastFluxSightingAndRefreshes) {
  VerdictMemoryConfig c;
  c.ttl = Seconds(100);
  VerdictMemory m(c);
  m.record("f.example", 7.0, false, kT0, {agent(1), agent(2)}, {});
  ASSERT_NE(m.find("f.example", from_unix(kT0 + 100)), nullptr);
  EXPECT_EQ(m.find("f.example", from_unix(kT0 + 101)), nullptr);
  m.record("f.example", 6.0, false, kT0 + 50, {agent(3)}, {});
  const HeldVerdict* h = m.find("f.example", from_unix(kT0 + 150));
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->first_flux_s, kT0);
  EXPECT_EQ(h->last_flux_s, kT0 + 50);
  EXPECT_EQ(m.expires_at(*h), kT0 + 150);
  EXPECT_EQ(h->agents.size(), 3u);
  EXPECT_EQ(h->agents.front(), agent(3));  // the latest verdict's agents first
  // An older sighting never moves last_flux back.
  m.record("f.example", 6.0, false, kT0 + 10, {}, {});
  EXPECT_EQ(m.find("f.example", from_unix(kT0 + 150))->last_flux_s, kT0 + 50);
  EXPECT_EQ(m.expire(from_unix(kT0 + 151)), 1u);
  EXPECT_EQ(m.size(), 0u);
}

TEST(VerdictMemory, BoundsNamesAndAgents) {
  VerdictMemoryConfig c;
  c.max_names = 64;
  c.max_agents = 5;
  VerdictMemory m(c);
  for (int i = 0; i < 500; ++i) {
    std::vector<IpAddress> ips;
    for (int k = 0; k < 9; ++k) {
      ips.push_back(agent(i * 9 + k));
    }
    m.record("n" + std::to_string(i) + ".example", 6, true, static_cast<std::uint32_t>(kT0 + i),
             ips, {});
    ASSERT_LE(m.size(), 64u);
  }
  EXPECT_GT(m.evicted_full(), 0u);
  EXPECT_NE(m.find("n499.example", from_unix(kT0 + 500)), nullptr);  // the freshest stay
  EXPECT_EQ(m.find("n0.example", from_unix(kT0 + 500)), nullptr);
  m.for_each(from_unix(kT0 + 500),
             [](const std::string&, const HeldVerdict& h) { EXPECT_LE(h.agents.size(), 5u); });
  EXPECT_GT(m.approx_bytes(), 64u * 5 * sizeof(IpAddress) / 2);
}

TEST(VerdictMemory, OnlyFluxVerdictsAreRecorded) {
  SlashSixteenAsn asn;
  Tracker t({}, &asn, nullptr);
  t.observe(answer(kT0, "static.example", {*parse_ip("192.0.2.1")}, 86400));
  VerdictMemory m;
  EXPECT_FALSE(m.record(judge_latest("static.example", *t.find("static.example"), t, nullptr)));
  EXPECT_EQ(m.size(), 0u);
}

// The case: a name fluxes for an hour, then nobody asks for it for eight hours (more
// than flux.window) while other traffic flows. The daemon's pass keeps it in the index and the
// RPZ with its agents; after idle eviction the memory still holds it; after verdict_ttl from
// its last flux sighting it is gone.
TEST(VerdictMemory, QuietFluxNameStaysListedForVerdictTtl) {
  SlashSixteenAsn asn;
  TrackerConfig tc;  // window 6 h, idle eviction 12 h
  Tracker t(tc, &asn, nullptr);
  VerdictMemoryConfig mc;
  mc.ttl = Seconds(48 * kHour);
  VerdictMemory m(mc);
  t.set_drop_hook([&](const std::string& name, const NameState& s) {
    if (s.responses > 0) {
      m.record(judge_latest(name, s, t, nullptr));
    }
  });
  int next = 0;
  flux_hour(t, "burst.example", kT0, next);
  const std::int64_t last = kT0 + 11 * 300;
  ASSERT_TRUE(publish(t, m, from_unix(last)).match_host("burst.example"));

  // Eight quiet hours for the name; a static name is queried every 10 minutes meanwhile.
  for (std::int64_t now = last + 600; now <= last + 8 * kHour; now += 600) {
    t.observe(answer(now, "static.example", {*parse_ip("192.0.2.1")}, 86400));
  }
  const TimePoint eight = from_unix(last + 8 * kHour);
  // The old behaviour: judged at the wall clock the window is empty and the name is benign.
  EXPECT_FALSE(
      judge(features("burst.example", *t.find("burst.example"), eight, t, nullptr)).flux());
  // Judged on its own latest window it is still flux, and the publish pass keeps it.
  EXPECT_TRUE(judge_latest("burst.example", *t.find("burst.example"), t, nullptr).flux());
  RpzContent rpz;
  FluxIndex idx = publish(t, m, eight, &rpz);
  const auto hit = idx.match_host("www.burst.example");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->last_flux, last);
  EXPECT_TRUE(idx.is_agent(agent(0)));
  EXPECT_EQ(rpz.names, std::vector<std::string>{"burst.example"});
  EXPECT_FALSE(rpz.agent_ips.empty());

  // Past idle eviction (12 h): the tracker forgets the name, the drop hook held its verdict.
  for (std::int64_t now = last + 8 * kHour; now <= last + 14 * kHour; now += 600) {
    t.observe(answer(now, "static.example", {*parse_ip("192.0.2.1")}, 86400));
  }
  EXPECT_EQ(t.find("burst.example"), nullptr);
  idx = publish(t, m, from_unix(last + 14 * kHour));
  EXPECT_TRUE(idx.match_host("burst.example"));
  EXPECT_TRUE(idx.is_agent(agent(0)));
  const HeldVerdict* h = m.find("burst.example", from_unix(last + 14 * kHour));
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->last_flux_s, last);
  EXPECT_EQ(m.expires_at(*h), last + 48 * kHour);
  EXPECT_NE(held_json(m, *h).find("\"last_seen_fluxing\":" + std::to_string(last)),
            std::string::npos);

  // verdict_ttl after the last flux sighting it expires; a fresh burst brings it back.
  idx = publish(t, m, from_unix(last + 48 * kHour + 1));
  EXPECT_FALSE(idx.match_host("burst.example"));
  EXPECT_FALSE(idx.is_agent(agent(0)));
  flux_hour(t, "burst.example", last + 50 * kHour, next);
  EXPECT_TRUE(publish(t, m, from_unix(last + 51 * kHour)).match_host("burst.example"));
}

// Data leaving the window is judged first: a name that fluxed and then answers with one
// parked address for hours keeps its verdict (refreshed only by flux sightings).
TEST(VerdictMemory, DropHookJudgesBeforeThePruneAndParkingDoesNotRefresh) {
  SlashSixteenAsn asn;
  TrackerConfig tc;
  tc.window = Seconds(kHour);
  Tracker t(tc, &asn, nullptr);
  VerdictMemory m;
  int hooked = 0;
  t.set_drop_hook([&](const std::string& name, const NameState& s) {
    ++hooked;
    m.record(judge_latest(name, s, t, nullptr));
  });
  int next = 0;
  flux_hour(t, "parked.example", kT0, next);
  for (int i = 1; i <= 10; ++i) {  // parked on one address, TTL 1 day
    t.observe(answer(kT0 + kHour + i * 1200, "parked.example", {*parse_ip("192.0.2.9")}, 86400));
  }
  EXPECT_GT(hooked, 0);
  EXPECT_FALSE(judge_latest("parked.example", *t.find("parked.example"), t, nullptr).flux());
  const HeldVerdict* h = m.find("parked.example", from_unix(kT0 + 5 * kHour));
  ASSERT_NE(h, nullptr);
  // Refreshed while flux answers were still in the judged window, not by the parking after.
  EXPECT_LE(h->last_flux_s, kT0 + 11 * 300 + kHour);
  EXPECT_EQ(m.find("parked.example", from_unix(kT0 + 11 * 300 + kHour + 7 * 24 * kHour + 1)),
            nullptr);
}

// One look per name: one answer with 5+ agents over 5+ networks and a short TTL.
TEST(Score, SingleLookupWithWideAnswerIsFluxWithAndWithoutAsnData) {
  SlashSixteenAsn asn;
  for (const AsnSource* source :
       {static_cast<const AsnSource*>(&asn), static_cast<const AsnSource*>(nullptr)}) {
    Tracker t({}, source, nullptr);
    t.observe(answer(kT0, "once.example", {agent(1), agent(2), agent(3), agent(4), agent(5)}, 300));
    const Verdict v = judge_latest("once.example", *t.find("once.example"), t, nullptr);
    EXPECT_TRUE(v.flux()) << to_text_line(v);
    EXPECT_TRUE(v.holz.score < v.holz.threshold);  // 5 A and 5 ASNs: 99.3, below 142.38
  }
}

// The memory bound over all names: max_total_ips addresses, the stalest names go first.
TEST(Tracker, BoundsTotalAddresses) {
  TrackerConfig c;
  c.max_total_ips = 100;
  Tracker t(c, nullptr, nullptr);
  int next = 0;
  for (int i = 0; i < 50; ++i) {
    std::vector<IpAddress> ips;
    for (int k = 0; k < 7; ++k) {
      ips.push_back(agent(next++));
    }
    t.observe(answer(kT0 + i, "n" + std::to_string(i) + ".example", ips, 60));
    ASSERT_LE(t.total_ips(), 100u);
  }
  std::size_t sum = 0;
  t.for_each([&](const std::string&, const NameState& s) { sum += s.ips.size(); });
  EXPECT_EQ(sum, t.total_ips());
  EXPECT_NE(t.find("n49.example"), nullptr);
  EXPECT_EQ(t.find("n0.example"), nullptr);
  EXPECT_GT(t.stats().names_evicted_full, 0u);
}
