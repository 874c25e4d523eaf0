// LmdbKv: a failed commit is reported, and the store takes writes again once it has nothing
// pending (as LmdbStore does), instead of refusing every write from then on.
#include "io/store/lmdb_kv.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace gf::io {
namespace {

// A store in a fresh temporary directory, removed with it.
struct TempKv {
  explicit TempKv(Millis commit_interval) {
    char tmpl[] = "/tmp/gf-kv-XXXXXX";
    dir = ::mkdtemp(tmpl);
    KvOptions o;
    o.path = dir + "/kv";
    o.commit_interval = commit_interval;
    o.sync = false;
    kv = LmdbKv::open(o).value();
  }
  ~TempKv() {
    kv.reset();
    std::filesystem::remove_all(dir);
  }
  std::string dir;
  std::unique_ptr<LmdbKv> kv;
};

TEST(LmdbKv, AcceptsWritesAgainAfterAFailedCommit) {
  char tmpl[] = "/tmp/gf-kv-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  {
    KvOptions o;
    o.path = dir + "/kv";
    o.map_size = 64 << 10;  // 64 KiB: a few large values fill it
    o.commit_interval = Millis(1);
    o.sync = false;
    auto kv = LmdbKv::open(o).value();
    bool failed = false;
    for (int i = 0; i < 1000 && !failed; ++i) {
      failed = !kv->put("v:" + std::to_string(i), std::string(2000, 'x')).has_value() ||
               (i % 10 == 9 && !kv->flush().has_value());
    }
    ASSERT_TRUE(failed);
    EXPECT_GT(kv->stats().commit_failures, 0u);
    // Writes are taken again once a round finds nothing pending: flush() waits for a round,
    // and since refused writes stage nothing, the second round at the latest is empty.
    bool writable = false;
    for (int round = 0; round < 3 && !writable; ++round) {
      writable = kv->flush().has_value();
    }
    ASSERT_TRUE(writable);
    EXPECT_TRUE(kv->put("small", "1").has_value());
    EXPECT_TRUE(kv->get("small").has_value());  // reads keep working
  }
  std::filesystem::remove_all(dir);
}

TEST(LmdbKv, GetManyReadsStagedAndCommittedValuesInOneCall) {
  TempKv t(Millis(1000));
  LmdbKv& kv = *t.kv;
  ASSERT_TRUE(kv.put("committed", "c").has_value());
  ASSERT_TRUE(kv.flush().has_value());
  ASSERT_TRUE(kv.put("staged", "s").has_value());  // still pending (1 s interval)
  const std::string too_long(600, 'k');            // over LMDB's key limit: never stored
  auto got = kv.get_many({"committed", "absent", "staged", too_long, ""}).value();
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0], std::optional<std::string>("c"));
  EXPECT_EQ(got[1], std::nullopt);
  EXPECT_EQ(got[2], std::optional<std::string>("s"));
  EXPECT_EQ(got[3], std::nullopt);
  EXPECT_EQ(got[4], std::nullopt);
}

TEST(LmdbKv, PutAndUpdateStagesBothWrites) {
  TempKv t(Millis(1));
  LmdbKv& kv = *t.kv;
  const auto bump = [](std::optional<std::string_view> cur) {
    return std::to_string(cur ? std::stoi(std::string(*cur)) + 1 : 1);
  };
  ASSERT_TRUE(kv.put_and_update("record:1", "a", "count", bump).has_value());
  ASSERT_TRUE(kv.flush().has_value());  // the second update reads the committed value
  ASSERT_TRUE(kv.put_and_update("record:2", "b", "count", bump).has_value());
  EXPECT_EQ(kv.get("count").value(), std::optional<std::string>("2"));
  EXPECT_EQ(kv.get("record:1").value(), std::optional<std::string>("a"));
  EXPECT_EQ(kv.get("record:2").value(), std::optional<std::string>("b"));
  EXPECT_FALSE(kv.put_and_update("", "x", "count", bump).has_value());
}

// A scan lays the staged writes over the database instead of waiting for a commit (it used to
// flush, so an admin listing waited for a commit round and its fsync): staged keys before,
// between and after the stored ones, a staged value over a stored one, a staged erase hiding
// one, and no commit made by the scan.
TEST(LmdbKv, ScanMergesStagedWritesWithoutCommitting) {
  TempKv slow(Millis(3600 * 1000));  // its writer never commits within the test
  for (const char* k : {"s:b", "s:d", "s:f", "t:x"}) {
    ASSERT_TRUE(slow.kv->put(k, std::string("old ") + k).has_value());
  }
  ASSERT_TRUE(slow.kv->flush().has_value());
  const std::uint64_t commits = slow.kv->stats().commits;
  for (const char* k : {"s:a", "s:c", "s:g"}) {
    ASSERT_TRUE(slow.kv->put(k, std::string("new ") + k).has_value());
  }
  ASSERT_TRUE(slow.kv->put("s:d", "new s:d").has_value());
  ASSERT_TRUE(slow.kv->erase("s:f").has_value());
  std::vector<std::string> seen;
  ASSERT_TRUE(slow.kv
                  ->scan("s:",
                         [&](std::string_view k, std::string_view v) {
                           seen.push_back(std::string(k) + "=" + std::string(v));
                           return true;
                         })
                  .has_value());
  EXPECT_EQ(seen, (std::vector<std::string>{"s:a=new s:a", "s:b=old s:b", "s:c=new s:c",
                                            "s:d=new s:d", "s:g=new s:g"}));
  EXPECT_EQ(slow.kv->stats().commits, commits);  // nothing committed to answer the scan
  seen.clear();                                  // stopping on a staged entry
  ASSERT_TRUE(slow.kv
                  ->scan("s:",
                         [&](std::string_view k, std::string_view) {
                           seen.emplace_back(k);
                           return seen.size() < 3;
                         })
                  .has_value());
  EXPECT_EQ(seen, (std::vector<std::string>{"s:a", "s:b", "s:c"}));
}

}  // namespace
}  // namespace gf::io
