// One contract for every Store implementation: MemoryStore, LmdbStore, RedisStore (on a private
// redis-server that the test starts; skipped when it is not installed).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <type_traits>

#include "core/greylist/memory_store.hpp"
#include "io/store/lmdb_store.hpp"
#include "io/store/redis_store.hpp"
#include "redis_clients.hpp"
#include "redis_server.hpp"

namespace gf::greylist {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/gf-store-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct MemoryFactory {
  std::unique_ptr<Store> make() { return std::make_unique<MemoryStore>(); }
  std::unique_ptr<Store> reopen() { return nullptr; }  // not durable
};

struct LmdbFactory {
  TempDir dir;
  std::unique_ptr<Store> make() {
    io::LmdbOptions o;
    o.path = dir.path() + "/db";
    o.map_size = 64 << 20;
    o.commit_interval = Millis(5);
    return std::move(io::LmdbStore::open(o, {}).value());
  }
  std::unique_ptr<Store> reopen() { return make(); }
};

// An empty database per make(); no ExpiryFn (the contract's records are dated 1970), the
// native expiry has its own test (redis_store_test.cpp).
struct RedisFactory {
  static std::string skip_reason() {
    auto& srv = test::shared_redis();
    return srv.running() ? "" : "Redis store not tested: " + srv.why();
  }
  std::unique_ptr<Store> make() {
    EXPECT_EQ(test::shared_redis().command({"FLUSHALL"}), std::optional<std::string>("OK"));
    return reopen();
  }
  std::unique_ptr<Store> reopen() {
    return std::make_unique<io::RedisStore>(test::shared_redis_client(), "gf:g:");
  }
};

// A 3-master, 3-replica Redis Cluster made by ctest redis.cluster_contracts (skipped elsewhere).
struct RedisClusterFactory {
  static std::string skip_reason() {
    return test::test_cluster_ports().empty()
               ? "Redis Cluster not tested here: ctest redis.cluster_contracts runs this"
               : "";
  }
  std::unique_ptr<Store> make() {
    EXPECT_GE(test::flush_test_cluster(), 1);
    return reopen();
  }
  std::unique_ptr<Store> reopen() {
    return std::make_unique<io::RedisStore>(test::test_cluster_client(), "gf:g:");
  }
};

// Names the typed tests StoreContract/Redis.* etc., so that ctest can run the cluster ones apart.
struct FactoryNames {
  template <class T>
  static std::string GetName(int) {
    if constexpr (std::is_same_v<T, MemoryFactory>) {
      return "Memory";
    } else if constexpr (std::is_same_v<T, LmdbFactory>) {
      return "Lmdb";
    } else if constexpr (std::is_same_v<T, RedisFactory>) {
      return "Redis";
    } else {
      return "RedisCluster";
    }
  }
};

template <class F>
class StoreContract : public ::testing::Test {
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

using Factories = ::testing::Types<MemoryFactory, LmdbFactory, RedisFactory, RedisClusterFactory>;
TYPED_TEST_SUITE(StoreContract, Factories, FactoryNames);

TYPED_TEST(StoreContract, GetOfAMissingKeyIsEmpty) {
  auto s = this->factory.make();
  auto r = s->get("t:nothing");
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->has_value());
}

TYPED_TEST(StoreContract, PutThenGetReturnsTheRecordBeforeAndAfterFlush) {
  auto s = this->factory.make();
  const Record rec{10, 20, 3, 15};
  ASSERT_TRUE(s->put("t:a", rec).has_value());
  EXPECT_EQ(s->get("t:a").value().value(), rec);
  ASSERT_TRUE(s->flush().has_value());
  EXPECT_EQ(s->get("t:a").value().value(), rec);
}

TYPED_TEST(StoreContract, EraseReportsWhetherTheKeyExisted) {
  auto s = this->factory.make();
  ASSERT_TRUE(s->put("t:a", Record{1, 1, 0, 0}).has_value());
  EXPECT_TRUE(s->erase("t:a").value());
  EXPECT_FALSE(s->get("t:a").value().has_value());
  EXPECT_FALSE(s->erase("t:a").value());
}

TYPED_TEST(StoreContract, ScanVisitsAPrefixInKeyOrder) {
  auto s = this->factory.make();
  for (const char* k : {"t:c", "c:x", "t:a", "t:b", "u:z"}) {
    ASSERT_TRUE(s->put(k, Record{1, 2, 3, 4}).has_value());
  }
  std::vector<std::string> seen;
  ASSERT_TRUE(s->scan("t:", [&](std::string_view k, const Record&) {
                 seen.emplace_back(k);
                 return true;
               }).has_value());
  EXPECT_EQ(seen, (std::vector<std::string>{"t:a", "t:b", "t:c"}));
  seen.clear();
  ASSERT_TRUE(s->scan("t:", [&](std::string_view k, const Record&) {
                 seen.emplace_back(k);
                 return false;
               }).has_value());
  EXPECT_EQ(seen.size(), 1u);
}

TYPED_TEST(StoreContract, ExpireStepRemovesOnlyExpiredRecordsInBoundedSteps) {
  auto s = this->factory.make();
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(
        s->put("t:" + std::to_string(100 + i), Record{0, static_cast<std::uint32_t>(i), 0, 0})
            .has_value());
  }
  ASSERT_TRUE(s->flush().has_value());
  auto old = [](std::string_view, const Record& r) { return r.last_s < 25; };
  std::size_t removed = 0;
  for (int step = 0; step < 10; ++step) {
    auto n = s->expire_step(old, 10);
    ASSERT_TRUE(n.has_value());
    EXPECT_LE(*n, 10u);
    removed += *n;
  }
  EXPECT_EQ(removed, 25u);
  std::size_t left = 0;
  ASSERT_TRUE(s->scan("t:", [&](std::string_view, const Record& r) {
                 EXPECT_GE(r.last_s, 25u);
                 ++left;
                 return true;
               }).has_value());
  EXPECT_EQ(left, 25u);
}

TYPED_TEST(StoreContract, ConcurrentWritersAndReadersSeeTheirOwnWrites) {
  auto s = this->factory.make();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (std::uint32_t i = 0; i < 500; ++i) {
        const std::string k = "t:" + std::to_string(t) + ":" + std::to_string(i);
        if (!s->put(k, Record{i, i, 0, 0}) || s->get(k).value().value().first_s != i) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(failures.load(), 0);
  ASSERT_TRUE(s->flush().has_value());
  std::size_t n = 0;
  ASSERT_TRUE(s->scan("t:", [&](std::string_view, const Record&) { return ++n, true; }));
  EXPECT_EQ(n, 2000u);
}

TYPED_TEST(StoreContract, DurableStoresKeepFlushedWritesAcrossReopen) {
  auto s = this->factory.make();
  ASSERT_TRUE(s->put("t:keep", Record{7, 8, 1, 8}).has_value());
  ASSERT_TRUE(s->flush().has_value());
  s.reset();
  auto again = this->factory.reopen();
  if (!again) {
    GTEST_SKIP() << "not a durable store";
  }
  EXPECT_EQ(again->get("t:keep").value().value(), (Record{7, 8, 1, 8}));
}

TEST(RecordCodec, RoundTripsAndRejectsForeignBytes) {
  const Record r{1, 2, 3, 4};
  EXPECT_EQ(decode_record(encode_record(r)).value(), r);
  EXPECT_EQ(encode_record(r).size(), kEncodedRecordBytes);
  EXPECT_FALSE(decode_record("").has_value());
  EXPECT_FALSE(decode_record(std::string(17, '\x02')).has_value());
}

TEST(LmdbStore, ReportsMapFullAsAStoreFailureNotACrash) {
  TempDir dir;
  io::LmdbOptions o;
  o.path = dir.path() + "/db";
  o.map_size = 64 << 10;  // 64 KiB: fills after a few hundred records
  o.commit_interval = Millis(1);
  auto s = io::LmdbStore::open(o, {}).value();
  bool failed = false;
  for (int i = 0; i < 20000 && !failed; ++i) {
    if (!s->put("t:" + std::string(100, 'k') + std::to_string(i), Record{1, 1, 1, 1})) {
      failed = true;
    }
    if (i % 100 == 99 && !s->flush()) {
      failed = true;
    }
  }
  EXPECT_TRUE(failed);
  EXPECT_GT(s->stats().commit_failures, 0u);
  EXPECT_TRUE(s->get("t:missing").has_value());  // reads keep working
}

}  // namespace
}  // namespace gf::greylist

namespace gf::greylist {
namespace {

// Reads from one thread that alternate between two stores keep one reader slot per store (a
// single per-thread cache slot would begin a new transaction on every switch and run out of
// LMDB's 512 reader slots).
TEST(LmdbStore, AlternatingReadsOfTwoStoresFromOneThreadKeepOneReaderSlotEach) {
  LmdbFactory fa;  // each with a directory of its own
  LmdbFactory fb;
  auto sa = fa.make();
  auto sb = fb.make();
  ASSERT_TRUE(sa->put("t:a", Record{1, 2, 3, 4}).has_value());
  ASSERT_TRUE(sb->put("t:b", Record{5, 6, 7, 8}).has_value());
  ASSERT_TRUE(sa->flush().has_value());
  ASSERT_TRUE(sb->flush().has_value());
  for (int i = 0; i < 2000; ++i) {
    auto ra = sa->get("t:a");
    auto rb = sb->get("t:b");
    ASSERT_TRUE(ra.has_value() && rb.has_value()) << "read " << i;
    ASSERT_TRUE(ra->has_value() && rb->has_value()) << "read " << i;
    EXPECT_EQ((*ra)->count, 3u);
    EXPECT_EQ((*rb)->count, 7u);
  }
}

}  // namespace
}  // namespace gf::greylist
