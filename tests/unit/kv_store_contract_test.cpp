// One contract for every KvStore implementation (core/common/kv_store.hpp): MemoryKv, LmdbKv,
// RedisKv (on a private redis-server that the test starts; skipped when it is not installed).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "core/common/memory_kv.hpp"
#include "io/store/lmdb_kv.hpp"
#include "io/store/redis_kv.hpp"
#include "redis_clients.hpp"
#include "redis_server.hpp"

namespace gf {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/gf-kvc-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// make(): a fresh, empty store. reopen(): the same data after closing, or null if not durable.
struct MemoryKvFactory {
  std::unique_ptr<KvStore> make() { return std::make_unique<MemoryKv>(); }
  std::unique_ptr<KvStore> reopen() { return nullptr; }
};

struct LmdbKvFactory {
  TempDir dir;
  std::unique_ptr<KvStore> make() {
    io::KvOptions o;
    o.path = dir.path() + "/kv";
    o.map_size = 64 << 20;
    o.commit_interval = Millis(1000);  // writes stay pending: reads must see them anyway
    o.sync = false;
    return std::move(io::LmdbKv::open(o).value());
  }
  std::unique_ptr<KvStore> reopen() { return make(); }
};

// Two connections, so that keys spread over the pool; an empty database per make().
struct RedisKvFactory {
  static std::string skip_reason() {
    auto& srv = test::shared_redis();
    return srv.running() ? "" : "Redis store not tested: " + srv.why();
  }
  std::unique_ptr<KvStore> make() {
    auto& srv = test::shared_redis();
    EXPECT_EQ(srv.command({"FLUSHALL"}), std::optional<std::string>("OK"));
    return reopen();
  }
  std::unique_ptr<KvStore> reopen() {
    return std::make_unique<io::RedisKv>(test::shared_redis_client(2), "gf:a:");
  }
};

// RedisKvFactory with stored checks ("c:") capped and bucketed as the daemon keeps them
// (RedisKv::set_capped): the contract holds for keys whose Redis names carry a bucket tag.
struct RedisCappedKvFactory : RedisKvFactory {
  std::unique_ptr<KvStore> reopen() {
    auto kv = std::make_unique<io::RedisKv>(test::shared_redis_client(2), "gf:a:");
    kv->set_capped("c:", 1000000, Seconds(3600));
    return kv;
  }
  std::unique_ptr<KvStore> make() {
    auto& srv = test::shared_redis();
    EXPECT_EQ(srv.command({"FLUSHALL"}), std::optional<std::string>("OK"));
    return reopen();
  }
};

// A 3-master, 3-replica Redis Cluster made by ctest redis.cluster_contracts (skipped elsewhere).
struct RedisClusterKvFactory {
  static std::string skip_reason() {
    return test::test_cluster_ports().empty()
               ? "Redis Cluster not tested here: ctest redis.cluster_contracts runs this"
               : "";
  }
  std::unique_ptr<KvStore> make() {
    EXPECT_GE(test::flush_test_cluster(), 1);
    return reopen();
  }
  std::unique_ptr<KvStore> reopen() {
    return std::make_unique<io::RedisKv>(test::test_cluster_client(), "gf:a:");
  }
};

// Names the typed tests KvStoreContract/Redis.* etc., so that ctest can run the cluster ones
// apart.
struct KvFactoryNames {
  template <class T>
  static std::string GetName(int) {
    if constexpr (std::is_same_v<T, MemoryKvFactory>) {
      return "Memory";
    } else if constexpr (std::is_same_v<T, LmdbKvFactory>) {
      return "Lmdb";
    } else if constexpr (std::is_same_v<T, RedisKvFactory>) {
      return "Redis";
    } else if constexpr (std::is_same_v<T, RedisCappedKvFactory>) {
      return "RedisCapped";
    } else {
      return "RedisCluster";
    }
  }
};

template <class F>
class KvStoreContract : public ::testing::Test {
 protected:
  void SetUp() override {
    if constexpr (requires { F::skip_reason(); }) {
      if (const std::string why = F::skip_reason(); !why.empty()) {
        GTEST_SKIP() << why;
      }
    }
  }
  F factory;
};

using KvFactories = ::testing::Types<MemoryKvFactory, LmdbKvFactory, RedisKvFactory,
                                     RedisCappedKvFactory, RedisClusterKvFactory>;
TYPED_TEST_SUITE(KvStoreContract, KvFactories, KvFactoryNames);

using Opt = std::optional<std::string>;

std::string bump(std::optional<std::string_view> cur) {
  return std::to_string(cur ? std::stoi(std::string(*cur)) + 1 : 1);
}

std::vector<std::string> scan_keys(KvStore& s, std::string_view prefix) {
  std::vector<std::string> out;
  EXPECT_TRUE(s.scan(prefix, [&](std::string_view k, std::string_view) {
                 out.emplace_back(k);
                 return true;
               }).has_value());
  return out;
}

TYPED_TEST(KvStoreContract, AMissingKeyIsNulloptNotAnError) {
  auto s = this->factory.make();
  auto one = s->get("k:nothing");
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(*one, std::nullopt);
  auto many = s->get_many({"a", "b"});
  ASSERT_TRUE(many.has_value());
  EXPECT_EQ(*many, (std::vector<Opt>{std::nullopt, std::nullopt}));
}

TYPED_TEST(KvStoreContract, PutIsSeenAtOnceAndAfterFlush) {
  auto s = this->factory.make();
  ASSERT_TRUE(s->put("k:a", std::string("v\0x", 3)).has_value());  // values are bytes
  EXPECT_EQ(s->get("k:a").value(), Opt(std::string("v\0x", 3)));
  ASSERT_TRUE(s->put("k:a", "w").has_value());  // overwrite
  EXPECT_EQ(s->get("k:a").value(), Opt("w"));
  ASSERT_TRUE(s->flush().has_value());
  EXPECT_EQ(s->get("k:a").value(), Opt("w"));
}

TYPED_TEST(KvStoreContract, GetManyAnswersInTheOrderAsked) {
  auto s = this->factory.make();
  ASSERT_TRUE(s->put("x", "1").has_value());
  ASSERT_TRUE(s->flush().has_value());
  ASSERT_TRUE(s->put("z", "3").has_value());  // pending in a buffering store
  auto got = s->get_many({"z", "y", "x", "z"}).value();
  EXPECT_EQ(got, (std::vector<Opt>{Opt("3"), std::nullopt, Opt("1"), Opt("3")}));
  EXPECT_TRUE(s->get_many({}).value().empty());
}

TYPED_TEST(KvStoreContract, KeysOutOfRangeAreRefusedOnWriteAndAbsentOnRead) {
  auto s = this->factory.make();
  const std::string too_long(KvStore::kMaxKeyBytes + 1, 'k');
  const std::string longest(KvStore::kMaxKeyBytes, 'k');
  for (const std::string& bad : {std::string(), too_long}) {
    auto put = s->put(bad, "v");
    ASSERT_FALSE(put.has_value());
    EXPECT_EQ(put.error().code, Errc::InvalidInput);
    EXPECT_EQ(s->erase(bad).error().code, Errc::InvalidInput);
    EXPECT_EQ(s->update(bad, bump).error().code, Errc::InvalidInput);
    EXPECT_EQ(s->put_and_update("ok", "v", bad, bump).error().code, Errc::InvalidInput);
    EXPECT_EQ(s->put_and_update(bad, "v", "ok", bump).error().code, Errc::InvalidInput);
    EXPECT_EQ(s->get(bad).value(), std::nullopt);
    EXPECT_EQ(s->get_many({bad, "ok"}).value(), (std::vector<Opt>{std::nullopt, std::nullopt}));
  }
  EXPECT_EQ(s->get("ok").value(), std::nullopt);  // a refused pair wrote neither half
  ASSERT_TRUE(s->put(longest, "edge").has_value());
  ASSERT_TRUE(s->flush().has_value());
  EXPECT_EQ(s->get(longest).value(), Opt("edge"));
}

TYPED_TEST(KvStoreContract, EraseRemovesAndErasingNothingSucceeds) {
  auto s = this->factory.make();
  ASSERT_TRUE(s->put("k:a", "1").has_value());
  ASSERT_TRUE(s->flush().has_value());
  ASSERT_TRUE(s->erase("k:a").has_value());
  EXPECT_EQ(s->get("k:a").value(), std::nullopt);
  EXPECT_TRUE(scan_keys(*s, "k:").empty());
  EXPECT_TRUE(s->erase("k:a").has_value());
  EXPECT_TRUE(s->erase("k:never").has_value());
}

TYPED_TEST(KvStoreContract, UpdateCreatesThenReadsTheLatestValue) {
  auto s = this->factory.make();
  ASSERT_TRUE(s->update("n", bump).has_value());
  EXPECT_EQ(s->get("n").value(), Opt("1"));
  ASSERT_TRUE(s->flush().has_value());
  ASSERT_TRUE(s->update("n", bump).has_value());  // reads the committed value
  ASSERT_TRUE(s->update("n", bump).has_value());  // reads its own pending write
  EXPECT_EQ(s->get("n").value(), Opt("3"));
  ASSERT_TRUE(s->put("n", "10").has_value());
  ASSERT_TRUE(s->update("n", bump).has_value());
  EXPECT_EQ(s->get("n").value(), Opt("11"));
}

TYPED_TEST(KvStoreContract, PutAndUpdateMakesBothWrites) {
  auto s = this->factory.make();
  ASSERT_TRUE(s->put_and_update("c:1", "a", "u:count", bump).has_value());
  ASSERT_TRUE(s->put_and_update("c:2", "b", "u:count", bump).has_value());
  EXPECT_EQ(s->get_many({"c:1", "c:2", "u:count"}).value(),
            (std::vector<Opt>{Opt("a"), Opt("b"), Opt("2")}));
}

// The comment-check's read without waiting: the same answer as get_many(), exactly once.
TYPED_TEST(KvStoreContract, GetManyAsyncAnswersAsGetManyDoes) {
  auto s = this->factory.make();
  ASSERT_TRUE(s->put("a", "1").has_value());
  ASSERT_TRUE(s->put("c", "3").has_value());
  const std::string bad(KvStore::kMaxKeyBytes + 1, 'k');
  const std::vector<std::string> keys{"a", "b", bad, "c", ""};
  std::promise<Result<std::vector<Opt>>> got;
  int calls = 0;
  s->get_many_async(keys, [&](Result<std::vector<Opt>> r) {
    ++calls;
    got.set_value(std::move(r));
  });
  const auto r = got.get_future().get();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, s->get_many(keys).value());
  EXPECT_EQ(*r, (std::vector<Opt>{Opt("1"), std::nullopt, std::nullopt, Opt("3"), std::nullopt}));
  EXPECT_EQ(calls, 1);
}

TYPED_TEST(KvStoreContract, UpdateIsAtomicAcrossThreads) {
  auto s = this->factory.make();
  constexpr int kThreads = 4;
  constexpr int kEach = 250;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&s, t] {
      for (int i = 0; i < kEach; ++i) {
        EXPECT_TRUE(s->update("n", bump).has_value());
        EXPECT_TRUE(s->put_and_update("c:" + std::to_string(t * kEach + i), "x", "m", bump));
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(s->get("n").value(), Opt(std::to_string(kThreads * kEach)));
  EXPECT_EQ(s->get("m").value(), Opt(std::to_string(kThreads * kEach)));
  EXPECT_EQ(scan_keys(*s, "c:").size(), static_cast<std::size_t>(kThreads * kEach));
}

TYPED_TEST(KvStoreContract, ScanVisitsExactlyThePrefixInUnsignedByteOrder) {
  auto s = this->factory.make();
  const std::vector<std::string> keys{"t",          "t:",     "t:b", "t:a", "t:\x7f",
                                      "t:\x80\x01", "t:\xff", "t;",  "s:z", "u:a"};
  for (const std::string& k : keys) {
    ASSERT_TRUE(s->put(k, "v" + k).has_value());
  }
  ASSERT_TRUE(s->flush().has_value());
  ASSERT_TRUE(s->put("t:c", "pending").has_value());  // scan sees earlier writes too
  ASSERT_TRUE(s->erase("t:b").has_value());
  EXPECT_EQ(scan_keys(*s, "t:"),
            (std::vector<std::string>{"t:", "t:a", "t:c", "t:\x7f", "t:\x80\x01", "t:\xff"}));
  EXPECT_EQ(scan_keys(*s, "t:\x80"), (std::vector<std::string>{"t:\x80\x01"}));
  EXPECT_TRUE(scan_keys(*s, "v").empty());
  EXPECT_EQ(scan_keys(*s, "").size(), keys.size());  // one added, one erased
  // Values come with their keys.
  std::string value;
  ASSERT_TRUE(s->scan("t:a", [&](std::string_view, std::string_view v) {
                 value = std::string(v);
                 return true;
               }).has_value());
  EXPECT_EQ(value, "vt:a");
}

TYPED_TEST(KvStoreContract, ScanStopsWhenTheVisitorSaysSo) {
  auto s = this->factory.make();
  for (const char* k : {"p:1", "p:2", "p:3"}) {
    ASSERT_TRUE(s->put(k, "v").has_value());
  }
  std::vector<std::string> seen;
  ASSERT_TRUE(s->scan("p:", [&](std::string_view k, std::string_view) {
                 seen.emplace_back(k);
                 return seen.size() < 2;
               }).has_value());
  EXPECT_EQ(seen, (std::vector<std::string>{"p:1", "p:2"}));
}

TYPED_TEST(KvStoreContract, FlushedWritesSurviveAReopen) {
  {
    auto s = this->factory.make();
    ASSERT_TRUE(s->put("d:1", "one").has_value());
    ASSERT_TRUE(s->update("d:n", bump).has_value());
    ASSERT_TRUE(s->flush().has_value());
  }
  auto again = this->factory.reopen();
  if (!again) {
    GTEST_SKIP() << "not a durable store";
  }
  EXPECT_EQ(again->get_many({"d:1", "d:n"}).value(), (std::vector<Opt>{Opt("one"), Opt("1")}));
}

TEST(MemoryKv, EveryOperationFailsWhileSetFailingAndRecoversAfter) {
  MemoryKv s;
  ASSERT_TRUE(s.put("a", "1").has_value());
  s.set_failing(true);
  EXPECT_EQ(s.get("a").error().code, Errc::StoreFailure);
  EXPECT_EQ(s.get_many({"a"}).error().code, Errc::StoreFailure);
  EXPECT_EQ(s.put("a", "2").error().code, Errc::StoreFailure);
  EXPECT_EQ(s.update("a", bump).error().code, Errc::StoreFailure);
  EXPECT_EQ(s.erase("a").error().code, Errc::StoreFailure);
  EXPECT_EQ(s.scan("", [](auto, auto) { return true; }).error().code, Errc::StoreFailure);
  EXPECT_EQ(s.flush().error().code, Errc::StoreFailure);
  s.set_failing(false);
  EXPECT_EQ(s.get("a").value(), Opt("1"));
  EXPECT_EQ(s.size(), 1u);
}

}  // namespace
}  // namespace gf
