#include "core/classify/features.hpp"

// Inlined (header-only mode of the same library): hashing runs a few hundred times per comment
// and the shared library's call and dispatch cost more than the hash of a short name.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

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

// The fallback: sort by id, then merge runs of equal ids, adding their values. O(n log n)
// whatever the ids are.
void sort_and_merge(FeatureVector& features) {
  std::sort(features.begin(), features.end(),
            [](const Feature& a, const Feature& b) { return a.id < b.id; });
  std::size_t out = 0;
  for (std::size_t i = 0; i < features.size(); ++i) {
    if (out > 0 && features[out - 1].id == features[i].id) {
      features[out - 1].value += features[i].value;
    } else {
      copy_feature(&features[out++], &features[i]);
    }
  }
  features.resize(out);
}

}  // namespace

void canonicalize(FeatureVector& features) {
  // Open addressing over the ids (hashes already, so their top bits pick the slot), at most
  // half full; each slot holds 1 + the index of the merged entry. Features are compacted in
  // place: entry `out` <= i, and a first occurrence is copied down to it.
  // A probe longer than kMaxProbe means ids chosen to collide (token names are the client's
  // text, the seed is public): the rest is then merged by sorting, which has no such worst case.
  // A thread's table is kept between calls up to kKeepSlots; a huge input gets its own.
  constexpr std::size_t kMaxProbe = 64;
  constexpr std::size_t kKeepSlots = std::size_t{1} << 15;
  const std::size_t n = features.size();
  if (n < 2) {
    return;
  }
  int bits = 6;
  while ((std::size_t{1} << bits) < 2 * n) {
    ++bits;
  }
  const std::size_t cap = std::size_t{1} << bits;
  thread_local std::vector<std::uint32_t> kept;
  std::vector<std::uint32_t> own;
  std::vector<std::uint32_t>& slots = cap <= kKeepSlots ? kept : own;
  slots.assign(cap, 0);
  const std::size_t mask = cap - 1;
  Feature* f = features.data();
  std::size_t out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const FeatureId id = f[i].id;
    std::size_t h = static_cast<std::size_t>(id >> (64 - bits));
    std::size_t probe = 0;
    for (;;) {
      const std::uint32_t s = slots[h];
      if (s == 0) {
        slots[h] = static_cast<std::uint32_t>(out + 1);
        copy_feature(&f[out++], &f[i]);
        break;
      }
      if (f[s - 1].id == id) {
        f[s - 1].value += f[i].value;
        break;
      }
      if (++probe == kMaxProbe) {
        // [0, out) holds the merged head, [i, n) is untouched: join them and sort the lot.
        if (out < i) {  // std::copy must not write onto its own source's start
          std::copy(f + i, f + n, f + out);
          features.resize(out + (n - i));
        }
        sort_and_merge(features);
        return;
      }
      h = (h + 1) & mask;
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
