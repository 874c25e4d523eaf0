// Flux state shared between nodes (core/flux/shared.hpp), pure: a name's answers split between
// two or three trackers, each publishing deltas into a simulated Redis (apply_delta, what the
// script does), judged on merged_state(), give the verdict of one tracker that saw everything.
#include "core/flux/shared.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/flux/score.hpp"
#include "core/flux/verdicts.hpp"
#include "flux_fixtures.hpp"

using namespace gf;
using namespace gf::flux;

namespace {

using test::answer_of;
using test::SlashSixteenAsn;

constexpr std::int64_t kT0 = 1'800'000'000;

// The stand-in for Redis: one merged view per name, fed by every node's deltas.
struct FakeRedis {
  SharedLimits limits;
  std::unordered_map<std::string, SharedView> views;
  std::unordered_map<std::string, std::vector<IpAddress>> ever;
  void flush(const Tracker& t, SharedLedger& ledger, std::uint64_t pass) {
    const auto deltas = ledger.collect(t, 1000);
    for (const NameDelta& d : deltas) {
      apply_delta(views[d.name], ever[d.name], d, limits);
    }
    ledger.commit(t, deltas, pass);
  }
};

struct Node {
  SlashSixteenAsn asn;
  Tracker tracker{TrackerConfig{}, &asn, {}};
  SharedLedger ledger;
  Verdict merged(const FakeRedis& r, const std::string& name) const {
    return judge_latest(name, merged_state(*tracker.find(name), r.views.at(name)), tracker,
                        nullptr);
  }
  Verdict local(const std::string& name) const {
    return judge_latest(name, *tracker.find(name), tracker, nullptr);
  }
};

void expect_same(const Verdict& merged, const Verdict& whole) {
  const Features& m = merged.features;
  const Features& w = whole.features;
  EXPECT_EQ(merged.flux(), whole.flux());
  EXPECT_DOUBLE_EQ(merged.composite.score, whole.composite.score);
  EXPECT_EQ(merged.holz.flux, whole.holz.flux);
  EXPECT_EQ(merged.nazario.score, whole.nazario.score);
  EXPECT_EQ(m.responses, w.responses);
  EXPECT_EQ(m.unique_ips, w.unique_ips);
  EXPECT_EQ(m.asns, w.asns);
  EXPECT_EQ(m.v4_slash16, w.v4_slash16);
  EXPECT_EQ(m.v4_slash24, w.v4_slash24);
  EXPECT_EQ(m.max_answers, w.max_answers);
  EXPECT_EQ(m.ttl_min_s, w.ttl_min_s);
  EXPECT_EQ(ttl_class(m.ttl_median_s), ttl_class(w.ttl_median_s));
  EXPECT_DOUBLE_EQ(m.answers_per_response, w.answers_per_response);
  EXPECT_DOUBLE_EQ(m.answer_spread, w.answer_spread);
  EXPECT_EQ(m.unique_ever, w.unique_ever);
  EXPECT_EQ(m.first_seen, w.first_seen);
  EXPECT_EQ(m.last_seen, w.last_seen);
}

// Six answers of one agent each over six /16s, TTL 60: flux to one tracker that sees all six
// (6 networks, one per address, spread, churn, short TTL); a node that sees two or three of them
// has too few addresses for the spread rules and is not.
std::vector<Observation> split_flux(const std::string& name) {
  std::vector<Observation> out;
  for (int i = 0; i < 6; ++i) {
    out.push_back(answer_of(kT0 + 60 * i, name, {"10." + std::to_string(20 + i) + ".1.5"}, 60));
  }
  return out;
}

TEST(SharedFlux, ThreeNodesWithAThirdEachGiveTheWholeVerdict) {
  const std::string name = "split-flux.test";
  const auto obs = split_flux(name);
  Node whole;
  for (const auto& o : obs) {
    whole.tracker.observe(o);
  }
  ASSERT_TRUE(whole.local(name).flux());

  FakeRedis redis;
  Node nodes[3];
  for (std::size_t i = 0; i < obs.size(); ++i) {
    nodes[i % 3].tracker.observe(obs[i]);
    nodes[0].ledger.collect(nodes[0].tracker, 1000);        // collecting alone changes nothing
    redis.flush(nodes[0].tracker, nodes[0].ledger, i + 1);  // node 0 flushes after each answer
  }
  for (Node& n : nodes) {
    EXPECT_FALSE(n.local(name).flux()) << "one node alone must not flag it";
    redis.flush(n.tracker, n.ledger, 10);
  }
  for (const Node& n : nodes) {
    const Verdict v = n.merged(redis, name);
    EXPECT_TRUE(v.flux()) << to_text_line(v);
    expect_same(v, whole.local(name));
  }
}

TEST(SharedFlux, TwoNodesAndRepeatedFlushesCountEachAnswerOnce) {
  const std::string name = "split-flux.test";
  const auto obs = split_flux(name);
  Node whole, a, b;
  FakeRedis redis;
  for (std::size_t i = 0; i < obs.size(); ++i) {
    whole.tracker.observe(obs[i]);
    (i < 3 ? a : b).tracker.observe(obs[i]);
    redis.flush(a.tracker, a.ledger, i);
    redis.flush(b.tracker, b.ledger, i);
  }
  redis.flush(a.tracker, a.ledger, 20);  // nothing new: nothing counted again
  EXPECT_EQ(redis.views.at(name).responses, 6u);
  EXPECT_EQ(redis.views.at(name).answers, 6u);
  EXPECT_EQ(redis.views.at(name).ips.size(), 6u);
  EXPECT_FALSE(a.local(name).flux());
  EXPECT_FALSE(b.local(name).flux());
  expect_same(a.merged(redis, name), whole.local(name));
  expect_same(b.merged(redis, name), whole.local(name));
}

TEST(SharedFlux, ANodeThatNeverSawTheNameJudgesItOnTheMergedViewAlone) {
  const std::string name = "split-flux.test";
  Node whole, a, b, blind;
  FakeRedis redis;
  const auto obs = split_flux(name);
  for (std::size_t i = 0; i < obs.size(); ++i) {
    whole.tracker.observe(obs[i]);
    (i % 2 == 0 ? a : b).tracker.observe(obs[i]);
  }
  redis.flush(a.tracker, a.ledger, 1);
  redis.flush(b.tracker, b.ledger, 1);
  NameState none;
  none.registrable_domain = naive_registrable_domain(name);
  const Verdict v =
      judge_latest(name, merged_state(none, redis.views.at(name)), blind.tracker, nullptr);
  EXPECT_TRUE(v.flux()) << to_text_line(v);
  expect_same(v, whole.local(name));
}

TEST(SharedFlux, BenignNameSplitTheSameWayStaysBenign) {
  // A round robin: 2 of 4 servers in one /24 per answer, TTL 3600, 12 answers over 3 nodes.
  const std::string name = "www.benign.test";
  Node whole;
  Node nodes[3];
  FakeRedis redis;
  for (int i = 0; i < 12; ++i) {
    const auto o = answer_of(
        kT0 + 300 * i, name,
        {"192.0.2." + std::to_string(10 + i % 4), "192.0.2." + std::to_string(10 + (i + 1) % 4)},
        3600);
    whole.tracker.observe(o);
    nodes[i % 3].tracker.observe(o);
  }
  for (Node& n : nodes) {
    redis.flush(n.tracker, n.ledger, 1);
  }
  ASSERT_FALSE(whole.local(name).flux());
  for (const Node& n : nodes) {
    expect_same(n.merged(redis, name), whole.local(name));
  }
}

TEST(SharedFlux, LedgerPublishesOnlyChangesAndRemembersRecentNames) {
  Node n;
  n.tracker.observe(answer_of(kT0, "a.test", {"10.1.1.1"}, 60));
  n.tracker.observe(answer_of(kT0, "b.test", {"10.2.1.1"}, 60));
  auto first = n.ledger.collect(n.tracker, 1000);
  ASSERT_EQ(first.size(), 2u);
  n.ledger.commit(n.tracker, first, 1);
  EXPECT_TRUE(n.ledger.collect(n.tracker, 1000).empty());
  n.tracker.observe(answer_of(kT0 + 5, "a.test", {"10.1.1.1", "10.3.1.1"}, 30));
  auto second = n.ledger.collect(n.tracker, 1000);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].name, "a.test");
  EXPECT_EQ(second[0].responses, 1u);
  EXPECT_EQ(second[0].answers, 2u);
  EXPECT_EQ(second[0].ttl[0], 1u);
  EXPECT_EQ(second[0].ips.size(), 2u);  // both seen since the last flush
  n.ledger.commit(n.tracker, second, 4);
  auto recent = n.ledger.recent(6, 3);
  ASSERT_EQ(recent.size(), 1u);
  EXPECT_EQ(recent[0], "a.test");
  EXPECT_TRUE(n.ledger.recent(7, 3).empty());
  EXPECT_EQ(n.ledger.collect(n.tracker, 1).size(), 0u);
}

TEST(SharedFlux, UpdateCommandCarriesKeysOfOneSlotAndTheDelta) {
  Node n;
  n.tracker.observe(answer_of(kT0, "x.test", {"10.1.1.1", "10.2.1.1"}, 60));
  const auto d = n.ledger.collect(n.tracker, 10).at(0);
  SharedLimits lim;
  const auto cmd = shared_update_command("gf:f:", d, lim, "abc");
  ASSERT_GE(cmd.size(), 11u);
  EXPECT_EQ(cmd[0], "EVALSHA");
  EXPECT_EQ(cmd[1], "abc");
  EXPECT_EQ(cmd[2], "4");
  EXPECT_EQ(cmd[3], "gf:f:{x.test}:s");
  EXPECT_EQ(cmd[6], "gf:f:{x.test}:e");
  EXPECT_EQ(cmd[7], std::to_string(lim.expire_s));
  EXPECT_EQ(cmd[8], std::to_string(kT0 - lim.window_s));
  EXPECT_EQ(shared_update_command("gf:f:", d, lim, "")[1], shared_update_script());
  // The last section: two addresses (score, 22-byte member), then an empty NS section.
  EXPECT_EQ(cmd.back(), "0");
  EXPECT_EQ(cmd[cmd.size() - 2].size(), 22u);
  EXPECT_EQ(cmd[cmd.size() - 6], "2");
}

TEST(SharedFlux, ViewParsesRepliesAndRejectsMalformedOnes) {
  auto str = [](std::string s) {
    RedisReply r;
    r.type = RedisReply::Type::String;
    r.str = std::move(s);
    return r;
  };
  auto arr = [](std::vector<RedisReply> e) {
    RedisReply r;
    r.type = RedisReply::Type::Array;
    r.elements = std::move(e);
    return r;
  };
  RedisReply count;
  count.type = RedisReply::Type::Integer;
  count.integer = 7;
  std::string member(22, '\0');
  member[10] = member[11] = static_cast<char>(0xff);
  member[12] = 10, member[13] = 4, member[14] = 1, member[15] = 9;
  member[19] = 5;
  const auto v =
      shared_view(arr({str("r"), str("3"), str("m"), str("60"), str("Ccdn.test"), str("5")}),
                  arr({str(member), str("1800000000")}), arr({}), count);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->responses, 3u);
  EXPECT_EQ(v->min_ttl_s, 60u);
  EXPECT_EQ(v->unique_ever, 7u);
  ASSERT_EQ(v->ips.size(), 1u);
  EXPECT_EQ(to_string(v->ips[0].ip), "10.4.1.9");
  EXPECT_EQ(v->ips[0].asn, 5u);
  EXPECT_EQ(v->ips[0].last_s, 1800000000u);
  ASSERT_EQ(v->cname_targets.size(), 1u);
  EXPECT_EQ(v->cname_targets[0], "cdn.test");
  EXPECT_FALSE(shared_view(arr({str("r")}), arr({}), arr({}), count));
  EXPECT_FALSE(shared_view(arr({str("r"), str("x")}), arr({}), arr({}), count));
  EXPECT_FALSE(shared_view(arr({}), arr({str("short"), str("1")}), arr({}), count));
  EXPECT_FALSE(shared_view(arr({}), arr({}), arr({}), str("7")));
}

}  // namespace
