#pragma once
// Hashed feature vectors shared by the tokenizer and the models.
//
// A feature is a readable token string ("w:check", "url:dom:bit.ly", "o2:check channel") hashed
// with XXH3-64 into a uint64 id. Models only see ids; TokenNames keeps a bounded side map from
// id back to the readable string so that explanations (top_contributions) can be printed.
//
// Threading: values, no shared state. Error contract: nothing here fails.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gf::classify {

using FeatureId = std::uint64_t;

// Which family a feature belongs to; a model may scale the families separately (see
// LogisticOptions::ngram_weight). Stored in what would otherwise be padding.
enum class FeatureGroup : std::uint8_t {
  Token = 0,      // words, stems, OSB pairs, URLs, shapes, everything named
  CharNgram = 1,  // character n-grams of the text (TokenizerOptions::text_ngrams)
};

struct Feature {
  FeatureId id;
  float value;  // occurrence count (before normalisation by a model)
  FeatureGroup group = FeatureGroup::Token;
  bool operator==(const Feature&) const = default;
};

// One entry per id, in the order of first occurrence (always the same for the same input).
// Produced by FeatureBuilder::finish().
using FeatureVector = std::vector<Feature>;

// Hash of a readable token name. Stable across runs and machines (XXH3-64, fixed seed); a change
// here invalidates every stored model, so it is covered by kFeatureSchema.
[[nodiscard]] FeatureId hash_feature(std::string_view name);
// Hash of a character n-gram under `seed` (the hash of its field's "c:" prefix); no string is
// built. Covered by kFeatureSchema like hash_feature().
[[nodiscard]] FeatureId hash_ngram(std::string_view gram, FeatureId seed);

// Merges duplicate ids by adding their values, keeping the order of first occurrence (or, for
// ids crafted to collide in its hash table, sorted by id). Linear time; O(n log n) at worst.
void canonicalize(FeatureVector& features);

// Bounded id -> name map; when full, the oldest remembered names are forgotten first.
class TokenNames {
 public:
  explicit TokenNames(std::size_t capacity = std::size_t{1} << 16);
  void remember(FeatureId id, std::string_view name);
  [[nodiscard]] std::optional<std::string_view> find(FeatureId id) const;
  [[nodiscard]] std::size_t size() const { return names_.size(); }

 private:
  std::size_t capacity_;
  std::unordered_map<FeatureId, std::string> names_;
  std::deque<FeatureId> order_;
};

// One feature's share of a score: positive pushes towards spam, negative towards ham.
struct Contribution {
  FeatureId id;
  double weight;
};

}  // namespace gf::classify
