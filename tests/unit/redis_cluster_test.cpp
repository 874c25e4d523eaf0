// Redis Cluster's pure part: key slots (CRC16 vectors from the cluster specification), hash
// tags, MOVED/ASK parsing, slot maps from CLUSTER SLOTS and CLUSTER SHARDS replies, and the
// greylist keys' hash tags.
#include "core/common/redis_cluster.hpp"

#include <gtest/gtest.h>

#include "core/greylist/greylist.hpp"
#include "core/greylist/slot_tag.hpp"

namespace gf {
namespace {

using Type = RedisReply::Type;

RedisReply str(std::string s) { return RedisReply{Type::String, std::move(s), 0, {}}; }
RedisReply num(long long v) { return RedisReply{Type::Integer, "", v, {}}; }
RedisReply arr(std::vector<RedisReply> e) { return RedisReply{Type::Array, "", 0, std::move(e)}; }

TEST(RedisCluster, Crc16MatchesTheSpecificationVector) {
  // "The CRC16 of 123456789 is 0x31C3" (cluster specification, appendix A: XMODEM).
  EXPECT_EQ(redis_crc16("123456789"), 0x31C3);
  EXPECT_EQ(redis_crc16(""), 0);
}

TEST(RedisCluster, KeySlotsMatchRedis) {
  // Values from CLUSTER KEYSLOT on redis-server 7.0 (and the command's documentation).
  EXPECT_EQ(redis_key_slot("somekey"), 11058);
  EXPECT_EQ(redis_key_slot("foo{hash_tag}"), 2515);
  EXPECT_EQ(redis_key_slot("foo"), 12182);
  EXPECT_EQ(redis_key_slot("123456789"), 0x31C3 & 0x3FFF);
}

TEST(RedisCluster, HashTagsFollowTheSpecification) {
  EXPECT_EQ(redis_hash_tag("{user1000}.following"), "user1000");
  EXPECT_EQ(redis_key_slot("{user1000}.following"), redis_key_slot("{user1000}.followers"));
  EXPECT_EQ(redis_hash_tag("foo{}{bar}"), "foo{}{bar}");  // empty first tag: whole key
  EXPECT_EQ(redis_hash_tag("foo{{bar}}zap"), "{bar");
  EXPECT_EQ(redis_hash_tag("foo{bar}{zap}"), "bar");
  EXPECT_EQ(redis_hash_tag("foo{bar"), "foo{bar");
  EXPECT_EQ(redis_hash_tag("}{x}"), "x");
}

TEST(RedisCluster, ParsesMovedAndAsk) {
  auto m = parse_redis_redirect("MOVED 3999 127.0.0.1:6381", "10.0.0.1");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->kind, RedisRedirect::Kind::Moved);
  EXPECT_EQ(m->slot, 3999);
  EXPECT_EQ(m->to, (RedisEndpoint{"127.0.0.1", 6381}));
  auto a = parse_redis_redirect("ASK 16383 ::1:7002", "x");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->kind, RedisRedirect::Kind::Ask);
  EXPECT_EQ(a->slot, 16383);
  EXPECT_EQ(a->to, (RedisEndpoint{"::1", 7002}));
  EXPECT_EQ(format_endpoint(a->to), "[::1]:7002");
  // An unknown endpoint: the host of the node that answered.
  EXPECT_EQ(parse_redis_redirect("MOVED 1 :7000", "10.0.0.1")->to,
            (RedisEndpoint{"10.0.0.1", 7000}));
  EXPECT_TRUE(is_redis_redirect("ASK 1 a:1"));
  EXPECT_FALSE(is_redis_redirect("ERR unknown command"));
}

TEST(RedisCluster, RefusesBrokenRedirects) {
  for (const char* bad :
       {"MOVED", "MOVED 16384 a:1", "MOVED -1 a:1", "MOVED 1 a", "MOVED 1 a:0", "MOVED 1 a:70000",
        "ASK x a:1", "MOVED 1  a:1", "MOVED 1 a b:1", "CLUSTERDOWN The cluster is down", ""}) {
    auto r = parse_redis_redirect(bad, "h");
    EXPECT_FALSE(r.has_value()) << bad;
    if (!r) {
      EXPECT_FALSE(r.error().message.empty());
    }
  }
}

RedisReply slots_entry(long long first, long long last, std::vector<RedisReply> nodes) {
  std::vector<RedisReply> e{num(first), num(last)};
  e.insert(e.end(), nodes.begin(), nodes.end());
  return arr(std::move(e));
}

RedisReply node(std::string host, long long port) {
  return arr({str(std::move(host)), num(port), str("id"), arr({})});
}

TEST(RedisCluster, ParsesClusterSlots) {
  const RedisReply reply = arr({
      slots_entry(0, 5460, {node("127.0.0.1", 7000), node("127.0.0.1", 7004)}),
      slots_entry(5461, 10922, {node("", 7001), node("127.0.0.1", 7005)}),
      slots_entry(10923, 16000, {node("127.0.0.1", 7002), node("?", 7003)}),
      slots_entry(16001, 16383, {node("127.0.0.1", 7000)}),
  });
  auto map = parse_cluster_slots(reply, "10.1.1.1");
  ASSERT_TRUE(map.has_value()) << map.error().message;
  ASSERT_EQ(map->shards.size(), 3U);  // 7000's two ranges are one shard
  EXPECT_TRUE(map->complete());
  EXPECT_EQ(map->shard_of(0)->master, (RedisEndpoint{"127.0.0.1", 7000}));
  EXPECT_EQ(map->shard_of(16383)->master, (RedisEndpoint{"127.0.0.1", 7000}));
  EXPECT_EQ(map->shard_of(5461)->master, (RedisEndpoint{"10.1.1.1", 7001}));  // "" = asked host
  EXPECT_EQ(map->shard_of(5461)->replicas, (std::vector<RedisEndpoint>{{"127.0.0.1", 7005}}));
  EXPECT_TRUE(map->shard_of(12000)->replicas.empty());  // "?" is skipped
  EXPECT_EQ(map->endpoints().size(), 5U);
  EXPECT_EQ(map->endpoints()[0], (RedisEndpoint{"127.0.0.1", 7000}));
}

TEST(RedisCluster, AMapWithAHoleIsIncomplete) {
  auto map = parse_cluster_slots(arr({slots_entry(0, 100, {node("a", 1)})}), "h");
  ASSERT_TRUE(map.has_value());
  EXPECT_FALSE(map->complete());
  EXPECT_EQ(map->shard_of(101), nullptr);
  EXPECT_NE(map->shard_of(100), nullptr);
}

TEST(RedisCluster, RefusesBrokenSlotReplies) {
  const std::vector<RedisReply> bad{
      RedisReply{Type::Error, "ERR This instance has cluster support disabled", 0, {}},
      num(3),
      arr({num(1)}),
      arr({slots_entry(5, 4, {node("a", 1)})}),
      arr({slots_entry(0, 16384, {node("a", 1)})}),
      arr({slots_entry(0, 10, {arr({str("a")})})}),
      arr({slots_entry(0, 10, {node("a", 0)})}),
      arr({slots_entry(0, 10, {node("a", 1)}), slots_entry(10, 20, {node("b", 1)})}),  // overlap
      arr({slots_entry(0, 10, {node("a", 1)}), slots_entry(0, 10, {node("a", 1)})}),   // twice
  };
  for (const RedisReply& r : bad) {
    auto map = parse_cluster_slots(r, "h");
    EXPECT_FALSE(map.has_value());
    if (!map) {
      EXPECT_TRUE(map.error().message.starts_with("redis cluster: ")) << map.error().message;
    }
  }
}

RedisReply shard_node(std::string ip, long long port, std::string role, std::string health) {
  return arr({str("id"), str("abc"), str("port"), num(port), str("ip"), str(ip), str("endpoint"),
              str(ip), str("role"), str(std::move(role)), str("replication-offset"), num(1),
              str("health"), str(std::move(health))});
}

TEST(RedisCluster, ParsesClusterShards) {
  const RedisReply reply = arr({
      arr({str("slots"), arr({num(0), num(5460), num(16000), num(16383)}), str("nodes"),
           arr({shard_node("127.0.0.1", 7000, "master", "online"),
                shard_node("127.0.0.1", 7003, "replica", "online")})}),
      // After a failover: the old master failed, the promoted replica serves.
      arr({str("slots"), arr({num(5461), num(15999)}), str("nodes"),
           arr({shard_node("127.0.0.1", 7001, "master", "fail"),
                shard_node("127.0.0.1", 7004, "master", "online"),
                shard_node("127.0.0.1", 7005, "replica", "loading"),
                shard_node("127.0.0.1", 7006, "replica", "fail")})}),
      arr({str("slots"), arr({}), str("nodes"),
           arr({shard_node("127.0.0.1", 7009, "master", "online")})}),  // no slots yet
  });
  auto map = parse_cluster_shards(reply, "h");
  ASSERT_TRUE(map.has_value()) << map.error().message;
  EXPECT_TRUE(map->complete());
  ASSERT_EQ(map->shards.size(), 2U);
  EXPECT_EQ(map->shard_of(16383)->master.port, 7000);
  EXPECT_EQ(map->shard_of(16383)->replicas.size(), 1U);
  EXPECT_EQ(map->shard_of(5461)->master.port, 7004);
  // A replica still loading is a node to connect to; a failed one is not.
  EXPECT_EQ(map->shard_of(5461)->replicas, (std::vector<RedisEndpoint>{{"127.0.0.1", 7005}}));
}

TEST(RedisCluster, RefusesBrokenShardReplies) {
  const std::vector<RedisReply> bad{
      RedisReply{Type::Error, "ERR unknown subcommand 'SHARDS'", 0, {}},
      arr({arr({str("slots")})}),
      arr({arr({str("slots"), arr({num(0)}), str("nodes"), arr({})})}),
      arr({arr({str("slots"), arr({num(0), num(1)}), str("nodes"), arr({arr({str("port")})})})}),
      arr({arr({str("slots"), arr({num(3), num(1)}), str("nodes"),
                arr({shard_node("a", 1, "master", "online")})})}),
  };
  for (const RedisReply& r : bad) {
    EXPECT_FALSE(parse_cluster_shards(r, "h").has_value());
  }
}

TEST(GreylistSlotTag, KeysOfOneNetworkShareASlot) {
  const std::string net = "192.0.2.0/24";
  const std::string keys[] = {
      greylist::key::triplet(net, "a@example.org", "b@example.net"), greylist::key::client(net),
      greylist::key::domain("example.org", net),
      greylist::key::sender("{x}@example.org", net),  // braces in a sender move nothing
  };
  for (const std::string& k : keys) {
    const std::string stored = greylist::key::with_slot_tag(k);
    EXPECT_EQ(redis_hash_tag("gf:g:" + stored), net) << stored;
    EXPECT_EQ(greylist::key::without_slot_tag(stored), k);
  }
  EXPECT_EQ(greylist::key::with_slot_tag(greylist::key::client(net)), "c:{192.0.2.0/24}");
  EXPECT_EQ(greylist::key::with_slot_tag(greylist::key::domain("example.org", net)),
            "d:{192.0.2.0/24}example.org");
}

TEST(GreylistSlotTag, OtherKeysAndOddNetworksRoundTrip) {
  const std::string sep(1, greylist::kKeySep);
  for (const std::string k :
       {greylist::key::pooled("a@b", "c@d", "b"), greylist::key::whitelist_client("10.0.0.0/8"),
        std::string("t:a"), std::string("t:"), std::string("d:nosep"), std::string("s:x" + sep),
        std::string("t:{x}" + sep + "y"), std::string("c:a}b"), std::string("x"),
        std::string("")}) {
    const std::string stored = greylist::key::with_slot_tag(k);
    EXPECT_EQ(greylist::key::without_slot_tag(stored), k) << stored;
  }
  EXPECT_EQ(greylist::key::with_slot_tag("p:a"), "p:a");
  EXPECT_EQ(greylist::key::with_slot_tag("t:{x}" + sep + "y"), "t:{}{x}" + sep + "y");
  EXPECT_EQ(greylist::key::without_slot_tag("t:untagged"), std::nullopt);
  EXPECT_EQ(greylist::key::stored_scan_prefix("t:1.2"), "t:");
  EXPECT_EQ(greylist::key::stored_scan_prefix("w:client"), "w:client");
  EXPECT_EQ(greylist::key::stored_scan_prefix("t:"), "t:");
  EXPECT_EQ(greylist::key::stored_scan_prefix(""), "");
}

}  // namespace
}  // namespace gf
