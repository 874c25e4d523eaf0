// The flux detector's shared state on a real redis-server (io/store/redis_flux.hpp): the Lua
// script applied by Redis gives the same merged view as the pure stand-in (apply_delta), two
// nodes that each saw half of a flux name's answers judge it as one node that saw them all, and
// a NOSCRIPT (SCRIPT FLUSH) is answered by sending the delta as EVAL. Skipped without
// redis-server.
#include "io/store/redis_flux.hpp"

#include <gtest/gtest.h>

#include "core/flux/score.hpp"
#include "core/flux/verdicts.hpp"
#include "flux_fixtures.hpp"
#include "redis_server.hpp"

namespace gf {
namespace {

using test::answer_of;
using test::SlashSixteenAsn;

using namespace gf::flux;

constexpr std::int64_t kT0 = 1'800'000'000;

class RedisFluxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!server_.start()) {
      GTEST_SKIP() << "Redis flux state not tested: " << server_.why();
    }
    io::RedisOptions o;
    o.url = parse_redis_url("redis://127.0.0.1:" + std::to_string(server_.port())).value();
    o.timeout = Millis(2000);
    client_ = std::shared_ptr<io::RedisClient>(io::RedisClient::start(o).value());
    ASSERT_TRUE(client_->wait_connected(Millis(3000)));
  }
  test::RedisServer server_;
  std::shared_ptr<io::RedisClient> client_;
};

TEST_F(RedisFluxTest, SplitAnswersMergeInRedisAsOneNodeSawThem) {
  const std::string name = "split-flux.test";
  SlashSixteenAsn asn;
  Tracker whole(TrackerConfig{}, &asn, {}), a(TrackerConfig{}, &asn, {}),
      b(TrackerConfig{}, &asn, {});
  SharedLedger la, lb;
  SharedLimits limits;
  io::SharedFluxStore store(client_, "gf:f:", limits, 2);
  SharedView expected;
  std::vector<IpAddress> ever;
  for (int i = 0; i < 6; ++i) {
    const auto o = answer_of(kT0 + 60 * i, name, {"10." + std::to_string(20 + i) + ".1.5"}, 60);
    whole.observe(o);
    Tracker& t = i % 2 == 0 ? a : b;
    SharedLedger& l = i % 2 == 0 ? la : lb;
    t.observe(o);
    t.observe(answer_of(kT0 + 60 * i, "other" + std::to_string(i) + ".test", {"192.0.2.1"}, 3600));
    const auto deltas = l.collect(t, 100);
    ASSERT_TRUE(store.publish(deltas));
    for (const auto& d : deltas) {
      if (d.name == name) {
        apply_delta(expected, ever, d, limits);
      }
    }
    l.commit(t, deltas, static_cast<std::uint64_t>(i));
  }
  auto views = store.read({name, "never-seen.test"});
  ASSERT_TRUE(views) << views.error().message;
  ASSERT_EQ(views->size(), 1u);  // nothing stored for the unseen name
  const SharedView& v = views->at(name);
  EXPECT_EQ(v.responses, expected.responses);
  EXPECT_EQ(v.answers, expected.answers);
  EXPECT_EQ(v.answer_nets, expected.answer_nets);
  EXPECT_EQ(v.ttl, expected.ttl);
  EXPECT_EQ(v.first_seen_s, expected.first_seen_s);
  EXPECT_EQ(v.last_seen_s, expected.last_seen_s);
  EXPECT_EQ(v.min_ttl_s, expected.min_ttl_s);
  EXPECT_EQ(v.max_answers, expected.max_answers);
  EXPECT_EQ(v.first_answer_size, expected.first_answer_size);
  EXPECT_EQ(v.unique_ever, 6u);  // HyperLogLog: exact at this size
  EXPECT_EQ(v.ips.size(), 6u);
  EXPECT_EQ(v.responses, 6u);

  const Verdict all = judge_latest(name, *whole.find(name), whole, nullptr);
  ASSERT_TRUE(all.flux());
  for (const Tracker* t : {&a, &b}) {
    EXPECT_FALSE(judge_latest(name, *t->find(name), *t, nullptr).flux());
    const Verdict m = judge_latest(name, merged_state(*t->find(name), v), *t, nullptr);
    EXPECT_TRUE(m.flux()) << to_text_line(m);
    EXPECT_DOUBLE_EQ(m.composite.score, all.composite.score);
    EXPECT_EQ(m.features.unique_ips, all.features.unique_ips);
    EXPECT_EQ(m.features.asns, all.features.asns);
  }
  // Every key of the name lives in its slot and expires.
  EXPECT_EQ(server_.command({"TTL", "gf:f:{split-flux.test}:g"}),
            std::optional<std::string>(std::to_string(limits.expire_s)));
  EXPECT_EQ(server_.command({"PFCOUNT", "gf:f:{split-flux.test}:e"}),
            std::optional<std::string>("6"));
}

TEST_F(RedisFluxTest, NoScriptIsAnsweredWithEval) {
  SlashSixteenAsn asn;
  Tracker t(TrackerConfig{}, &asn, {});
  SharedLedger l;
  io::SharedFluxStore store(client_, "gf:f:", SharedLimits{});
  t.observe(answer_of(kT0, "x.test", {"10.1.1.1"}, 60));
  auto d = l.collect(t, 10);
  ASSERT_TRUE(store.publish(d));
  l.commit(t, d, 1);
  ASSERT_EQ(server_.command({"SCRIPT", "FLUSH"}), std::optional<std::string>("OK"));
  t.observe(answer_of(kT0 + 1, "x.test", {"10.2.1.1"}, 60));
  d = l.collect(t, 10);
  ASSERT_TRUE(store.publish(d));
  EXPECT_EQ(store.stats().noscript, 1u);
  auto views = store.read({"x.test"});
  ASSERT_TRUE(views);
  EXPECT_EQ(views->at("x.test").responses, 2u);
  EXPECT_EQ(views->at("x.test").ips.size(), 2u);
}

TEST_F(RedisFluxTest, WindowAndCapTrimTheAddressSet) {
  SlashSixteenAsn asn;
  TrackerConfig tc;
  Tracker t(tc, &asn, {});
  SharedLedger l;
  SharedLimits limits;
  limits.window_s = 100;
  limits.max_ips = 3;
  io::SharedFluxStore store(client_, "gf:f:", limits);
  for (int i = 0; i < 5; ++i) {
    t.observe(answer_of(kT0 + i, "cap.test", {"10." + std::to_string(i) + ".0.1"}, 60));
  }
  auto d = l.collect(t, 10);
  ASSERT_TRUE(store.publish(d));
  l.commit(t, d, 1);
  auto views = store.read({"cap.test"});
  ASSERT_TRUE(views);
  ASSERT_EQ(views->at("cap.test").ips.size(), 3u);  // the newest three
  for (const IpEntry& e : views->at("cap.test").ips) {
    EXPECT_GE(e.last_s, kT0 + 2);
  }
  EXPECT_EQ(views->at("cap.test").unique_ever, 5u);
  t.observe(answer_of(kT0 + 500, "cap.test", {"10.9.0.1"}, 60));  // the others leave the window
  d = l.collect(t, 10);
  ASSERT_TRUE(store.publish(d));
  views = store.read({"cap.test"});
  ASSERT_TRUE(views);
  ASSERT_EQ(views->at("cap.test").ips.size(), 1u);
  EXPECT_EQ(to_string(views->at("cap.test").ips[0].ip), "10.9.0.1");
  EXPECT_EQ(views->at("cap.test").unique_ever, 6u);
}

TEST_F(RedisFluxTest, FlaggedListKeepsTheLatestSightingAndExpires) {
  io::SharedFluxStore store(client_, "gf:f:", SharedLimits{});
  ASSERT_TRUE(store.flag({{"a.test", 100}, {"b.test", 200}}, 0));
  ASSERT_TRUE(store.flag({{"a.test", 50}, {"c.test", 300}}, 0));  // GT: a.test stays at 100
  auto all = store.flagged_since(0);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0], (std::pair<std::string, std::uint32_t>("a.test", 100)));
  auto late = store.flagged_since(150);
  ASSERT_TRUE(late);
  ASSERT_EQ(late->size(), 2u);
  EXPECT_EQ((*late)[0].first, "b.test");
  ASSERT_TRUE(store.flag({}, 250));  // entries last seen fluxing before 250 go
  all = store.flagged_since(0);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].first, "c.test");
}

}  // namespace
}  // namespace gf
