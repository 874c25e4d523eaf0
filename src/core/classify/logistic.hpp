#pragma once
// LogisticModel: online logistic regression over hashed features.
//
// Weights live in a fixed array of 2^hash_bits floats indexed by the low bits of the feature id
// (memory is bounded whatever is trained: 2^20 floats = 4 MiB, twice that with AdaGrad state).
// Each train() call is one stochastic gradient step on the log loss with per-feature AdaGrad
// learning rates (or a 1/(1 + decay*t) schedule), a small L2 penalty on the touched weights,
// and optional train-on-error: examples already classified with confidence beyond `confident`
// are skipped, which keeps a long-running online model from over-fitting the easy cases.
// Feature values are binarised (or log-scaled) and scaled to unit L2 norm, so long and short
// comments move the weights by comparable amounts.
//
// Threading: a value; callers serialise access. Errors: deserialize() validates everything and
// returns a Result; nothing else fails.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/classify/features.hpp"
#include "core/common/result.hpp"

namespace gf::classify {

struct LogisticOptions {
  int hash_bits = 20;          // 16..24
  double learning_rate = 0.4;  // AdaGrad base rate, or the initial rate of the schedule
  double decay = 1e-3;         // schedule without AdaGrad: rate / (1 + decay * updates)
  double l2 = 1e-3;            // applied to the weights an example touches
  double confident = 0.0;      // skip training when already this close to the label; 0 = never
  bool adagrad = true;
  bool binary = true;     // feature value 1 for presence; else log(1 + count)
  bool normalize = true;  // scale each example's feature values to unit L2 norm
  // With normalize: character n-grams (FeatureGroup::CharNgram) are normalised on their own to
  // this L2 norm, the other features to 1 (a union of two unit-norm vectors, the usual way to
  // combine word and character features). 0 = one norm over all features, as before.
  double ngram_weight = 0.0;
};

class LogisticModel {
 public:
  explicit LogisticModel(LogisticOptions options = {});

  // `weight` scales this example's gradient (class weighting: a rarely trained class gets
  // steps as large as if it were as common as the other); 1 is the plain log loss.
  // `offset` is added to the margin for the train-on-error test only: the example is skipped
  // when sigmoid(margin + offset) is within `confident` of its label, so a caller that scores
  // with a shifted margin (the mail scanner takes the training class ratio out) trains on error
  // on the scale it decides on. The gradient is the plain log loss's, without the offset.
  void train(const FeatureVector& features, bool is_spam, double weight = 1.0, double offset = 0.0);
  // One log-loss step whatever `confident` says (no train-on-error test): the step of a model
  // trained to convergence over several passes (logistic_fit.hpp). `weight` as for train().
  void step(const FeatureVector& features, bool is_spam, double weight = 1.0);
  // Probability of spam in [0, 1].
  [[nodiscard]] double score(const FeatureVector& features) const;
  // The n features with the largest |weight * value|, largest first; positive means spam.
  [[nodiscard]] std::vector<Contribution> top_contributions(const FeatureVector& features,
                                                            std::size_t n) const;

  [[nodiscard]] std::string serialize() const;
  [[nodiscard]] static Result<LogisticModel> deserialize(std::string_view bytes);

  [[nodiscard]] const LogisticOptions& options() const { return options_; }
  [[nodiscard]] std::uint64_t examples() const { return examples_; }
  [[nodiscard]] std::uint64_t updates() const { return updates_; }
  // Weights that are not zero (features the model has learned something about). O(2^hash_bits).
  [[nodiscard]] std::size_t nonzero_weights() const;

 private:
  struct Term {
    std::size_t index;
    double x;
  };
  // A feature's value before normalisation (1, or log(1 + count)).
  [[nodiscard]] double value_of(const Feature& f) const;
  // Its normalisation block: 1 for character n-grams normalised on their own, else 0.
  [[nodiscard]] std::size_t block_of(const Feature& f) const;
  // What each block's values are multiplied by, given the blocks' squared norms.
  [[nodiscard]] std::array<double, 2> block_scales(const std::array<double, 2>& norm) const;
  [[nodiscard]] std::vector<Term> terms(const FeatureVector& features) const;
  [[nodiscard]] double margin(const std::vector<Term>& terms) const;
  // The gradient step of the weighted log loss at margin z for these terms.
  void update(const std::vector<Term>& terms, double z, bool is_spam, double weight);

  LogisticOptions options_;
  std::uint64_t mask_;
  std::vector<float> weights_;
  std::vector<float> accum_;  // AdaGrad sum of squared gradients (empty without AdaGrad)
  double bias_ = 0.0;
  double bias_accum_ = 0.0;
  std::uint64_t examples_ = 0;
  std::uint64_t updates_ = 0;
};

}  // namespace gf::classify
