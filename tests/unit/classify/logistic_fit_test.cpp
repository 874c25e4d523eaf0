#include "core/classify/logistic_fit.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/classify/tokenizer.hpp"

namespace gf::classify {
namespace {

// Spam and ham share filler words; only the topic words tell them apart.
struct Toy {
  std::vector<FeatureVector> features;
  std::vector<bool> spam;
  [[nodiscard]] std::vector<FitExample> examples() const {
    std::vector<FitExample> out;
    for (std::size_t i = 0; i < features.size(); ++i) {
      out.push_back({&features[i], spam[i]});
    }
    return out;
  }
  [[nodiscard]] double log_loss(const LogisticModel& m) const {
    double sum = 0.0;
    for (std::size_t i = 0; i < features.size(); ++i) {
      const double p = m.score(features[i]);
      sum -= std::log(spam[i] ? p : 1.0 - p);
    }
    return sum / static_cast<double>(features.size());
  }
};

Toy toy(int n_spam, int n_ham) {
  const std::vector<std::string> spam_words{"subscribe", "cheap", "followers", "click", "free"};
  const std::vector<std::string> ham_words{"song", "beautiful", "voice", "chorus", "memories"};
  const std::vector<std::string> filler{"the", "this", "is", "my", "so", "really", "video"};
  Toy t;
  for (int i = 0; i < std::max(n_spam, n_ham); ++i) {
    const auto k = static_cast<std::size_t>(i);
    if (i < n_spam) {
      t.features.push_back(tokenize(filler[k % 7] + " " + spam_words[k % 5] + " " +
                                    filler[(k + 3) % 7] + " " + spam_words[(k + 2) % 5]));
      t.spam.push_back(true);
    }
    if (i < n_ham) {
      t.features.push_back(tokenize(filler[(k + 1) % 7] + " " + ham_words[k % 5] + " " +
                                    filler[(k + 5) % 7] + " " + ham_words[(k + 3) % 5]));
      t.spam.push_back(false);
    }
  }
  return t;
}

LogisticOptions on_error() {
  LogisticOptions o;
  o.confident = 0.1;
  return o;
}

TEST(LogisticFit, ClassFactorsAreTheBalancedWeightsOrRepeats) {
  LogisticFitOptions o;
  o.balance = FitBalance::None;
  EXPECT_DOUBLE_EQ(class_factors(o, 900, 100).spam, 1.0);
  EXPECT_DOUBLE_EQ(class_factors(o, 900, 100).ham, 1.0);
  o.balance = FitBalance::Weight;  // n / (2 n_c): the two classes weigh the same in all
  EXPECT_DOUBLE_EQ(class_factors(o, 900, 100).spam, 1000.0 / 1800.0);
  EXPECT_DOUBLE_EQ(class_factors(o, 900, 100).ham, 5.0);
  o.balance = FitBalance::Oversample;
  EXPECT_DOUBLE_EQ(class_factors(o, 900, 100).spam, 1.0);
  EXPECT_DOUBLE_EQ(class_factors(o, 900, 100).ham, 9.0);
  EXPECT_DOUBLE_EQ(class_factors(o, 10, 35).spam, 4.0);  // round(3.5)
  o.max_repeat = 5.0;
  EXPECT_DOUBLE_EQ(class_factors(o, 900, 10).ham, 5.0);
  EXPECT_DOUBLE_EQ(class_factors(o, 900, 0).ham, 1.0);  // a class missing: no balancing yet
}

TEST(LogisticFit, StepIgnoresTheTrainOnErrorMargin) {
  const Toy t = toy(20, 20);
  LogisticModel m(on_error());
  for (int e = 0; e < 20; ++e) {
    for (const FitExample& x : t.examples()) {
      m.train(*x.features, x.is_spam);
    }
  }
  const std::uint64_t updates = m.updates();
  m.train(t.features[0], t.spam[0]);  // confident by now: train() skips it
  EXPECT_EQ(m.updates(), updates);
  const double before = m.score(t.features[0]);
  m.step(t.features[0], t.spam[0]);  // step() does not
  EXPECT_EQ(m.updates(), updates + 1);
  EXPECT_GT(m.score(t.features[0]), before);
}

TEST(LogisticFit, MorePassesLowerTheLogLossPastTrainOnError) {
  const Toy t = toy(30, 30);
  LogisticFitOptions o;
  o.balance = FitBalance::None;
  LogisticModel on_error_model(on_error());
  LogisticFitOptions control = o;
  control.on_error = true;
  fit_logistic(on_error_model, t.examples(), control, {}, 10);
  LogisticModel one(on_error());
  fit_logistic(one, t.examples(), o, {}, 1);
  LogisticModel ten(on_error());
  fit_logistic(ten, t.examples(), o, {}, 10);
  // Train-on-error stops at the margin; the log loss keeps going down with the passes.
  EXPECT_LT(t.log_loss(ten), t.log_loss(one));
  EXPECT_LT(t.log_loss(ten), t.log_loss(on_error_model));
  EXPECT_LT(t.log_loss(ten), 0.5 * t.log_loss(on_error_model));  // 0.017 against 0.083
}

TEST(LogisticFit, SameSeedSameWeights) {
  const Toy t = toy(25, 15);
  LogisticFitOptions o;
  o.seed = 7;
  const ClassFactors f = class_factors(o, 25, 15);
  LogisticModel a;
  LogisticModel b;
  LogisticModel c;
  fit_logistic(a, t.examples(), o, f, 3);
  fit_logistic(b, t.examples(), o, f, 3);
  o.seed = 8;
  fit_logistic(c, t.examples(), o, f, 3);
  EXPECT_EQ(a.serialize(), b.serialize());
  EXPECT_NE(a.serialize(), c.serialize());  // another shuffle, other weights
}

TEST(LogisticFit, BalancingKeepsTheRareClassFromBeingSwamped) {
  // 40 spams to 4 hams. The filler words are in both classes, ten times as often in spam: the
  // plain log loss makes them spam evidence, so a ham of filler and one ham word leans to spam.
  // Balanced, the filler is about neutral and the ham word decides.
  const Toy t = toy(40, 4);
  const FeatureVector ham = tokenize("this is really my video so the voice");
  const FeatureVector spam = tokenize("this is really my video so the followers");
  LogisticFitOptions plain;
  plain.balance = FitBalance::None;
  LogisticModel p;
  fit_logistic(p, t.examples(), plain, class_factors(plain, 40, 4), 10);
  for (const FitBalance b : {FitBalance::Oversample, FitBalance::Weight}) {
    LogisticFitOptions o;
    o.balance = b;
    LogisticModel m;
    fit_logistic(m, t.examples(), o, class_factors(o, 40, 4), 10);
    EXPECT_LT(m.score(ham), p.score(ham)) << static_cast<int>(b);
    EXPECT_LT(m.score(ham), 0.5) << static_cast<int>(b);
    EXPECT_GT(m.score(spam), 0.5) << static_cast<int>(b);
  }
  EXPECT_GT(p.score(ham), 0.5);
}

TEST(LogisticFit, OnlineStepRepeatsTheRareClass) {
  const Toy t = toy(1, 1);
  LogisticFitOptions o;  // Oversample
  LogisticModel m;
  online_step(m, t.features[1], false, class_factors(o, 90, 10), o);
  EXPECT_EQ(m.updates(), 9U);
  online_step(m, t.features[0], true, class_factors(o, 90, 10), o);
  EXPECT_EQ(m.updates(), 10U);
  o.balance = FitBalance::Weight;  // one step, scaled
  online_step(m, t.features[1], false, class_factors(o, 90, 10), o);
  EXPECT_EQ(m.updates(), 11U);
}

TEST(LogisticFit, ReplayIsBoundedAndDeterministic) {
  LogisticFitOptions o;
  o.max_examples = 10;
  FitReplay a(o);
  FitReplay b(o);
  for (int i = 0; i < 100; ++i) {
    a.add(tokenize("message " + std::to_string(i)), i % 2 == 0);
    b.add(tokenize("message " + std::to_string(i)), i % 2 == 0);
  }
  ASSERT_EQ(a.size(), 10U);
  const auto xa = a.examples();
  const auto xb = b.examples();
  int late = 0;  // reservoir sampling keeps later messages too, not only the first ten
  for (std::size_t i = 0; i < xa.size(); ++i) {
    EXPECT_EQ(*xa[i].features, *xb[i].features);
    late += *xa[i].features != tokenize("message " + std::to_string(i)) ? 1 : 0;
  }
  EXPECT_GT(late, 0);
}

}  // namespace
}  // namespace gf::classify
