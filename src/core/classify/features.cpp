#include "core/classify/features.hpp"

#include <xxhash.h>

#include <algorithm>

namespace gf::classify {

namespace {
constexpr XXH64_hash_t kFeatureSeed = 0x6766636c61737331ULL;  // "gfclass1"
}  // namespace

FeatureId hash_feature(std::string_view name) {
  return XXH3_64bits_withSeed(name.data(), name.size(), kFeatureSeed);
}

FeatureId hash_ngram(std::string_view gram, FeatureId seed) {
  return XXH3_64bits_withSeed(gram.data(), gram.size(), seed);
}

void canonicalize(FeatureVector& features) {
  std::sort(features.begin(), features.end(),
            [](const Feature& a, const Feature& b) { return a.id < b.id; });
  std::size_t out = 0;
  for (std::size_t i = 0; i < features.size(); ++i) {
    if (out > 0 && features[out - 1].id == features[i].id) {
      features[out - 1].value += features[i].value;
    } else {
      features[out++] = features[i];
    }
  }
  features.resize(out);
}

TokenNames::TokenNames(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

void TokenNames::remember(FeatureId id, std::string_view name) {
  auto [it, inserted] = names_.try_emplace(id, name);
  if (!inserted) {
    return;
  }
  order_.push_back(id);
  while (names_.size() > capacity_) {
    names_.erase(order_.front());
    order_.pop_front();
  }
}

std::optional<std::string_view> TokenNames::find(FeatureId id) const {
  auto it = names_.find(id);
  if (it == names_.end()) {
    return std::nullopt;
  }
  return std::string_view(it->second);
}

}  // namespace gf::classify
