#pragma once
// Helpers for the stores' maps of not-yet-committed writes (LmdbStore, LmdbKv): hashed for the
// lookup every read makes, walked in key order only when a batch is committed.
#include <algorithm>
#include <functional>
#include <string_view>
#include <vector>

namespace gf::io {

// Transparent string hashing: a pending map is searched with a string_view key without
// building a std::string.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// The entries of a map in key order (pointers into it). LMDB's inserts in key order are
// append-like and touch each page once.
template <class Map>
std::vector<const typename Map::value_type*> sorted_by_key(const Map& batch) {
  std::vector<const typename Map::value_type*> sorted;
  sorted.reserve(batch.size());
  for (const auto& entry : batch) {
    sorted.push_back(&entry);
  }
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
  return sorted;
}

}  // namespace gf::io
