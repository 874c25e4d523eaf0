#pragma once
// Classifier: the comment classifier the rest of greyflux uses, i.e. the tokenizer plus the
// model chosen by measurement (docs/classifier.md), behind one value type.
//
// Flow: features(fields) turns a comment's fields into one FeatureVector (body text, plus the
// author name, e-mail and URL under their own field prefixes); score() returns P(spam) in
// [0, 1] (spam when > 0.5); train() is submit-spam / submit-ham feedback; top_contributions()
// explains a score. serialize()/deserialize() store the tokenizer settings with the model so a
// stored model is never scored with features it was not trained on.
//
// Threading: a value; callers serialise access (score is const and may run concurrently with
// other const calls). Errors: deserialize() returns a Result; nothing else fails.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/classify/features.hpp"
#include "core/classify/fisher.hpp"
#include "core/classify/logistic.hpp"
#include "core/classify/model_io.hpp"
#include "core/classify/tokenizer.hpp"
#include "core/common/result.hpp"

namespace gf::classify {

// The tokenizer-settings block of a stored model, shared by the comment and the mail model.
void write_tokenizer(ByteWriter& w, const TokenizerOptions& t);
// False when the block is cut short or a setting is out of range; `t` is then unspecified.
[[nodiscard]] bool read_tokenizer(ByteReader& r, TokenizerOptions& t);

enum class Engine : std::uint8_t {
  Logistic = 1,  // online logistic regression
  Fisher = 2,    // Robinson/Fisher token counts
  Blend = 3,     // mean of the two probabilities
};

struct ClassifierOptions {
  Engine engine = Engine::Logistic;
  TokenizerOptions tokenizer;
  LogisticOptions logistic;
  FisherOptions fisher;
};

// The measured default (see docs/classifier.md).
[[nodiscard]] ClassifierOptions default_classifier_options();

// The fields of an Akismet comment-check that carry text; empty fields are skipped.
struct CommentFields {
  std::string_view content;
  std::string_view author;
  std::string_view author_email;
  std::string_view author_url;
  std::span<const std::string> context;  // comment_context[] values, one token each
  std::string_view comment_type;         // one token
};

class Classifier {
 public:
  explicit Classifier(ClassifierOptions options = default_classifier_options());

  // `names` (optional, not owned) receives readable names for explanations.
  [[nodiscard]] FeatureVector features(const CommentFields& fields,
                                       TokenNames* names = nullptr) const;
  void train(const FeatureVector& features, bool is_spam);
  [[nodiscard]] double score(const FeatureVector& features) const;
  [[nodiscard]] std::vector<Contribution> top_contributions(const FeatureVector& features,
                                                            std::size_t n) const;

  [[nodiscard]] std::string serialize() const;
  [[nodiscard]] static Result<Classifier> deserialize(std::string_view bytes);

  [[nodiscard]] const ClassifierOptions& options() const { return options_; }
  // The model's size: non-zero logistic weights, or Fisher token counts (Engine::Fisher).
  [[nodiscard]] std::size_t model_features() const;

 private:
  ClassifierOptions options_;
  LogisticModel logistic_;
  FisherModel fisher_;
};

}  // namespace gf::classify
