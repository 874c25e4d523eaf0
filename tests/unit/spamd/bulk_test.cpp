#include "core/spamd/bulk.hpp"

#include <gtest/gtest.h>

#include <optional>
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

ScannerOptions fitted_options(int epochs) {
  ScannerOptions o = default_scanner_options();
  o.logistic_fit.epochs = epochs;
  o.logistic_fit.balance = classify::FitBalance::Oversample;
  return o;
}

std::vector<Labelled> lopsided_order(std::vector<std::string>& spam,
                                     std::vector<std::string>& ham) {
  for (int i = 0; i < 60; ++i) {
    spam.push_back(spam_mail(i));
  }
  for (int i = 0; i < 6; ++i) {
    ham.push_back(ham_mail(i));
  }
  return interleave({spam.begin(), spam.end()}, {ham.begin(), ham.end()});
}

TEST(Bulk, LogisticFitIsTellStepsThenSeededPasses) {
  std::vector<std::string> spam;
  std::vector<std::string> ham;
  const std::vector<Labelled> order = lopsided_order(spam, ham);
  // What a daemon's TELLs do (one balanced log-loss step each), then the extra passes.
  Scanner by_hand(fitted_options(4));
  std::vector<classify::FeatureVector> kept;
  std::vector<bool> labels;
  for (const Labelled& l : order) {
    const Scanner::Prepared p = by_hand.prepare(mime::parse_message(l.raw));
    ASSERT_TRUE(by_hand.learn(p, l.is_spam));
    kept.push_back(p.features);
    labels.push_back(l.is_spam);
  }
  std::vector<classify::FitExample> examples;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    examples.push_back({&kept[i], labels[i]});
  }
  by_hand.refit_logistic(examples);
  Scanner bulk(fitted_options(4));
  Scanner bulk_reversed(fitted_options(4));
  EXPECT_EQ(learn_messages(bulk, order), order.size());
  EXPECT_EQ(learn_messages(bulk_reversed, order, reverse_for_each), order.size());
  EXPECT_EQ(bulk.serialize(), by_hand.serialize());
  EXPECT_EQ(bulk_reversed.serialize(), by_hand.serialize());
  Scanner one_pass(fitted_options(1));  // TELL only: no extra passes
  learn_messages(one_pass, order);
  EXPECT_NE(one_pass.serialize(), bulk.serialize());
  Scanner on_error;  // the default, trained on error
  learn_messages(on_error, order);
  EXPECT_NE(on_error.serialize(), bulk.serialize());
}

TEST(Bulk, LogisticFitKeepsTheModelFormat) {
  std::vector<std::string> spam;
  std::vector<std::string> ham;
  const std::vector<Labelled> order = lopsided_order(spam, ham);
  Scanner fitted(fitted_options(3));
  learn_messages(fitted, order);
  const std::string blob = fitted.serialize();
  // A training setting, not stored: the model loads under either option and scores as before,
  // and a model trained on error loads under the fit option.
  auto as_default = Scanner::deserialize(blob, default_scanner_options());
  auto as_fitted = Scanner::deserialize(blob, fitted_options(3));
  ASSERT_TRUE(as_default.has_value());
  ASSERT_TRUE(as_fitted.has_value());
  for (const std::string& raw : {spam_mail(70), ham_mail(70)}) {
    const mime::Message m = mime::parse_message(raw);
    EXPECT_DOUBLE_EQ(as_default->probability(m), fitted.probability(m));
    EXPECT_DOUBLE_EQ(as_fitted->probability(m), fitted.probability(m));
  }
  EXPECT_EQ(as_default->spam_learned(), 60U);
  EXPECT_EQ(as_fitted->ham_learned(), 6U);
  Scanner old;
  learn_messages(old, order);
  auto old_as_fitted = Scanner::deserialize(old.serialize(), fitted_options(3));
  ASSERT_TRUE(old_as_fitted.has_value());
  EXPECT_EQ(old_as_fitted->options().logistic_fit.epochs, 3);
}

TEST(Bulk, ShiftFisherOnlyLeavesTheLogisticHalfUncorrected) {
  std::vector<std::string> spam;
  std::vector<std::string> ham;
  const std::vector<Labelled> order = lopsided_order(spam, ham);
  const std::string probe = ham_mail(50);
  double p[2] = {0.0, 0.0};
  for (const double shift : {0.0, 1.0}) {
    ScannerOptions o = fitted_options(3);
    o.engine = classify::Engine::Logistic;
    o.shift_fisher_only = true;
    o.ratio_shift = shift;
    Scanner s(o);
    learn_messages(s, order);
    p[shift == 0.0 ? 0 : 1] = s.probability(mime::parse_message(probe));
  }
  EXPECT_DOUBLE_EQ(p[0], p[1]);  // a balanced logistic half has no training prior to remove
  ScannerOptions o = fitted_options(3);
  o.engine = classify::Engine::Logistic;
  Scanner shifted(o);  // the ratio correction on the whole (60:6) moves it towards ham
  learn_messages(shifted, order);
  EXPECT_LT(shifted.probability(mime::parse_message(probe)), p[0]);
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

// The stream scans each message with the model as it stands, then auto-learns it: the same as
// scan + auto_learn_class + learn_auto one message at a time.
TEST(Bulk, ClassifyStreamAutoLearnsInArrivalOrder) {
  ScannerOptions o = default_scanner_options();
  o.auto_learn.enabled = true;
  o.auto_learn.counts_only = true;
  o.auto_learn.ham_below = 0.1;
  o.auto_learn.spam_above = 0.9;
  Scanner stream(o);
  for (int i = 0; i < 300; ++i) {
    stream.learn(mime::parse_message(spam_mail(i)), true);
    if (i % 25 == 0) {
      stream.learn(mime::parse_message(ham_mail(i)), false);
    }
  }
  Scanner by_hand = stream;
  std::vector<std::string> mails;
  for (int i = 1000; i < 1040; ++i) {
    mails.push_back(i % 4 == 0 ? spam_mail(i) : ham_mail(i));
  }
  const std::vector<std::string_view> raws(mails.begin(), mails.end());
  std::vector<std::optional<bool>> learned;
  const std::vector<Evaluation> out = classify_stream(stream, raws, {}, &learned);
  ASSERT_EQ(out.size(), raws.size());
  ASSERT_EQ(learned.size(), raws.size());
  std::size_t hams = 0;
  for (std::size_t i = 0; i < raws.size(); ++i) {
    Scanner::Prepared keep;
    const Evaluation e = evaluate(by_hand, mime::parse_message(raws[i]), {}, false, nullptr, &keep);
    EXPECT_EQ(e.score(), out[i].score()) << i;
    const std::optional<bool> label = by_hand.auto_learn_class(e.analysis, keep);
    EXPECT_EQ(label, learned[i]) << i;
    if (label) {
      by_hand.learn_auto(keep, *label);
      EXPECT_FALSE(*label);  // spam is the common class here: only ham is auto-learned
      ++hams;
    }
  }
  EXPECT_GT(hams, 20U);
  EXPECT_EQ(stream.serialize(), by_hand.serialize());
  EXPECT_EQ(stream.ham_learned(), 12U);  // the labelled counts are unchanged
}

}  // namespace
}  // namespace gf::spamd
