#include "core/classify/fisher.hpp"

#include <algorithm>
#include <cmath>

#include "core/classify/model_io.hpp"
#include "core/common/check.hpp"

namespace gf::classify {

namespace {

constexpr double kProbabilityFloor = 1e-6;

// Survival function of the chi-square distribution with an even number of degrees of freedom.
double chi2_q(double chi, std::size_t degrees) {
  double m = chi / 2.0;
  double term = std::exp(-m);
  double sum = term;
  for (std::size_t i = 1; i < degrees / 2; ++i) {
    term *= m / static_cast<double>(i);
    sum += term;
  }
  return std::min(sum, 1.0);
}

bool valid_options(const FisherOptions& o) {
  return std::isfinite(o.robs) && o.robs > 0.0 && std::isfinite(o.robx) && o.robx > 0.0 &&
         o.robx < 1.0 && std::isfinite(o.min_dev) && o.min_dev >= 0.0 && o.min_dev < 0.5;
}

}  // namespace

FisherModel::FisherModel(FisherOptions options) : options_(options) {}

void FisherModel::train(const FeatureVector& features, bool is_spam) {
  (is_spam ? spam_messages_ : ham_messages_) += 1;
  for (const auto& f : features) {
    auto& c = counts_[f.id];
    (is_spam ? c.spam : c.ham) += 1;
  }
}

void FisherModel::forget(const FeatureVector& features, bool is_spam) {
  auto& messages = is_spam ? spam_messages_ : ham_messages_;
  if (messages == 0) {
    return;
  }
  --messages;
  for (const auto& f : features) {
    auto it = counts_.find(f.id);
    if (it == counts_.end()) {
      continue;
    }
    auto& n = is_spam ? it->second.spam : it->second.ham;
    n = n > 0 ? n - 1 : 0;
    if (it->second.spam == 0 && it->second.ham == 0) {
      counts_.erase(it);
    }
  }
}

double FisherModel::token_probability(FeatureId id) const {
  auto it = counts_.find(id);
  if (it == counts_.end()) {
    return -1.0;
  }
  double spam_ratio =
      it->second.spam / static_cast<double>(std::max<std::uint64_t>(spam_messages_, 1));
  double ham_ratio =
      it->second.ham / static_cast<double>(std::max<std::uint64_t>(ham_messages_, 1));
  double n = static_cast<double>(it->second.spam) + it->second.ham;
  if (options_.balanced_strength) {
    const double rarer =
        static_cast<double>(std::max<std::uint64_t>(std::min(spam_messages_, ham_messages_), 1));
    n = (spam_ratio + ham_ratio) * rarer;
  }
  double p = spam_ratio / (spam_ratio + ham_ratio);
  const double fw = (options_.robs * options_.robx + n * p) / (options_.robs + n);
  if (fw > 0.5 && spam_ratio * static_cast<double>(ham_messages_) < options_.min_expected_ham) {
    return -1.0;
  }
  return fw;
}

std::vector<double> FisherModel::evidence(const FeatureVector& features) const {
  std::vector<double> out;
  for (const auto& f : features) {
    double fw = token_probability(f.id);
    if (fw >= 0.0 && std::abs(fw - 0.5) >= options_.min_dev) {
      out.push_back(std::clamp(fw, kProbabilityFloor, 1.0 - kProbabilityFloor));
    }
  }
  if (options_.max_tokens > 0 && out.size() > options_.max_tokens) {
    auto keep = static_cast<std::ptrdiff_t>(options_.max_tokens);
    std::nth_element(out.begin(), out.begin() + keep, out.end(),
                     [](double a, double b) { return std::abs(a - 0.5) > std::abs(b - 0.5); });
    out.resize(options_.max_tokens);
  }
  return out;
}

double FisherModel::naive_bayes(const FeatureVector& features) const {
  const double a = options_.nb_alpha;
  const double ns = static_cast<double>(spam_messages_) + 2.0 * a;
  const double nh = static_cast<double>(ham_messages_) + 2.0 * a;
  double z = 0.0;
  std::size_t k = 0;
  for (const auto& f : features) {
    auto it = counts_.find(f.id);
    if (it == counts_.end()) {
      continue;
    }
    z += std::log((it->second.spam + a) / ns) - std::log((it->second.ham + a) / nh);
    ++k;
  }
  // The sum over k tokens, scaled by sqrt(k) so that long messages do not all saturate at 0 or 1.
  z = std::clamp(z / std::sqrt(static_cast<double>(std::max<std::size_t>(k, 1))), -700.0, 700.0);
  return 1.0 / (1.0 + std::exp(-z));
}

double FisherModel::score(const FeatureVector& features) const {
  if (options_.nb_alpha > 0.0) {
    return naive_bayes(features);
  }
  double ln_ham = 0.0;   // sum ln f
  double ln_spam = 0.0;  // sum ln (1 - f)
  auto fs = evidence(features);
  std::size_t k = fs.size();
  for (double fw : fs) {
    ln_ham += std::log(fw);
    ln_spam += std::log(1.0 - fw);
  }
  if (k == 0) {
    return 0.5;
  }
  double s = 1.0 - chi2_q(-2.0 * ln_spam, 2 * k);
  double h = 1.0 - chi2_q(-2.0 * ln_ham, 2 * k);
  return std::clamp((1.0 + s - h) / 2.0, 0.0, 1.0);
}

std::vector<Contribution> FisherModel::top_contributions(const FeatureVector& features,
                                                         std::size_t n) const {
  std::vector<Contribution> out;
  for (const auto& f : features) {
    double fw = token_probability(f.id);
    if (fw < 0.0 || std::abs(fw - 0.5) < options_.min_dev) {
      continue;
    }
    fw = std::clamp(fw, kProbabilityFloor, 1.0 - kProbabilityFloor);
    out.push_back(Contribution{f.id, std::log(fw / (1.0 - fw))});
  }
  n = std::min(n, out.size());
  std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n), out.end(),
                    [](const Contribution& a, const Contribution& b) {
                      return std::abs(a.weight) > std::abs(b.weight);
                    });
  out.resize(n);
  return out;
}

void FisherModel::prune(std::uint32_t min_messages) {
  boost::unordered::erase_if(counts_, [min_messages](const auto& kv) {
    return static_cast<std::uint64_t>(kv.second.spam) + kv.second.ham < min_messages;
  });
}

std::string FisherModel::serialize() const {
  ByteWriter w;
  w.f64(options_.robs);
  w.f64(options_.robx);
  w.f64(options_.min_dev);
  w.u32(options_.max_tokens);
  w.u64(spam_messages_);
  w.u64(ham_messages_);
  std::vector<std::pair<FeatureId, Counts>> sorted(counts_.begin(), counts_.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  w.u64(sorted.size());
  for (const auto& [id, c] : sorted) {
    w.u64(id);
    w.u32(c.spam);
    w.u32(c.ham);
  }
  return frame(ModelKind::Fisher, w.view());
}

Result<FisherModel> FisherModel::deserialize(std::string_view bytes) {
  auto payload = unframe(ModelKind::Fisher, bytes);
  if (!payload) {
    return tl::unexpected(payload.error());
  }
  ByteReader r(*payload);
  FisherOptions o;
  std::uint64_t spam = 0;
  std::uint64_t ham = 0;
  std::uint64_t entries = 0;
  if (!r.f64(o.robs) || !r.f64(o.robx) || !r.f64(o.min_dev) || !r.u32(o.max_tokens) ||
      !r.u64(spam) || !r.u64(ham) || !r.u64(entries)) {
    return fail(Errc::InvalidInput, "fisher: truncated header");
  }
  if (!valid_options(o)) {
    return fail(Errc::InvalidInput, "fisher: bad parameters");
  }
  constexpr std::size_t kEntryBytes = 16;
  if (entries > r.remaining() / kEntryBytes || r.remaining() != entries * kEntryBytes) {
    return fail(Errc::InvalidInput, "fisher: count table size mismatch");
  }
  FisherModel model(o);
  model.spam_messages_ = spam;
  model.ham_messages_ = ham;
  model.counts_.reserve(static_cast<std::size_t>(entries));
  FeatureId previous = 0;
  for (std::uint64_t k = 0; k < entries; ++k) {
    FeatureId id = 0;
    Counts c;
    GF_CHECK(r.u64(id) && r.u32(c.spam) && r.u32(c.ham),
             "the table size check above covers every entry");
    if ((k > 0 && id <= previous) || c.spam > spam || c.ham > ham || (c.spam == 0 && c.ham == 0)) {
      return fail(Errc::InvalidInput, "fisher: bad count entry");
    }
    previous = id;
    model.counts_.emplace(id, c);
  }
  return model;
}

}  // namespace gf::classify
