#include "core/classify/logistic_fit.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace gf::classify {

namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Uniform in [0, n) (n > 0); the modulo bias is negligible for the sizes here.
std::size_t below(std::uint64_t& state, std::size_t n) {
  return static_cast<std::size_t>(splitmix64(state) % n);
}

int repeats(double factor) { return static_cast<int>(std::max(1.0, std::round(factor))); }

void one_step(LogisticModel& model, const FeatureVector& features, bool is_spam, double weight,
              bool on_error) {
  if (on_error) {
    model.train(features, is_spam, weight);
  } else {
    model.step(features, is_spam, weight);
  }
}

}  // namespace

ClassFactors class_factors(const LogisticFitOptions& o, std::uint64_t n_spam, std::uint64_t n_ham) {
  if (o.balance == FitBalance::None || n_spam == 0 || n_ham == 0) {
    return {};
  }
  const auto s = static_cast<double>(n_spam);
  const auto h = static_cast<double>(n_ham);
  if (o.balance == FitBalance::Weight) {
    return {(s + h) / (2.0 * s), (s + h) / (2.0 * h)};
  }
  const double cap = std::max(1.0, o.max_repeat);
  return {std::clamp(std::round(h / s), 1.0, cap), std::clamp(std::round(s / h), 1.0, cap)};
}

void online_step(LogisticModel& model, const FeatureVector& features, bool is_spam,
                 const ClassFactors& factors, const LogisticFitOptions& o) {
  const double f = is_spam ? factors.spam : factors.ham;
  if (o.balance != FitBalance::Oversample) {
    one_step(model, features, is_spam, f, o.on_error);
    return;
  }
  for (int k = repeats(f); k > 0; --k) {
    one_step(model, features, is_spam, 1.0, o.on_error);
  }
}

void fit_logistic(LogisticModel& model, const std::vector<FitExample>& examples,
                  const LogisticFitOptions& o, const ClassFactors& factors, int epochs) {
  // Each pass visits every example once (Oversample: its class's repeat count times), in an
  // order shuffled afresh from the seed.
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < examples.size(); ++i) {
    if (examples[i].features == nullptr) {
      continue;
    }
    const int n = o.balance == FitBalance::Oversample
                      ? repeats(examples[i].is_spam ? factors.spam : factors.ham)
                      : 1;
    order.insert(order.end(), static_cast<std::size_t>(n), i);
  }
  std::uint64_t state = o.seed;
  for (int e = 0; e < epochs; ++e) {
    for (std::size_t i = order.size(); i > 1; --i) {
      std::swap(order[i - 1], order[below(state, i)]);
    }
    for (const std::size_t i : order) {
      const FitExample& x = examples[i];
      const double w =
          o.balance == FitBalance::Weight ? (x.is_spam ? factors.spam : factors.ham) : 1.0;
      one_step(model, *x.features, x.is_spam, w, o.on_error);
    }
  }
}

FitReplay::FitReplay(const LogisticFitOptions& o)
    : max_(std::max<std::size_t>(1, o.max_examples)), state_(o.seed ^ 0x5EEDULL) {}

void FitReplay::add(FeatureVector features, bool is_spam) {
  ++seen_;
  if (kept_.size() < max_) {
    kept_.push_back(Kept{std::move(features), is_spam});
    return;
  }
  // Reservoir sampling (Algorithm R): the k-th example replaces a kept one with probability
  // max / k, so every example learned is kept with the same probability.
  const std::size_t j = below(state_, static_cast<std::size_t>(seen_));
  if (j < max_) {
    kept_[j] = Kept{std::move(features), is_spam};
  }
}

std::vector<FitExample> FitReplay::examples() const {
  std::vector<FitExample> out;
  out.reserve(kept_.size());
  for (const Kept& k : kept_) {
    out.push_back(FitExample{&k.features, k.is_spam});
  }
  return out;
}

}  // namespace gf::classify
