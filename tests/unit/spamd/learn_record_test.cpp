// What the decision history keeps of a scanned message: the scan's kept Prepared equals what
// TELL computes (prepare()), the record round-trips, and relearning from the decoded record
// is TELL's learn (idempotent per class, moves between classes).
#include "core/spamd/learn_record.hpp"

#include <gtest/gtest.h>

#include "core/spamd/evaluate.hpp"
#include "sample_mail.hpp"

namespace gf::spamd {
namespace {

using test::ham_mail;
using test::spam_mail;

Scanner trained() {
  Scanner s;
  for (int i = 0; i < 20; ++i) {
    s.learn(mime::parse_message(spam_mail(i)), true);
    s.learn(mime::parse_message(ham_mail(i)), false);
  }
  return s;
}

TEST(LearnRecord, ScanKeepsWhatPrepareComputes) {
  for (const bool is_trained : {false, true}) {
    const Scanner s = is_trained ? trained() : Scanner();
    const mime::Message m = mime::parse_message(spam_mail(77));
    Scanner::Prepared kept;
    const Evaluation e = evaluate(s, m, ActionPolicy{}, false, nullptr, &kept);
    const Scanner::Prepared want = s.prepare(m);
    EXPECT_EQ(kept.fingerprint, want.fingerprint);
    EXPECT_EQ(kept.features, want.features);
    EXPECT_EQ(kept.uri_domains, want.uri_domains);
    EXPECT_FALSE(kept.features.empty());
    EXPECT_EQ(e.score(), s.scan(m).score);  // keeping changes nothing in the verdict
  }
}

TEST(LearnRecord, RoundTripAndNoBody) {
  const Scanner s;
  const Scanner::Prepared p = s.prepare(mime::parse_message(spam_mail(5)));
  const std::string bytes = encode_learn_record(p);
  EXPECT_EQ(bytes.find("Claim your prize"), std::string::npos);
  EXPECT_EQ(bytes.find("viagra"), std::string::npos);
  auto d = decode_learn_record(bytes);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->fingerprint, p.fingerprint);
  EXPECT_EQ(d->features, p.features);
  EXPECT_EQ(d->uri_domains, p.uri_domains);
  for (std::size_t n = 0; n < bytes.size(); n += 7) {
    EXPECT_FALSE(decode_learn_record(bytes.substr(0, n)));
  }
  EXPECT_FALSE(decode_learn_record(bytes + "x"));
}

TEST(LearnRecord, RelearnIsTellLearn) {
  Scanner s = trained();
  const std::string raw = spam_mail(500);
  const double before = s.scan(mime::parse_message(raw)).score;
  ASSERT_GE(before, 5.0);
  Scanner::Prepared kept;
  (void)evaluate(s, mime::parse_message(raw), ActionPolicy{}, false, nullptr, &kept);
  auto p = decode_learn_record(encode_learn_record(kept));
  ASSERT_TRUE(p);
  const std::uint64_t ham0 = s.ham_learned();
  EXPECT_TRUE(s.learn(*p, false));
  EXPECT_FALSE(s.learn(*p, false));  // the same class again: nothing learned, nothing counted
  EXPECT_EQ(s.ham_learned(), ham0 + 1);
  // TELL of the same message sees the history's learn (same fingerprint): already learned.
  EXPECT_FALSE(s.learn(mime::parse_message(raw), false));
  const std::uint64_t spam0 = s.spam_learned();
  EXPECT_TRUE(s.learn(*p, true));  // the other class moves it
  EXPECT_EQ(s.ham_learned(), ham0);
  EXPECT_EQ(s.spam_learned(), spam0 + 1);
}

// The shared mail training log (docs/redis.md): a TELL's record round-trips with its class, and
// two nodes that learn each other's records end with the same model, whatever was learned twice.
TEST(SharedLearn, RoundTripsAndRejectsABadClass) {
  const Scanner s;
  const Scanner::Prepared p = s.prepare(mime::parse_message(spam_mail(3)));
  for (const bool spam : {true, false}) {
    auto got = decode_shared_learn(encode_shared_learn(p, spam));
    ASSERT_TRUE(got);
    EXPECT_EQ(got->spam, spam);
    EXPECT_EQ(got->prepared.fingerprint, p.fingerprint);
    EXPECT_EQ(got->prepared.features, p.features);
  }
  EXPECT_FALSE(decode_shared_learn(""));
  EXPECT_FALSE(decode_shared_learn("x" + encode_learn_record(p)));
  EXPECT_FALSE(decode_shared_learn("s" + encode_learn_record(p) + "!"));
  EXPECT_EQ(shared_learn_key(42), "ml:000000000000002a");
}

TEST(SharedLearn, ReplayingTheOthersRecordsGivesTheSameModel) {
  Scanner a;
  Scanner b;
  std::vector<std::string> log;  // what node A appended, in order
  for (int i = 0; i < 12; ++i) {
    for (const bool spam : {true, false}) {
      const Scanner::Prepared p = a.prepare(mime::parse_message(spam ? spam_mail(i) : ham_mail(i)));
      ASSERT_TRUE(a.learn(p, spam));
      log.push_back(encode_shared_learn(p, spam));
    }
  }
  for (int pass = 0; pass < 2; ++pass) {  // the second pass (a restart's replay) changes nothing
    for (const std::string& r : log) {
      auto rec = decode_shared_learn(r);
      ASSERT_TRUE(rec);
      EXPECT_EQ(b.learn(rec->prepared, rec->spam), pass == 0);
    }
  }
  const mime::Message probe = mime::parse_message(spam_mail(99));
  EXPECT_EQ(a.scan(probe).score, b.scan(probe).score);
  EXPECT_EQ(a.serialize(), b.serialize());
  EXPECT_EQ(b.spam_learned(), 12U);
}

}  // namespace
}  // namespace gf::spamd
