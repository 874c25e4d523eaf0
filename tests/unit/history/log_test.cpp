// The decision history log: ids, filters, newest-first paging, eviction by count and by the
// payload byte budget, payload retention on simulated time, relearn bookkeeping, change tracking.
#include "core/history/log.hpp"

#include <gtest/gtest.h>

namespace gf::history {
namespace {

Row greylist_row(std::int64_t t, std::string verdict = "defer", std::string client = "10.0.0.1") {
  Row r;
  r.t_s = t;
  r.door = Door::Greylist;
  r.via = "policy";
  r.verdict = std::move(verdict);
  r.client = std::move(client);
  r.sender = "a@example.org";
  r.recipient = "b@example.net";
  return r;
}

Row comment_row(std::int64_t t, std::string payload, std::string site = "blog.example") {
  Row r;
  r.t_s = t;
  r.door = Door::Comments;
  r.verdict = "ham";
  r.site = std::move(site);
  r.reasons = {{"TEXT_MODEL", -1.5}, {"LINKS", 0.5}};
  r.features = std::move(payload);
  return r;
}

std::vector<std::uint64_t> ids(const Page& p) {
  std::vector<std::uint64_t> out;
  for (const Row& r : p.rows) {
    out.push_back(r.id);
  }
  return out;
}

TEST(HistoryLog, IdsAreMonotonicFromOne) {
  Log log;
  EXPECT_EQ(log.append(greylist_row(100)), 1u);
  EXPECT_EQ(log.append(greylist_row(90)), 2u);  // a clock step back does not reorder ids
  EXPECT_EQ(log.append(greylist_row(110)), 3u);
  EXPECT_EQ(log.next_id(), 4u);
}

TEST(HistoryLog, NewestFirstPagingWithBefore) {
  Log log;
  for (int i = 0; i < 7; ++i) {
    log.append(greylist_row(100 + i));
  }
  Page p1 = log.query({}, 3);
  EXPECT_EQ(ids(p1), (std::vector<std::uint64_t>{7, 6, 5}));
  ASSERT_TRUE(p1.next);
  EXPECT_EQ(*p1.next, 5u);
  Page p2 = log.query({}, 3, p1.next);
  EXPECT_EQ(ids(p2), (std::vector<std::uint64_t>{4, 3, 2}));
  Page p3 = log.query({}, 3, p2.next);
  EXPECT_EQ(ids(p3), (std::vector<std::uint64_t>{1}));
  EXPECT_FALSE(p3.next);
  // Exactly `limit` left: no next page.
  EXPECT_FALSE(log.query({}, 4, 5).next);
  EXPECT_EQ(ids(log.query({}, 4, 5)), (std::vector<std::uint64_t>{4, 3, 2, 1}));
}

TEST(HistoryLog, Filters) {
  Log log;
  log.append(greylist_row(1, "defer", "mx.example[192.0.2.7]"));
  log.append(greylist_row(2, "pass", "other[198.51.100.1]"));
  log.append(comment_row(3, "payload"));
  log.append(comment_row(4, "payload", "other.example"));
  Filter f;
  f.door = Door::Greylist;
  EXPECT_EQ(ids(log.query(f, 10)), (std::vector<std::uint64_t>{2, 1}));
  f.verdict = "DEFER";  // case-insensitive
  EXPECT_EQ(ids(log.query(f, 10)), (std::vector<std::uint64_t>{1}));
  Filter c;
  c.client = "192.0.2";  // substring
  EXPECT_EQ(ids(log.query(c, 10)), (std::vector<std::uint64_t>{1}));
  Filter s;
  s.symbol = "links";
  EXPECT_EQ(ids(log.query(s, 10)), (std::vector<std::uint64_t>{4, 3}));
  s.site = "other.example";
  EXPECT_EQ(ids(log.query(s, 10)), (std::vector<std::uint64_t>{4}));
  Filter snd;
  snd.sender = "EXAMPLE.ORG";
  EXPECT_EQ(ids(log.query(snd, 10)), (std::vector<std::uint64_t>{2, 1}));
  Filter none;
  none.symbol = "NO_SUCH";
  EXPECT_TRUE(log.query(none, 10).rows.empty());
}

TEST(HistoryLog, PagingSkipsNonMatchingRows) {
  Log log;
  for (int i = 0; i < 10; ++i) {
    log.append(i % 2 ? greylist_row(i, "pass") : greylist_row(i, "defer"));
  }
  Filter f;
  f.verdict = "pass";  // ids 2 4 6 8 10
  Page p = log.query(f, 2);
  EXPECT_EQ(ids(p), (std::vector<std::uint64_t>{10, 8}));
  p = log.query(f, 2, p.next);
  EXPECT_EQ(ids(p), (std::vector<std::uint64_t>{6, 4}));
  p = log.query(f, 2, p.next);
  EXPECT_EQ(ids(p), (std::vector<std::uint64_t>{2}));
  EXPECT_FALSE(p.next);
}

TEST(HistoryLog, EvictsOldestBeyondMaxRows) {
  Limits l;
  l.max_rows = 3;
  Log log(l, true);
  for (int i = 0; i < 5; ++i) {
    log.append(comment_row(i, "abcd"));
  }
  EXPECT_EQ(log.size(), 3u);
  EXPECT_EQ(log.evicted(), 2u);
  EXPECT_FALSE(log.find(1));
  EXPECT_FALSE(log.find(2));
  EXPECT_TRUE(log.find(3));
  EXPECT_EQ(log.feature_bytes(), 12u);
  EXPECT_EQ(log.learnable(1, Class::Spam).problem, LearnProblem::Unknown);
  const Changes c = log.take_changes();
  EXPECT_EQ(c.erase, (std::vector<std::uint64_t>{1, 2}));
  ASSERT_EQ(c.put.size(), 3u);  // 1 and 2 went before they were taken
  EXPECT_EQ(c.put[0].id, 3u);
  EXPECT_EQ(c.put[0].features, "abcd");  // persisted with the payload
  const Changes again = log.take_changes();
  EXPECT_TRUE(again.put.empty());
  EXPECT_TRUE(again.erase.empty());
}

TEST(HistoryLog, TakesChangesABoundedBatchAtATimeLowestIdsFirst) {
  Limits l;
  l.max_rows = 3;
  Log log(l, true);
  for (int i = 0; i < 5; ++i) {
    log.append(comment_row(i, "abcd"));
  }
  const Changes first = log.take_changes(2);
  EXPECT_EQ(first.erase, (std::vector<std::uint64_t>{1, 2}));  // every eviction at once
  ASSERT_EQ(first.put.size(), 2u);  // the evicted ids 1 and 2 take no room in the batch
  EXPECT_EQ(first.put[0].id, 3u);
  EXPECT_EQ(first.put[1].id, 4u);
  const Changes second = log.take_changes(2);
  EXPECT_TRUE(second.erase.empty());
  ASSERT_EQ(second.put.size(), 1u);
  EXPECT_EQ(second.put[0].id, 5u);
  EXPECT_TRUE(log.take_changes(2).put.empty());
}

TEST(HistoryLog, RetentionDropsPayloadsOnSimulatedTime) {
  Limits l;
  l.relearn_retention_s = 3600;
  Log log(l, true);
  log.append(comment_row(1000, "old"));
  log.append(greylist_row(1500));
  log.append(comment_row(2000, "newer"));
  (void)log.take_changes();
  EXPECT_EQ(log.expire(1000 + 3599), 0u);  // nothing old enough yet
  EXPECT_EQ(log.learnable(1, Class::Spam).problem, LearnProblem::None);
  EXPECT_EQ(log.expire(1000 + 3600), 1u);  // row 1's payload is exactly one retention old
  EXPECT_EQ(log.learnable(1, Class::Spam).problem, LearnProblem::Expired);
  EXPECT_EQ(log.learnable(3, Class::Spam).problem, LearnProblem::None);
  EXPECT_EQ(log.feature_bytes(), 5u);
  bool learnable = true;
  ASSERT_TRUE(log.find(1, &learnable));  // the row itself stays
  EXPECT_FALSE(learnable);
  const Changes c = log.take_changes();  // the stored row loses its payload too
  ASSERT_EQ(c.put.size(), 1u);
  EXPECT_EQ(c.put[0].id, 1u);
  EXPECT_TRUE(c.put[0].features_dropped);
  EXPECT_TRUE(c.put[0].features.empty());
  EXPECT_EQ(log.expire(2000 + 3600), 1u);
  EXPECT_EQ(log.learnable(3, Class::Ham).problem, LearnProblem::Expired);
  EXPECT_EQ(log.feature_bytes(), 0u);
  EXPECT_EQ(log.size(), 3u);
}

TEST(HistoryLog, ByteBudgetDropsOldestPayloadsFirst) {
  Limits l;
  l.max_feature_bytes = 10;
  Log log(l);
  log.append(comment_row(1, "aaaa"));
  log.append(comment_row(2, "bbbb"));
  EXPECT_EQ(log.feature_bytes(), 8u);
  log.append(comment_row(3, "cccc"));  // 12 > 10: row 1's payload goes
  EXPECT_EQ(log.feature_bytes(), 8u);
  EXPECT_EQ(log.learnable(1, Class::Spam).problem, LearnProblem::Expired);
  EXPECT_EQ(log.learnable(2, Class::Spam).problem, LearnProblem::None);
  EXPECT_EQ(log.size(), 3u);
}

TEST(HistoryLog, LearnBookkeeping) {
  Log log;
  const auto g = log.append(greylist_row(1));
  const auto c = log.append(comment_row(2, "fields"));
  EXPECT_EQ(log.learnable(g, Class::Spam).problem, LearnProblem::NotLearnable);
  EXPECT_EQ(log.learnable(99, Class::Spam).problem, LearnProblem::Unknown);
  LearnInput in = log.learnable(c, Class::Spam);
  ASSERT_EQ(in.problem, LearnProblem::None);
  EXPECT_EQ(in.row.features, "fields");
  EXPECT_TRUE(log.mark_learned(c, Class::Spam));
  EXPECT_EQ(log.learnable(c, Class::Spam).problem, LearnProblem::AlreadyLearned);
  EXPECT_EQ(log.learnable(c, Class::Ham).problem, LearnProblem::None);  // the other class moves
  EXPECT_EQ(log.find(c)->learned, Class::Spam);
  EXPECT_FALSE(log.mark_learned(99, Class::Ham));
}

TEST(HistoryLog, QueryCopiesHaveNoPayload) {
  Log log;
  log.append(comment_row(1, std::string(1000, 'x')));
  const Page p = log.query({}, 10);
  ASSERT_EQ(p.rows.size(), 1u);
  EXPECT_TRUE(p.rows[0].features.empty());
  EXPECT_TRUE(p.learnable[0]);
  EXPECT_EQ(p.rows[0].reasons.size(), 2u);
}

TEST(HistoryLog, RestoreContinuesIdsAndIgnoresDisorder) {
  Log log(Limits{}, true);
  Row a = comment_row(1, "p");
  a.id = 40;
  Row b = greylist_row(2);
  b.id = 42;
  Row stale = greylist_row(3);
  stale.id = 41;
  EXPECT_TRUE(log.restore(a));
  EXPECT_TRUE(log.restore(b));
  EXPECT_FALSE(log.restore(stale));             // out of order
  EXPECT_TRUE(log.take_changes().put.empty());  // restored rows are stored already
  EXPECT_EQ(log.append(greylist_row(4)), 43u);
  EXPECT_EQ(log.size(), 3u);
  EXPECT_EQ(log.learnable(40, Class::Ham).problem, LearnProblem::None);
}

TEST(HistoryLog, AppendClampsFields) {
  Log log;
  Row r = greylist_row(1);
  r.client = std::string(5000, 'c');
  r.summary = "line\nbreak";
  r.reasons.assign(100, Reason{"X", 1.0});
  const auto id = log.append(std::move(r));
  const auto got = log.find(id);
  ASSERT_TRUE(got);
  EXPECT_LE(got->client.size(), kMaxText + 3);
  EXPECT_EQ(got->summary, "line?break");
  EXPECT_EQ(got->reasons.size(), kMaxReasons);
}

}  // namespace
}  // namespace gf::history
