#pragma once
// Helpers for the stores' maps of not-yet-committed writes (LmdbStore, LmdbKv): hashed for the
// lookup every read makes, walked in key order only when a batch is committed.
#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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

// Not-yet-committed writes under a prefix, in key order (nullopt: a pending erase).
template <class Value>
using StagedWrites = std::vector<std::pair<std::string, std::optional<Value>>>;

// A scan without waiting for a commit: the database's entries (db_next(key, value) steps a
// cursor in key order, false at the end of the range) merged in key order with `staged`, where
// a staged write replaces the stored value and a staged erase hides it. on_db(key, db_value)
// and on_staged(key, const Value&) return false to stop.
template <class Value, class DbNext, class OnDb, class OnStaged>
void merge_staged(const StagedWrites<Value>& staged, DbNext db_next, OnDb on_db,
                  OnStaged on_staged) {
  std::string_view k;
  std::string_view v;
  bool have = db_next(k, v);
  std::size_t i = 0;
  while (have || i < staged.size()) {
    if (i < staged.size() && (!have || std::string_view(staged[i].first) <= k)) {
      const auto& [key, value] = staged[i++];
      if (have && key == k) {
        have = db_next(k, v);  // replaced or erased by the staged write
      }
      if (value && !on_staged(std::string_view(key), *value)) {
        return;
      }
      continue;
    }
    if (!on_db(k, v)) {
      return;
    }
    have = db_next(k, v);
  }
}

}  // namespace gf::io
