// RedisKv::set_capped (stored checks on Redis: akismet.max_checks): the newest entries kept per
// hash-tagged bucket, the count never over the cap, on the shared test redis-server and on the
// Redis Cluster of ctest redis.cluster_contracts (which runs the */RedisCluster.* tests).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/common/redis_cluster.hpp"
#include "io/store/redis_kv.hpp"
#include "redis_clients.hpp"
#include "redis_server.hpp"

namespace gf {
namespace {

struct Standalone {
  static std::string skip_reason() {
    auto& srv = test::shared_redis();
    return srv.running() ? "" : "Redis store not tested: " + srv.why();
  }
  std::shared_ptr<io::RedisClient> client() {
    EXPECT_EQ(test::shared_redis().command({"FLUSHALL"}), std::optional<std::string>("OK"));
    return test::shared_redis_client(2);
  }
};

struct Cluster {
  static std::string skip_reason() {
    return test::test_cluster_ports().empty()
               ? "Redis Cluster not tested here: ctest redis.cluster_contracts runs this"
               : "";
  }
  std::shared_ptr<io::RedisClient> client() {
    EXPECT_GE(test::flush_test_cluster(), 1);
    return test::test_cluster_client();
  }
};

struct Names {
  template <class T>
  static std::string GetName(int) {
    return std::is_same_v<T, Standalone> ? "Redis" : "RedisCluster";
  }
};

template <class T>
class RedisCapped : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = T::skip_reason(); !why.empty()) {
      GTEST_SKIP() << why;
    }
    client_ = T().client();
    kv_ = std::make_unique<io::RedisKv>(client_, "gf:a:");
    kv_->set_capped("c:", kMax, Seconds(3600));
  }

  // A raw command on the key's route, its reply.
  RedisReply raw(std::vector<std::string> args, const std::string& key) {
    auto r = client_->call({io::RedisCommand{std::move(args), client_->conn_for(key)}});
    EXPECT_TRUE(r.has_value());
    return r ? r->front() : RedisReply{};
  }
  static std::size_t bucket(const std::string& rest) {
    return redis_crc16(rest) % io::RedisKv::kCapBuckets;
  }
  static std::string index_key(std::size_t b) { return fmt::format("gf:a:ci:{{c{:02}}}", b); }

  std::vector<std::string> scan(std::string_view prefix) {
    std::vector<std::string> out;
    EXPECT_TRUE(kv_->scan(prefix,
                          [&](std::string_view k, std::string_view) {
                            out.emplace_back(k);
                            return true;
                          })
                    .has_value());
    return out;
  }

  static constexpr std::size_t kMax = 64;  // 4 per bucket
  std::shared_ptr<io::RedisClient> client_;
  std::unique_ptr<io::RedisKv> kv_;
};

using Targets = ::testing::Types<Standalone, Cluster>;
TYPED_TEST_SUITE(RedisCapped, Targets, Names);

TYPED_TEST(RedisCapped, KeepsTheNewestOfEachBucketAndNeverMoreThanTheCap) {
  constexpr int kPuts = 300;
  std::map<std::size_t, std::vector<std::string>> by_bucket;  // in put order
  for (int i = 0; i < kPuts; ++i) {
    // Zero-padded: within one millisecond (equal scores) Redis orders members by name, which
    // is then put order too.
    const std::string rest = fmt::format("{:06}", i);
    by_bucket[this->bucket(rest)].push_back(rest);
    ASSERT_TRUE(this->kv_->put("c:" + rest, "check " + rest).has_value());
  }
  ASSERT_TRUE(this->kv_->put("k:key", "not capped").has_value());
  ASSERT_TRUE(this->kv_->flush().has_value());

  std::set<std::string> expected;
  const std::size_t per = TestFixture::kMax / io::RedisKv::kCapBuckets;
  for (const auto& [b, rests] : by_bucket) {
    for (std::size_t j = rests.size() > per ? rests.size() - per : 0; j < rests.size(); ++j) {
      expected.insert("c:" + rests[j]);
    }
    const RedisReply n = this->raw({"ZCARD", this->index_key(b)}, this->index_key(b));
    EXPECT_EQ(n.integer, static_cast<std::int64_t>(std::min(per, rests.size()))) << "bucket " << b;
  }
  const std::vector<std::string> kept = this->scan("c:");
  EXPECT_LE(kept.size(), TestFixture::kMax);
  EXPECT_EQ(std::set<std::string>(kept.begin(), kept.end()), expected);
  EXPECT_EQ(kept.size(), expected.size());
  EXPECT_TRUE(std::is_sorted(kept.begin(), kept.end()));

  // Through the port: the newest is there, the oldest gone; other prefixes untouched.
  EXPECT_EQ(this->kv_->get(fmt::format("c:{:06}", kPuts - 1)).value(),
            std::optional<std::string>(fmt::format("check {:06}", kPuts - 1)));
  EXPECT_EQ(this->kv_->get("c:000000").value(), std::nullopt);
  EXPECT_EQ(this->kv_->get("k:key").value(), std::optional<std::string>("not capped"));
  const std::vector<std::string> all = this->scan("");
  EXPECT_EQ(all.size(), kept.size() + 1);  // the indexes are not entries

  // The stored form: the bucket's tag after the prefix, a TTL from the retention.
  const std::string newest = fmt::format("{:06}", kPuts - 1);
  const std::string raw_key = fmt::format("gf:a:c:{{c{:02}}}{}", this->bucket(newest), newest);
  EXPECT_EQ(this->raw({"GET", raw_key}, raw_key).str, "check " + newest);
  const RedisReply ttl = this->raw({"TTL", raw_key}, raw_key);
  EXPECT_GT(ttl.integer, 3500);
  EXPECT_LE(ttl.integer, 3600);
}

TYPED_TEST(RedisCapped, EraseDropsTheEntryAndItsIndexMember) {
  ASSERT_TRUE(this->kv_->put("c:one", "1").has_value());
  ASSERT_TRUE(this->kv_->put("c:two", "2").has_value());
  ASSERT_TRUE(this->kv_->erase("c:one").has_value());
  ASSERT_TRUE(this->kv_->flush().has_value());
  EXPECT_EQ(this->scan("c:"), std::vector<std::string>{"c:two"});
  EXPECT_EQ(this->scan("c:t"), std::vector<std::string>{"c:two"});
  const std::string idx = this->index_key(this->bucket("one"));
  const RedisReply score = this->raw({"ZSCORE", idx, "one"}, idx);
  EXPECT_EQ(score.type, RedisReply::Type::Nil);
}

}  // namespace
}  // namespace gf
