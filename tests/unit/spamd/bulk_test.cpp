#include "core/spamd/bulk.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sample_mail.hpp"

namespace gf::spamd {
namespace {

using test::ham_mail;
using test::spam_mail;

// Runs the bodies in reverse, as a pool may finish them in any order.
void reverse_for_each(std::size_t n, const std::function<void(std::size_t)>& body) {
  for (std::size_t i = n; i-- > 0;) {
    body(i);
  }
}

TEST(Bulk, InterleaveKeepsTheRunningProportions) {
  const std::vector<std::string_view> spam = {"s1", "s2"};
  const std::vector<std::string_view> ham = {"h1", "h2", "h3", "h4"};
  const std::vector<Labelled> order = interleave(spam, ham);
  std::string seq;
  for (const Labelled& l : order) {
    seq += std::string(l.raw) + (l.is_spam ? "+" : "-") + " ";
  }
  EXPECT_EQ(seq, "s1+ h1- h2- s2+ h3- h4- ");
  EXPECT_EQ(interleave({}, ham).size(), 4U);
  EXPECT_TRUE(interleave({}, {}).empty());
}

TEST(Bulk, LearnMessagesEqualsLearningOneByOneInOrder) {
  std::vector<std::string> spam;
  std::vector<std::string> ham;
  for (int i = 0; i < 700; ++i) {       // more than one batch (kLearnBatch)
    spam.push_back(spam_mail(i % 40));  // repeats: learning is idempotent
    ham.push_back(ham_mail(i));
  }
  const std::vector<Labelled> order =
      interleave({spam.begin(), spam.end()}, {ham.begin(), ham.end()});
  Scanner one_by_one;
  std::size_t expected = 0;
  for (const Labelled& l : order) {
    expected += one_by_one.learn(mime::parse_message(l.raw), l.is_spam) ? 1 : 0;
  }
  Scanner serial;
  Scanner reversed;
  EXPECT_EQ(learn_messages(serial, order), expected);
  EXPECT_EQ(learn_messages(reversed, order, reverse_for_each), expected);
  EXPECT_EQ(expected, 740U);  // 40 distinct spam + 700 ham
  EXPECT_EQ(serial.serialize(), one_by_one.serialize());
  EXPECT_EQ(reversed.serialize(), one_by_one.serialize());
}

TEST(Bulk, ClassifyMessagesKeepsInputOrder) {
  Scanner s;
  std::vector<std::string> spam;
  std::vector<std::string> ham;
  for (int i = 0; i < 30; ++i) {
    spam.push_back(spam_mail(i));
    ham.push_back(ham_mail(i));
  }
  learn_messages(s, interleave({spam.begin(), spam.end()}, {ham.begin(), ham.end()}));
  const std::string s99 = spam_mail(99);
  const std::string h99 = ham_mail(99);
  const std::vector<std::string_view> raws = {h99, s99, h99};
  const std::vector<Evaluation> out =
      classify_messages(s, raws, {}, false, nullptr, reverse_for_each);
  ASSERT_EQ(out.size(), 3U);
  EXPECT_FALSE(out[0].is_spam());
  EXPECT_TRUE(out[1].is_spam());
  EXPECT_EQ(out[1].action, Action::AddHeaders);
  EXPECT_EQ(out[2].score(), out[0].score());
  EXPECT_EQ(out[1].score(), classify_message(s, s99, {}, false).score());
}

}  // namespace
}  // namespace gf::spamd
