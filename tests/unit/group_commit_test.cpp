// GroupCommit after a failed commit: a batch that failed for a transient reason (disk full) is
// kept and committed when the database takes writes again; one that can never fit (TooLarge) is
// dropped so smaller writes are taken again.
#include "io/store/group_commit.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>

namespace gf::io {
namespace {

// A database that refuses commits with `code` while `full`, and takes them after.
struct FlakyDb {
  Errc code = Errc::StoreFailure;
  std::atomic<bool> full{false};
  std::map<std::string, int> rows;  // written by the writer thread only, read after stop()

  Result<void> commit(const GroupCommit<int>::Batch& batch) {
    if (full) {
      if (code == Errc::TooLarge) {
        full = false;
      }
      return fail(code, "No space left on device");
    }
    for (const auto& [k, v] : batch) {
      if (v) {
        rows[k] = *v;
      } else {
        rows.erase(k);
      }
    }
    return {};
  }
};

Result<void> stage(GroupCommit<int>& gc, const std::string& k, int v) {
  auto lock = gc.lock();
  return gc.stage(k, v);
}

TEST(GroupCommit, KeepsAFailedBatchAndCommitsItWhenWritesSucceedAgain) {
  FlakyDb db;
  GroupCommit<int> gc;
  gc.init("test", Millis(1), [&db](const auto& b) { return db.commit(b); });
  gc.start_writer({}, Millis(1000), /*background=*/false);
  db.full = true;
  {
    auto lock = gc.lock();
    ASSERT_TRUE(gc.stage("a", 1).has_value());
    ASSERT_TRUE(gc.stage("b", 2).has_value());
  }
  EXPECT_FALSE(gc.flush().has_value());
  EXPECT_FALSE(stage(gc, "c", 3).has_value()) << "writes are refused while commits fail";
  {
    auto lock = gc.lock();
    ASSERT_NE(gc.find("a"), nullptr) << "the kept batch is still read";
    EXPECT_EQ(**gc.find("a"), 1);
  }
  EXPECT_FALSE(gc.flush().has_value()) << "the next round fails too";
  db.full = false;
  ASSERT_TRUE(gc.flush().has_value());
  gc.stop();
  EXPECT_EQ(db.rows, (std::map<std::string, int>{{"a", 1}, {"b", 2}}));
  auto lock = gc.lock();
  EXPECT_GE(gc.counters().commit_failures, 2u);
  EXPECT_EQ(gc.counters().records_retained, 2 * gc.counters().commit_failures);
  EXPECT_EQ(gc.counters().records_written, 2u);
}

TEST(GroupCommit, DropsABatchThatCannotFitAndTakesWritesAgain) {
  FlakyDb db;
  db.code = Errc::TooLarge;
  GroupCommit<int> gc;
  // Rounds only when flush() asks: with a 1 ms interval the writer's own round could commit (and
  // drop) "big" before the first flush(), which then had nothing left to fail on.
  gc.init("test", Millis(600000), [&db](const auto& b) { return db.commit(b); });
  gc.start_writer({}, Millis(1000), /*background=*/false);
  db.full = true;  // for one commit
  ASSERT_TRUE(stage(gc, "big", 1).has_value());
  EXPECT_FALSE(gc.flush().has_value());
  Result<void> ok = gc.flush();  // an empty round: writes are taken again
  for (int round = 0; round < 3 && !ok; ++round) {
    ok = gc.flush();
  }
  ASSERT_TRUE(ok.has_value());
  ASSERT_TRUE(stage(gc, "small", 2).has_value());
  gc.stop();
  EXPECT_EQ(db.rows, (std::map<std::string, int>{{"small", 2}}));
}

}  // namespace
}  // namespace gf::io
