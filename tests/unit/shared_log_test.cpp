// SharedLog (core/common/shared_log.hpp) on a MemoryKv standing in for the Redis that several
// nodes share: numbers are never given out twice, each node gets the others' records once and
// never its own, holes are waited for and then skipped, the ring stays bounded and a node that
// fell behind it counts what it lost. Then CommentModel with `shared`: feedback learned by one
// node changes the other node's score after sync(), exactly as if it had been learned there.
#include "core/common/shared_log.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/akismet/comment_model.hpp"
#include "core/akismet/keys.hpp"
#include "core/akismet/records.hpp"
#include "core/common/log_sink.hpp"
#include "core/common/memory_kv.hpp"
#include "forwarding_kv.hpp"

namespace gf {
namespace {

SharedLogOptions options(std::uint64_t max_records = 0) {
  SharedLogOptions o;
  o.counter_key = "l:next";
  o.key_of = [](std::uint64_t seq) { return "l:" + std::to_string(seq); };
  o.max_records = max_records;
  o.max_poll = 1000;
  o.hole_polls = 2;
  return o;
}

std::vector<std::string> records(const std::vector<SharedLog::Entry>& v) {
  std::vector<std::string> out;
  for (const auto& e : v) {
    out.push_back(e.record);
  }
  return out;
}

TEST(SharedLog, EachNodeGetsTheOthersRecordsOnceInOrder) {
  MemoryKv kv;
  SharedLog a(kv, options());
  SharedLog b(kv, options());
  EXPECT_EQ(*a.append("a1"), 1U);
  EXPECT_EQ(*b.append("b2"), 2U);
  EXPECT_EQ(*a.append("a3"), 3U);
  EXPECT_EQ(records(*b.poll()), (std::vector<std::string>{"a1", "a3"}));
  EXPECT_EQ(records(*a.poll()), (std::vector<std::string>{"b2"}));
  EXPECT_TRUE(a.poll()->empty());
  EXPECT_TRUE(b.poll()->empty());
  EXPECT_EQ(a.stats().position, 3U);
  EXPECT_EQ(b.stats().position, 3U);
  EXPECT_EQ(b.stats().applied, 2U);
  EXPECT_EQ(b.stats().appended, 1U);
  EXPECT_EQ(*kv.get("l:next"), "3");
}

TEST(SharedLog, AMissingRecordIsWaitedForThenSkipped) {
  MemoryKv kv;
  SharedLog a(kv, options());
  // A node took number 1 and has not written its record yet (or died before it).
  ASSERT_TRUE(kv.put("l:next", "1"));
  EXPECT_EQ(*a.append("a2"), 2U);
  SharedLog b(kv, options());
  EXPECT_EQ(records(*b.poll()), (std::vector<std::string>{"a2"}));
  EXPECT_EQ(b.stats().position, 0U);  // 1 is still awaited
  ASSERT_TRUE(kv.put("l:1", "late"));
  EXPECT_EQ(records(*b.poll()), (std::vector<std::string>{"late"}));
  EXPECT_EQ(b.stats().position, 2U);
  EXPECT_EQ(b.stats().holes, 0U);

  ASSERT_TRUE(kv.put("l:next", "3"));  // number 3 never gets a record
  EXPECT_TRUE(b.poll()->empty());
  EXPECT_EQ(b.stats().position, 2U);
  EXPECT_TRUE(b.poll()->empty());  // second poll: given up (hole_polls = 2)
  EXPECT_EQ(b.stats().position, 3U);
  EXPECT_EQ(b.stats().holes, 1U);
  ASSERT_TRUE(kv.put("l:3", "too late"));
  EXPECT_TRUE(b.poll()->empty());
}

TEST(SharedLog, TheRingStaysBoundedAndALateNodeCountsWhatItLost) {
  MemoryKv kv;
  SharedLog a(kv, options(3));
  SharedLog b(kv, options(3));
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(a.append("r" + std::to_string(i)));
  }
  std::size_t kept = 0;
  ASSERT_TRUE(kv.scan("l:", [&](std::string_view k, std::string_view) {
    kept += k != "l:next" ? 1 : 0;
    return true;
  }));
  EXPECT_EQ(kept, 3U);
  EXPECT_EQ(records(*b.poll()), (std::vector<std::string>{"r3", "r4", "r5"}));
  EXPECT_EQ(b.stats().lost, 2U);
  EXPECT_EQ(b.stats().position, 5U);
}

TEST(SharedLog, AStoreThatLostItsDataStartsOver) {
  MemoryKv kv;
  SharedLog a(kv, options());
  SharedLog b(kv, options());
  ASSERT_TRUE(a.append("r1"));
  ASSERT_TRUE(a.append("r2"));
  EXPECT_EQ(b.poll()->size(), 2U);
  ASSERT_TRUE(kv.erase("l:next"));  // Redis restarted empty
  ASSERT_TRUE(kv.erase("l:1"));
  ASSERT_TRUE(kv.erase("l:2"));
  EXPECT_EQ(*a.append("n1"), 1U);
  EXPECT_EQ(records(*b.poll()), (std::vector<std::string>{"n1"}));
  EXPECT_EQ(b.stats().resets, 1U);
  EXPECT_EQ(b.stats().position, 1U);
  EXPECT_TRUE(a.poll()->empty());  // its own record is not handed back after the reset
  EXPECT_EQ(a.stats().resets, 1U);
}

// A store whose reads fail now and then (a Redis timeout on a large batch).
class FlakyKv final : public test::ForwardingKv {
 public:
  int fail_reads = 0;
  std::vector<std::size_t> asked;
  Result<std::vector<std::optional<std::string>>> get_many(
      const std::vector<std::string>& keys) override {
    asked.push_back(keys.size());
    if (fail_reads > 0) {
      --fail_reads;
      return fail(Errc::StoreFailure, "redis: timeout after 50ms");
    }
    return inner.get_many(keys);
  }
};

TEST(SharedLog, AFailedReadHalvesTheNextBatchThenItGrowsBack) {
  FlakyKv kv;
  SharedLogOptions o = options();
  o.max_poll = 8;
  SharedLog a(kv, o);
  SharedLog b(kv, o);
  for (int i = 1; i <= 20; ++i) {
    ASSERT_TRUE(a.append("r" + std::to_string(i)));
  }
  kv.fail_reads = 2;
  EXPECT_FALSE(b.poll());
  EXPECT_FALSE(b.poll());
  EXPECT_EQ(b.stats().position, 0U);  // nothing skipped by a failed read
  EXPECT_EQ(b.poll()->size(), 2U);
  EXPECT_EQ(b.poll()->size(), 4U);
  EXPECT_EQ(b.poll()->size(), 8U);
  EXPECT_EQ(b.poll()->size(), 6U);
  EXPECT_EQ(kv.asked, (std::vector<std::size_t>{8, 4, 2, 4, 8, 6}));
  EXPECT_EQ(b.stats().position, 20U);
}

TEST(SharedLog, StartSkipsWhatASnapshotHolds) {
  MemoryKv kv;
  SharedLog a(kv, options());
  for (int i = 1; i <= 4; ++i) {
    ASSERT_TRUE(a.append("r" + std::to_string(i)));
  }
  SharedLog b(kv, options());
  b.start(2, {4});  // snapshot up to 2; 4 replayed from the log already
  EXPECT_EQ(records(*b.poll()), (std::vector<std::string>{"r3"}));
  EXPECT_EQ(b.stats().position, 4U);
}

TEST(SharedLog, AMalformedCounterIsAnErrorAndNoNumberIsReused) {
  MemoryKv kv;
  ASSERT_TRUE(kv.put("l:next", "x12"));
  SharedLog a(kv, options());
  EXPECT_FALSE(a.append("r"));
  EXPECT_FALSE(a.poll());
  EXPECT_EQ(*kv.get("l:next"), "x12");
  EXPECT_FALSE(parse_log_counter(""));
  EXPECT_FALSE(parse_log_counter("-1"));
  EXPECT_EQ(parse_log_counter("18446744073709551615"), 18446744073709551615ULL);
  EXPECT_FALSE(parse_log_counter("18446744073709551616"));
}

// --- CommentModel on a shared store --------------------------------------------------------

std::string record(const akismet::CommentRequest& r, bool spam) {
  akismet::CheckRecord rec;
  rec.kind = spam ? 's' : 'h';
  rec.spam = spam;
  rec.fields = {{"blog", r.blog}, {"comment_content", r.comment_content}};
  return akismet::encode_check(rec);
}

akismet::CommentRequest comment(std::string text) {
  akismet::CommentRequest r;
  r.blog = "https://blog.example";
  r.comment_content = std::move(text);
  return r;
}

akismet::ModelOptions shared_options() {
  akismet::ModelOptions o;
  o.min_training = 2;
  o.shared = true;
  o.shared_max_records = 100;
  return o;
}

void train(akismet::CommentModel& m, int n) {
  for (int i = 0; i < n; ++i) {
    const auto s = comment("cheap pills casino bonus offer number " + std::to_string(i));
    ASSERT_TRUE(m.learn(s, true, record(s, true)));
    const auto h = comment("thanks for the thoughtful post about gardening " + std::to_string(i));
    ASSERT_TRUE(m.learn(h, false, record(h, false)));
  }
}

TEST(SharedCommentModel, FeedbackAtOneNodeMovesTheOthersScoreAfterSync) {
  MemoryKv kv;
  NullLog log;
  akismet::CommentModel a(shared_options(), kv, log);
  akismet::CommentModel b(shared_options(), kv, log);
  ASSERT_TRUE(a.load());
  ASSERT_TRUE(b.load());
  train(a, 3);
  const auto probe = comment("cheap casino pills");
  EXPECT_TRUE(a.score(probe, "").trained);
  EXPECT_FALSE(b.score(probe, "").trained);  // not synced yet: B has learned nothing
  EXPECT_EQ(*b.sync(), 6U);
  const auto sb = b.score(probe, "");
  ASSERT_TRUE(sb.trained);
  EXPECT_EQ(sb.text, a.score(probe, "").text);  // the same examples in the same order
  EXPECT_GT(*sb.text, 0.5);
  EXPECT_EQ(*a.sync(), 0U);  // its own records are not handed back

  // B's feedback reaches A; both learned the same examples.
  const auto h = comment("cheap casino pills");
  ASSERT_TRUE(b.learn(h, false, record(h, false)));
  const double before = *a.score(probe, "").text;
  EXPECT_EQ(*a.sync(), 1U);
  EXPECT_LT(*a.score(probe, "").text, before);
  EXPECT_EQ(a.size().spam, b.size().spam);
  EXPECT_EQ(a.size().ham, b.size().ham);
  EXPECT_EQ(*kv.get(std::string(akismet::key::kTrainingCounter)), "7");
}

TEST(SharedCommentModel, ARestartFromASnapshotPicksUpWhatCameAfterIt) {
  MemoryKv kv;
  NullLog log;
  akismet::CommentModel a(shared_options(), kv, log);
  ASSERT_TRUE(a.load());
  train(a, 2);
  ASSERT_TRUE(a.save());  // snapshot at position 4
  train(a, 1);            // 5, 6 only in the log
  akismet::CommentModel c(shared_options(), kv, log);
  ASSERT_TRUE(c.load());
  EXPECT_EQ(c.size().spam, 3U);
  EXPECT_EQ(c.size().ham, 3U);
  EXPECT_EQ(*c.sync(), 0U);  // nothing twice
  EXPECT_EQ(c.shared_stats().position, 6U);
}

TEST(SharedCommentModel, NotSharedSyncDoesNothing) {
  MemoryKv kv;
  NullLog log;
  akismet::ModelOptions o;
  akismet::CommentModel m(o, kv, log);
  ASSERT_TRUE(m.load());
  EXPECT_EQ(*m.sync(), 0U);
  EXPECT_FALSE(kv.get(std::string(akismet::key::kTrainingCounter)).value().has_value());
}

}  // namespace
}  // namespace gf
