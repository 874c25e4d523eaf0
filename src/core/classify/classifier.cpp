#include "core/classify/classifier.hpp"

#include <algorithm>
#include <cmath>

#include "core/classify/model_io.hpp"

namespace gf::classify {

namespace {

bool uses_logistic(Engine e) { return e == Engine::Logistic || e == Engine::Blend; }
bool uses_fisher(Engine e) { return e == Engine::Fisher || e == Engine::Blend; }

constexpr std::uint32_t kMaxWindow = 16;
constexpr std::uint32_t kMaxNgram = 8;
constexpr std::uint32_t kTextNgramsFlag = 32;

bool read_blob(ByteReader& r, std::string_view& blob) {
  std::uint64_t size = 0;
  return r.u64(size) && size <= r.remaining() && r.bytes(static_cast<std::size_t>(size), blob);
}

}  // namespace

// Flag bit 32 (text n-grams) was added later; its two range fields follow the block only when
// it is set, so models stored without it (every older one) read as before and are written
// byte for byte as before.
void write_tokenizer(ByteWriter& w, const TokenizerOptions& t) {
  w.u8(static_cast<std::uint8_t>((t.osb ? 1 : 0) | (t.char_ngrams ? 2 : 0) | (t.shape ? 4 : 0) |
                                 (t.length ? 8 : 0) | (t.stems ? 16 : 0) |
                                 (t.text_ngrams ? kTextNgramsFlag : 0)));
  w.u32(static_cast<std::uint32_t>(t.osb_window));
  w.u32(static_cast<std::uint32_t>(t.char_ngram_min));
  w.u32(static_cast<std::uint32_t>(t.char_ngram_max));
  w.u64(t.max_input_bytes);
  w.u64(t.max_words);
  if (t.text_ngrams) {
    w.u32(static_cast<std::uint32_t>(t.text_ngram_min));
    w.u32(static_cast<std::uint32_t>(t.text_ngram_max));
  }
}

bool read_tokenizer(ByteReader& r, TokenizerOptions& t) {
  std::uint8_t flags = 0;
  std::uint32_t window = 0;
  std::uint32_t nmin = 0;
  std::uint32_t nmax = 0;
  std::uint64_t max_input = 0;
  std::uint64_t max_words = 0;
  if (!r.u8(flags) || !r.u32(window) || !r.u32(nmin) || !r.u32(nmax) || !r.u64(max_input) ||
      !r.u64(max_words)) {
    return false;
  }
  if ((flags & ~(31U | kTextNgramsFlag)) != 0 || window < 2 || window > kMaxWindow || nmin < 1 ||
      nmin > nmax || nmax > kMaxNgram) {
    return false;
  }
  t.text_ngrams = (flags & kTextNgramsFlag) != 0;
  if (t.text_ngrams) {
    std::uint32_t tmin = 0;
    std::uint32_t tmax = 0;
    if (!r.u32(tmin) || !r.u32(tmax) || tmin < 1 || tmin > tmax || tmax > kMaxNgram) {
      return false;
    }
    t.text_ngram_min = static_cast<int>(tmin);
    t.text_ngram_max = static_cast<int>(tmax);
  }
  t.osb = (flags & 1U) != 0;
  t.char_ngrams = (flags & 2U) != 0;
  t.shape = (flags & 4U) != 0;
  t.length = (flags & 8U) != 0;
  t.stems = (flags & 16U) != 0;
  t.osb_window = static_cast<int>(window);
  t.char_ngram_min = static_cast<int>(nmin);
  t.char_ngram_max = static_cast<int>(nmax);
  t.max_input_bytes = static_cast<std::size_t>(max_input);
  t.max_words = static_cast<std::size_t>(max_words);
  return true;
}

ClassifierOptions default_classifier_options() {
  // Measured on the YouTube Spam Collection (docs/classifier.md, `gf_comment_eval --sweep`):
  // character 3-5-grams of the whole text next to the word features, as a second unit-norm
  // block weighted 0.7, and a lighter L2 penalty (1e-4) now that there are more features.
  ClassifierOptions o;
  o.tokenizer.text_ngrams = true;
  o.tokenizer.text_ngram_min = 3;
  o.tokenizer.text_ngram_max = 5;
  o.logistic.ngram_weight = 0.7;
  o.logistic.l2 = 1e-4;
  return o;
}

Classifier::Classifier(ClassifierOptions options)
    : options_(options), logistic_(options.logistic), fisher_(options.fisher) {
  if (!uses_logistic(options_.engine)) {
    logistic_ = LogisticModel(LogisticOptions{.hash_bits = 16});  // unused; keep it small
  }
}

FeatureVector Classifier::features(const CommentFields& fields, TokenNames* names) const {
  FeatureBuilder builder(options_.tokenizer);
  builder.set_names(names);
  builder.add_text(fields.content);
  if (!fields.author.empty()) {
    builder.add_text(fields.author, "author");
  }
  if (!fields.author_email.empty()) {
    builder.add_token("author_email", fields.author_email);
  }
  if (!fields.author_url.empty()) {
    builder.add_text(fields.author_url, "author_url");
  }
  for (const std::string& c : fields.context) {
    builder.add_token("context", c);
  }
  if (!fields.comment_type.empty()) {
    builder.add_token("comment_type", fields.comment_type);
  }
  return builder.finish();
}

void Classifier::train(const FeatureVector& features, bool is_spam) {
  if (uses_logistic(options_.engine)) {
    logistic_.train(features, is_spam);
  }
  if (uses_fisher(options_.engine)) {
    fisher_.train(features, is_spam);
  }
}

double Classifier::score(const FeatureVector& features) const {
  switch (options_.engine) {
    case Engine::Logistic:
      return logistic_.score(features);
    case Engine::Fisher:
      return fisher_.score(features);
    case Engine::Blend:
      return (logistic_.score(features) + fisher_.score(features)) / 2.0;
  }
  return 0.5;
}

std::vector<Contribution> Classifier::top_contributions(const FeatureVector& features,
                                                        std::size_t n) const {
  if (options_.engine == Engine::Fisher) {
    return fisher_.top_contributions(features, n);
  }
  return logistic_.top_contributions(features, n);
}

std::string Classifier::serialize() const {
  ByteWriter w;
  w.u8(static_cast<std::uint8_t>(options_.engine));
  write_tokenizer(w, options_.tokenizer);
  std::string lr = uses_logistic(options_.engine) ? logistic_.serialize() : std::string();
  std::string fi = uses_fisher(options_.engine) ? fisher_.serialize() : std::string();
  w.u64(lr.size());
  w.bytes(lr);
  w.u64(fi.size());
  w.bytes(fi);
  return frame(ModelKind::Classifier, w.view());
}

Result<Classifier> Classifier::deserialize(std::string_view bytes) {
  auto payload = unframe(ModelKind::Classifier, bytes);
  if (!payload) {
    return tl::unexpected(payload.error());
  }
  ByteReader r(*payload);
  std::uint8_t engine = 0;
  ClassifierOptions o;
  if (!r.u8(engine) || engine < 1 || engine > 3) {
    return fail(Errc::InvalidInput, "classifier: bad engine");
  }
  o.engine = static_cast<Engine>(engine);
  if (!read_tokenizer(r, o.tokenizer)) {
    return fail(Errc::InvalidInput, "classifier: bad tokenizer settings");
  }
  std::string_view lr_blob;
  std::string_view fi_blob;
  if (!read_blob(r, lr_blob) || !read_blob(r, fi_blob) || r.remaining() != 0) {
    return fail(Errc::InvalidInput, "classifier: bad model blobs");
  }
  if (uses_logistic(o.engine) == lr_blob.empty() || uses_fisher(o.engine) == fi_blob.empty()) {
    return fail(Errc::InvalidInput, "classifier: models do not match the engine");
  }
  Classifier c(o);
  if (uses_logistic(o.engine)) {
    auto lr = LogisticModel::deserialize(lr_blob);
    if (!lr) {
      return tl::unexpected(lr.error());
    }
    c.logistic_ = std::move(*lr);
    c.options_.logistic = c.logistic_.options();
  }
  if (uses_fisher(o.engine)) {
    auto fi = FisherModel::deserialize(fi_blob);
    if (!fi) {
      return tl::unexpected(fi.error());
    }
    c.fisher_ = std::move(*fi);
    c.options_.fisher = c.fisher_.options();
  }
  return c;
}

std::size_t Classifier::model_features() const {
  return uses_logistic(options_.engine) ? logistic_.nonzero_weights() : fisher_.features();
}

}  // namespace gf::classify
