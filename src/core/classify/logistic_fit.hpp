#pragma once
// fit_logistic: logistic regression trained on the log loss to (near) convergence, the
// alternative to one train-on-error step per example.
//
// Flow: the caller keeps the feature vectors of the examples it learned (bounded: FitReplay) and
// runs `epochs` passes over them, each in a fresh seeded shuffle, every example a plain log-loss
// step (LogisticModel::step: no train-on-error skip) scaled or repeated by its class's balance
// weight. With FitBalance::Weight the gradient of class c is multiplied by n / (2 n_c), the
// "balanced" class weight (the inverse of the class's share, as scikit-learn's
// class_weight="balanced"); with Oversample each example of the rarer class is repeated
// round(n_common / n_rare) times (at most max_repeat) in every pass, the same objective with
// unit-sized steps, which suits AdaGrad's per-feature rates better. The L2 penalty is the
// model's own (LogisticOptions::l2). An online learner (one TELL at a time) takes one such step
// per message: online_step().
//
// Threading: values and free functions; the caller serialises access to the model. Errors:
// none. Deterministic: the same examples, options and seed give the same weights on every
// platform (the shuffle is our own splitmix64 Fisher-Yates, not std::shuffle).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/classify/features.hpp"
#include "core/classify/logistic.hpp"

namespace gf::classify {

enum class FitBalance : std::uint8_t {
  None = 0,        // the plain log loss: the model learns the training ratio as its prior
  Weight = 1,      // each class's gradient times n / (2 n_c)
  Oversample = 2,  // the rarer class repeated round(n_common / n_rare) times per pass
};

struct LogisticFitOptions {
  int epochs = 0;  // passes over a bulk learn's messages; 0 = off (one train-on-error step)
  FitBalance balance = FitBalance::Oversample;
  double max_repeat = 50.0;          // Oversample: at most this many steps per example per pass
  std::uint64_t seed = 1;            // the shuffle of each pass
  std::size_t max_examples = 20000;  // FitReplay keeps at most this many (a seeded sample)
  // The control: every step keeps the model's train-on-error test (LogisticOptions::confident),
  // i.e. several passes of the on-error training instead of the log loss to convergence.
  bool on_error = false;
};

// The weight (Weight) or repeat count (Oversample) of each class for n_spam and n_ham learned;
// {1, 1} with None or while a class is missing.
struct ClassFactors {
  double spam = 1.0;
  double ham = 1.0;
};
[[nodiscard]] ClassFactors class_factors(const LogisticFitOptions& o, std::uint64_t n_spam,
                                         std::uint64_t n_ham);

// One example's share of the objective, as an online learner applies it: a log-loss step
// weighted (Weight) or repeated (Oversample) by its class factor.
void online_step(LogisticModel& model, const FeatureVector& features, bool is_spam,
                 const ClassFactors& factors, const LogisticFitOptions& o);

struct FitExample {
  const FeatureVector* features = nullptr;
  bool is_spam = false;
};

// `epochs` passes over `examples` (balance and seed from `o`, class factors from `factors`).
void fit_logistic(LogisticModel& model, const std::vector<FitExample>& examples,
                  const LogisticFitOptions& o, const ClassFactors& factors, int epochs);

// The examples a bulk learn keeps for its extra passes: all of them up to max_examples, then a
// seeded reservoir sample, so memory stays bounded whatever is learned.
class FitReplay {
 public:
  explicit FitReplay(const LogisticFitOptions& o);
  void add(FeatureVector features, bool is_spam);
  [[nodiscard]] std::vector<FitExample> examples() const;
  [[nodiscard]] std::size_t size() const { return kept_.size(); }

 private:
  struct Kept {
    FeatureVector features;
    bool is_spam = false;
  };
  std::size_t max_;
  std::uint64_t state_;
  std::uint64_t seen_ = 0;
  std::vector<Kept> kept_;
};

}  // namespace gf::classify
