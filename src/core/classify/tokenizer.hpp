#pragma once
// Tokenizer: turns comment text (and other fields) into hashed features for the models.
//
// Flow for one add_text(text, field):
//   html_to_text (tags out, entities decoded, href/src kept)  ->  shape features from the
//   de-HTML'd text (length, capitals ratio)  ->  normalize (NFKC + case fold)  ->  split on
//   white space into chunks  ->  each chunk becomes URL / e-mail / phone tokens or words,
//   numbers (as shape tokens), punctuation runs and symbols  ->  word unigrams, orthogonal
//   sparse bigrams (OSB) over the word sequence, optional character n-grams.
// Every token is a readable name ("w:free", "o2:check channel", "url:dom:bit.ly",
// "author/w:john" for field "author") hashed with hash_feature() into a FeatureId.
//
// Threading: a FeatureBuilder is a value used by one thread at a time. Errors: none; any byte
// string is accepted (invalid UTF-8 is repaired, input beyond max_input_bytes is ignored).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/classify/features.hpp"

namespace gf::classify {

// Bumped whenever a change to the tokenizer or hashing alters the ids of the same text; models
// store it and refuse to load under a different schema.
inline constexpr std::uint32_t kFeatureSchema = 1;

struct TokenizerOptions {
  bool osb = true;           // orthogonal sparse bigrams over word tokens
  int osb_window = 5;        // a word is paired with the next osb_window - 1 words
  bool stems = true;         // crude suffix-stripped stems ("s:subscrib") next to the words
  bool char_ngrams = false;  // character n-grams inside words
  int char_ngram_min = 3;
  int char_ngram_max = 5;
  // Character n-grams of the whole normalised text (words and the single spaces between them,
  // so they span word boundaries), hashed straight from the text without building strings.
  // Values are occurrence counts, as for every token. The mail scanner leaves this off.
  bool text_ngrams = false;
  int text_ngram_min = 3;
  int text_ngram_max = 5;
  bool shape = true;   // capitals, digit-shape and link-count features
  bool length = true;  // text length and word count buckets
  std::size_t max_input_bytes = 64 * 1024;
  std::size_t max_words = 1000;
};

class FeatureBuilder {
 public:
  explicit FeatureBuilder(TokenizerOptions options = {});

  // Records the readable name of every emitted feature in `names` (not owned; must outlive
  // the builder or be reset with nullptr).
  void set_names(TokenNames* names) { names_ = names; }
  // Also keeps the readable names in order of emission (tests, debugging).
  void keep_token_strings(bool keep) { keep_strings_ = keep; }

  // Adds free text, possibly HTML, under a field prefix ("" = the main body).
  void add_text(std::string_view text, std::string_view field = {});
  // Adds one whole value as a single normalised token, e.g. ("author", "John") ->
  // "author/t:john"; useful for exact-match fields such as an e-mail or a user agent.
  void add_token(std::string_view field, std::string_view value);
  // Adds a feature by its readable name, unnormalised (e.g. "meta:has_referrer").
  void add_raw(std::string_view name, float value = 1.0F);

  // Returns the canonical (sorted, merged) feature vector and resets the builder.
  [[nodiscard]] FeatureVector finish();
  [[nodiscard]] const std::vector<std::string>& token_strings() const { return strings_; }

 private:
  void emit(std::string_view name);
  void process_chunks(const std::vector<std::string_view>& chunks);
  void process_chunk(std::string_view chunk);
  void process_plain(std::string_view text);
  void push_word(std::string_view raw_word);
  std::size_t try_phone(const std::vector<std::string_view>& chunks, std::size_t i);
  std::size_t try_obfuscated_host(const std::vector<std::string_view>& chunks, std::size_t i);
  void emit_url(std::string_view url);
  void emit_shape(std::string_view chunk);
  void emit_text_shape(std::string_view text);
  void emit_word_features();
  void emit_text_ngrams(std::string_view norm);

  TokenizerOptions options_;
  TokenNames* names_ = nullptr;
  bool keep_strings_ = false;
  std::string prefix_;    // "field/" or ""
  std::string name_buf_;  // emit(): prefix + name
  std::string pair_buf_;  // emit_word_features(): an OSB pair's name
  std::vector<std::string> words_;
  std::size_t urls_ = 0;
  FeatureVector features_;
  std::vector<std::string> strings_;
  std::string gram_text_;                   // scratch for emit_text_ngrams
  std::vector<std::uint32_t> gram_starts_;  // scratch for emit_text_ngrams
};

// One-call helpers for a single body text.
[[nodiscard]] FeatureVector tokenize(std::string_view text, const TokenizerOptions& options = {});
[[nodiscard]] std::vector<std::string> token_strings(std::string_view text,
                                                     const TokenizerOptions& options = {});

}  // namespace gf::classify
