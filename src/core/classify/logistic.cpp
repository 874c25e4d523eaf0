#include "core/classify/logistic.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/classify/model_io.hpp"
#include "core/common/check.hpp"

namespace gf::classify {

namespace {

constexpr int kMinBits = 16;
constexpr int kMaxBits = 24;
constexpr double kAdagradEpsilon = 1e-6;
constexpr double kMaxMargin = 35.0;
constexpr unsigned kNgramWeightFlag = 8;
constexpr double kMaxNgramWeight = 16.0;  // keeps exp() finite; probabilities saturate long before

double sigmoid(double z) {
  z = std::clamp(z, -kMaxMargin, kMaxMargin);
  return 1.0 / (1.0 + std::exp(-z));
}

bool finite(double v) { return std::isfinite(v); }

LogisticOptions sanitize(LogisticOptions o) {
  o.hash_bits = std::clamp(o.hash_bits, kMinBits, kMaxBits);
  o.ngram_weight =
      std::isfinite(o.ngram_weight) ? std::clamp(o.ngram_weight, 0.0, kMaxNgramWeight) : 0.0;
  return o;
}

}  // namespace

LogisticModel::LogisticModel(LogisticOptions options)
    : options_(sanitize(options)),
      mask_((std::uint64_t{1} << options_.hash_bits) - 1),
      weights_(std::size_t{1} << options_.hash_bits, 0.0F),
      accum_(options_.adagrad ? weights_.size() : 0, 0.0F) {}

double LogisticModel::value_of(const Feature& f) const {
  return options_.binary ? 1.0 : std::log1p(static_cast<double>(f.value));
}

std::size_t LogisticModel::block_of(const Feature& f) const {
  const bool split = options_.normalize && options_.ngram_weight > 0.0;
  return split && f.group == FeatureGroup::CharNgram ? 1 : 0;
}

std::array<double, 2> LogisticModel::block_scales(const std::array<double, 2>& norm) const {
  if (!options_.normalize) {
    return {1.0, 1.0};
  }
  return {norm[0] > 0.0 ? 1.0 / std::sqrt(norm[0]) : 0.0,
          norm[1] > 0.0 ? options_.ngram_weight / std::sqrt(norm[1]) : 0.0};
}

std::vector<LogisticModel::Term> LogisticModel::terms(const FeatureVector& features) const {
  std::vector<Term> out;
  out.reserve(features.size());
  std::array<double, 2> norm{0.0, 0.0};
  for (const auto& f : features) {
    if (f.value <= 0.0F) {
      continue;
    }
    const double x = value_of(f);
    out.push_back(Term{static_cast<std::size_t>(f.id & mask_), x});
    norm[block_of(f)] += x * x;
  }
  if (!options_.normalize) {
    return out;
  }
  const std::array<double, 2> scale = block_scales(norm);
  std::size_t k = 0;
  for (const auto& f : features) {
    if (f.value > 0.0F) {
      out[k++].x *= scale[block_of(f)];
    }
  }
  return out;
}

double LogisticModel::margin(const std::vector<Term>& ts) const {
  double z = bias_;
  for (const auto& t : ts) {
    z += static_cast<double>(weights_[t.index]) * t.x;
  }
  return z;
}

double LogisticModel::score(const FeatureVector& features) const {
  // margin(terms(features)) in one pass and without a vector: each block's sum of weights is
  // scaled by its norm at the end (checks call this; train() needs the terms themselves).
  std::array<double, 2> sum{0.0, 0.0};
  std::array<double, 2> norm{0.0, 0.0};
  for (const auto& f : features) {
    if (f.value <= 0.0F) {
      continue;
    }
    const double x = value_of(f);
    const std::size_t block = block_of(f);
    sum[block] += static_cast<double>(weights_[static_cast<std::size_t>(f.id & mask_)]) * x;
    norm[block] += x * x;
  }
  const std::array<double, 2> scale = block_scales(norm);
  return sigmoid(bias_ + (sum[0] * scale[0] + sum[1] * scale[1]));
}

void LogisticModel::train(const FeatureVector& features, bool is_spam, double weight,
                          double offset) {
  ++examples_;
  auto ts = terms(features);
  const double z = margin(ts);
  const double y = is_spam ? 1.0 : 0.0;
  if (options_.confident > 0.0 && std::abs(sigmoid(z + offset) - y) <= options_.confident) {
    return;
  }
  update(ts, z, is_spam, weight);
}

void LogisticModel::step(const FeatureVector& features, bool is_spam, double weight) {
  ++examples_;
  auto ts = terms(features);
  update(ts, margin(ts), is_spam, weight);
}

void LogisticModel::update(const std::vector<Term>& ts, double z, bool is_spam, double weight) {
  ++updates_;
  const double g = (sigmoid(z) - (is_spam ? 1.0 : 0.0)) * weight;
  double rate = options_.adagrad ? options_.learning_rate
                                 : options_.learning_rate /
                                       (1.0 + options_.decay * static_cast<double>(updates_));
  for (const auto& t : ts) {
    double w = weights_[t.index];
    double gi = g * t.x + options_.l2 * w;
    double step = rate;
    if (options_.adagrad) {
      accum_[t.index] += static_cast<float>(gi * gi);
      step = rate / (std::sqrt(static_cast<double>(accum_[t.index])) + kAdagradEpsilon);
    }
    weights_[t.index] = static_cast<float>(w - step * gi);
  }
  double step = rate;
  if (options_.adagrad) {
    bias_accum_ += g * g;
    step = rate / (std::sqrt(bias_accum_) + kAdagradEpsilon);
  }
  bias_ -= step * g;
}

std::vector<Contribution> LogisticModel::top_contributions(const FeatureVector& features,
                                                           std::size_t n) const {
  auto ts = terms(features);
  std::vector<Contribution> out;
  out.reserve(ts.size());
  std::size_t k = 0;
  for (const auto& f : features) {
    if (f.value <= 0.0F) {
      continue;
    }
    out.push_back(Contribution{f.id, static_cast<double>(weights_[ts[k].index]) * ts[k].x});
    ++k;
  }
  auto by_size = [](const Contribution& a, const Contribution& b) {
    return std::abs(a.weight) > std::abs(b.weight);
  };
  n = std::min(n, out.size());
  std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n), out.end(), by_size);
  out.resize(n);
  return out;
}

std::string LogisticModel::serialize() const {
  ByteWriter w;
  w.u8(static_cast<std::uint8_t>(options_.hash_bits));
  // Flag 8 (added with ngram_weight) means an f64 ngram_weight follows bias_accum; without it
  // the bytes are those of the original format, which deserialize() still reads.
  const bool split = options_.ngram_weight != 0.0;
  w.u8(static_cast<std::uint8_t>((options_.adagrad ? 1 : 0) | (options_.binary ? 2 : 0) |
                                 (options_.normalize ? 4 : 0) | (split ? kNgramWeightFlag : 0)));
  w.f64(options_.learning_rate);
  w.f64(options_.decay);
  w.f64(options_.l2);
  w.f64(options_.confident);
  w.u64(examples_);
  w.u64(updates_);
  w.f64(bias_);
  w.f64(bias_accum_);
  if (split) {
    w.f64(options_.ngram_weight);
  }
  std::uint32_t nonzero = 0;
  for (std::size_t i = 0; i < weights_.size(); ++i) {
    nonzero += (weights_[i] != 0.0F || (!accum_.empty() && accum_[i] != 0.0F)) ? 1 : 0;
  }
  w.u32(nonzero);
  for (std::size_t i = 0; i < weights_.size(); ++i) {
    if (weights_[i] != 0.0F || (!accum_.empty() && accum_[i] != 0.0F)) {
      w.u32(static_cast<std::uint32_t>(i));
      w.f32(weights_[i]);
      w.f32(accum_.empty() ? 0.0F : accum_[i]);
    }
  }
  return frame(ModelKind::Logistic, w.view());
}

Result<LogisticModel> LogisticModel::deserialize(std::string_view bytes) {
  auto payload = unframe(ModelKind::Logistic, bytes);
  if (!payload) {
    return tl::unexpected(payload.error());
  }
  ByteReader r(*payload);
  std::uint8_t bits = 0;
  std::uint8_t flags = 0;
  LogisticOptions o;
  std::uint64_t examples = 0;
  std::uint64_t updates = 0;
  double bias = 0.0;
  double bias_accum = 0.0;
  std::uint32_t nonzero = 0;
  if (!r.u8(bits) || !r.u8(flags) || !r.f64(o.learning_rate) || !r.f64(o.decay) || !r.f64(o.l2) ||
      !r.f64(o.confident) || !r.u64(examples) || !r.u64(updates) || !r.f64(bias) ||
      !r.f64(bias_accum) || ((flags & kNgramWeightFlag) != 0 && !r.f64(o.ngram_weight)) ||
      !r.u32(nonzero)) {
    return fail(Errc::InvalidInput, "logistic: truncated header");
  }
  if (bits < kMinBits || bits > kMaxBits || (flags & ~(7U | kNgramWeightFlag)) != 0) {
    return fail(Errc::InvalidInput, "logistic: bad hash size or flags");
  }
  if (!finite(o.learning_rate) || !finite(o.decay) || !finite(o.l2) || !finite(o.confident) ||
      !finite(o.ngram_weight) || o.ngram_weight < 0.0 || o.ngram_weight > kMaxNgramWeight ||
      !finite(bias) || !finite(bias_accum) || bias_accum < 0.0 || updates > examples) {
    return fail(Errc::InvalidInput, "logistic: bad parameters");
  }
  o.hash_bits = bits;
  o.adagrad = (flags & 1U) != 0;
  o.binary = (flags & 2U) != 0;
  o.normalize = (flags & 4U) != 0;
  if (nonzero > (std::uint64_t{1} << bits) || r.remaining() != std::size_t{nonzero} * 12) {
    return fail(Errc::InvalidInput, "logistic: weight table size mismatch");
  }
  LogisticModel model(o);
  model.examples_ = examples;
  model.updates_ = updates;
  model.bias_ = bias;
  model.bias_accum_ = bias_accum;
  std::int64_t previous = -1;
  for (std::uint32_t k = 0; k < nonzero; ++k) {
    std::uint32_t index = 0;
    float weight = 0.0F;
    float accum = 0.0F;
    GF_CHECK(r.u32(index) && r.f32(weight) && r.f32(accum),
             "the table size check above covers every entry");
    if (static_cast<std::int64_t>(index) <= previous || index > model.mask_ ||
        !std::isfinite(weight) || !std::isfinite(accum) || accum < 0.0F ||
        (!o.adagrad && accum != 0.0F)) {
      return fail(Errc::InvalidInput, "logistic: bad weight entry");
    }
    previous = index;
    model.weights_[index] = weight;
    if (o.adagrad) {
      model.accum_[index] = accum;
    }
  }
  return model;
}

std::size_t LogisticModel::nonzero_weights() const {
  return static_cast<std::size_t>(
      std::count_if(weights_.begin(), weights_.end(), [](float w) { return w != 0.0F; }));
}

}  // namespace gf::classify
