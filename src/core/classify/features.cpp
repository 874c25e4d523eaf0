#include "core/classify/features.hpp"

// Inlined (header-only mode of the same library): hashing runs a few hundred times per comment
// and the shared library's call and dispatch cost more than the hash of a short name.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>

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

namespace {

// Copies a whole Feature, padding too: one 16-byte move, where the member-wise copy is two
// overlapping 8-byte stores that a following load of the same element cannot be forwarded from.
inline void copy_feature(Feature* to, const Feature* from) {
  static_assert(sizeof(Feature) == 16 && std::is_trivially_copyable_v<Feature>);
  std::memcpy(static_cast<void*>(to), from, sizeof(Feature));
}

// Merges runs of equal ids (sorted input), adding their values. The last id kept is compared
// from a register: reading it back from the element just copied stalled every iteration (the
// 13-byte struct copy is two overlapping stores, which the load cannot be forwarded from).
void merge_adjacent(FeatureVector& features) {
  const std::size_t n = features.size();
  if (n == 0) {
    return;
  }
  std::size_t out = 0;
  FeatureId last = features[0].id;
  for (std::size_t i = 1; i < n; ++i) {
    if (features[i].id == last) {
      features[out].value += features[i].value;
    } else {
      copy_feature(&features[++out], &features[i]);
      last = features[i].id;
    }
  }
  features.resize(out + 1);
}

}  // namespace

void canonicalize(FeatureVector& features) {
  const std::size_t n = features.size();
  constexpr std::size_t kRadixFrom = 64;
  if (n < kRadixFrom) {
    std::stable_sort(features.begin(), features.end(),
                     [](const Feature& a, const Feature& b) { return a.id < b.id; });
    merge_adjacent(features);
    return;
  }
  // Ids are hashes: a stable LSD radix sort on their top 32 bits (four 8-bit passes) leaves
  // only the rare equal-top-bits neighbours out of order, which one insertion pass fixes. A
  // comment has a few hundred features, where this costs a third of a comparison sort.
  // A thread's scratch is kept between calls, up to the size of a typical large message; the
  // rare huge input (a 1 MB comment) gets its own, freed on return.
  constexpr std::size_t kKeepScratch = 16384;
  thread_local FeatureVector kept;
  FeatureVector own;
  FeatureVector& scratch = n <= kKeepScratch ? kept : own;
  scratch.resize(n);
  Feature* src = features.data();
  Feature* dst = scratch.data();
  // All four histograms in one read of the data, then four scatter passes.
  std::array<std::array<std::uint32_t, 256>, 4> at{};
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t id = src[i].id;
    ++at[0][(id >> 32) & 0xff];
    ++at[1][(id >> 40) & 0xff];
    ++at[2][(id >> 48) & 0xff];
    ++at[3][(id >> 56) & 0xff];
  }
  for (auto& counts : at) {
    std::uint32_t sum = 0;
    for (std::uint32_t& c : counts) {
      const std::uint32_t here = c;
      c = sum;
      sum += here;
    }
  }
  for (std::size_t pass = 0; pass < 4; ++pass) {
    const int shift = 32 + 8 * static_cast<int>(pass);
    std::array<std::uint32_t, 256>& next = at[pass];
    for (std::size_t i = 0; i < n; ++i) {
      copy_feature(&dst[next[(src[i].id >> shift) & 0xff]++], &src[i]);
    }
    std::swap(src, dst);
  }
  // Four passes: the sorted data is back in `features`.
  for (std::size_t i = 1; i < n; ++i) {
    if (src[i - 1].id <= src[i].id) {
      continue;
    }
    const Feature f = src[i];
    std::size_t j = i;
    while (j > 0 && src[j - 1].id > f.id) {
      src[j] = src[j - 1];
      --j;
    }
    src[j] = f;
  }
  merge_adjacent(features);
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
