#include "core/classify/classifier.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>

#include "core/classify/model_io.hpp"

namespace gf::classify {
namespace {

void train_toy(Classifier& c, int passes) {
  const char* spam[] = {"check out my channel http://bit.ly/x", "subscribe to my channel please",
                        "free followers click here", "visit my site cheapfollowers.com"};
  const char* ham[] = {"what a beautiful song", "her voice gives me chills",
                       "this chorus brings back memories", "still listening in 2015"};
  for (int p = 0; p < passes; ++p) {
    for (const char* s : spam) {
      CommentFields f;
      f.content = s;
      c.train(c.features(f), true);
    }
    for (const char* h : ham) {
      CommentFields f;
      f.content = h;
      c.train(c.features(f), false);
    }
  }
}

FeatureVector body(const Classifier& c, std::string_view text) {
  CommentFields f;
  f.content = text;
  return c.features(f);
}

TEST(Classifier, DefaultIsLogisticAndLearns) {
  Classifier c;
  EXPECT_EQ(c.options().engine, Engine::Logistic);
  train_toy(c, 20);
  EXPECT_GT(c.score(body(c, "check out my channel")), 0.5);
  EXPECT_LT(c.score(body(c, "beautiful voice")), 0.5);
}

TEST(Classifier, FieldsArePrefixed) {
  Classifier c;
  TokenNames names;
  CommentFields f;
  f.content = "hello";
  f.author = "Cheap Followers";
  f.author_email = "X@Example.com";
  f.author_url = "http://spam.example.net/";
  auto fv = c.features(f, &names);
  auto contains = [&](std::string_view name) {
    auto id = hash_feature(name);
    return std::any_of(fv.begin(), fv.end(), [id](const Feature& x) { return x.id == id; });
  };
  EXPECT_TRUE(contains("w:hello"));
  EXPECT_TRUE(contains("author/w:cheap"));
  EXPECT_TRUE(contains("author_email/t:x@example.com"));
  EXPECT_TRUE(contains("author_url/url:dom:example.net"));
  EXPECT_FALSE(contains("w:cheap"));
}

TEST(Classifier, TopContributionsResolveToNames) {
  Classifier c;
  train_toy(c, 20);
  TokenNames names;
  CommentFields f;
  f.content = "subscribe to my channel";
  auto fv = c.features(f, &names);
  auto top = c.top_contributions(fv, 3);
  ASSERT_EQ(top.size(), 3U);
  for (const auto& t : top) {
    EXPECT_TRUE(names.find(t.id).has_value());
  }
  EXPECT_GT(top[0].weight, 0.0);
}

TEST(Classifier, RoundTripForEveryEngine) {
  for (Engine e : {Engine::Logistic, Engine::Fisher, Engine::Blend}) {
    ClassifierOptions o;
    o.engine = e;
    o.tokenizer.char_ngrams = true;
    o.tokenizer.osb_window = 3;
    Classifier c(o);
    train_toy(c, 3);
    auto bytes = c.serialize();
    auto loaded = Classifier::deserialize(bytes);
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
    EXPECT_EQ(loaded->options().engine, e);
    EXPECT_TRUE(loaded->options().tokenizer.char_ngrams);
    EXPECT_EQ(loaded->options().tokenizer.osb_window, 3);
    auto probe = body(c, "subscribe to my channel");
    EXPECT_DOUBLE_EQ(loaded->score(probe), c.score(probe));
    EXPECT_EQ(loaded->serialize(), bytes);
  }
}

TEST(Classifier, RejectsCorruptOrForeignBytes) {
  Classifier c;
  train_toy(c, 1);
  auto bytes = c.serialize();
  EXPECT_FALSE(Classifier::deserialize("").has_value());
  EXPECT_FALSE(Classifier::deserialize(bytes.substr(0, bytes.size() / 2)).has_value());
  std::string flipped = bytes;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 1);
  EXPECT_FALSE(Classifier::deserialize(flipped).has_value());
  EXPECT_FALSE(Classifier::deserialize(LogisticModel().serialize()).has_value());
  // A well-framed payload whose engine byte is unknown.
  EXPECT_FALSE(Classifier::deserialize(frame(ModelKind::Classifier, "\x09")).has_value());
}

TEST(Classifier, DefaultUsesTextNgramsAndRoundTripsThem) {
  Classifier c;
  ASSERT_TRUE(c.options().tokenizer.text_ngrams);
  train_toy(c, 3);
  const auto fv = body(c, "subscribe to my channel");
  EXPECT_TRUE(std::any_of(fv.begin(), fv.end(),
                          [](const Feature& f) { return f.group == FeatureGroup::CharNgram; }));
  const auto bytes = c.serialize();
  auto loaded = Classifier::deserialize(bytes);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  const auto& t = loaded->options().tokenizer;
  EXPECT_TRUE(t.text_ngrams);
  EXPECT_EQ(t.text_ngram_min, c.options().tokenizer.text_ngram_min);
  EXPECT_EQ(t.text_ngram_max, c.options().tokenizer.text_ngram_max);
  EXPECT_DOUBLE_EQ(loaded->options().logistic.ngram_weight, c.options().logistic.ngram_weight);
  EXPECT_DOUBLE_EQ(loaded->score(fv), c.score(fv));
  EXPECT_EQ(loaded->serialize(), bytes);
}

// A tokenizer block as written before text n-grams existed: 29 bytes, flags below 32.
TEST(Classifier, ReadsTheTokenizerBlockBeforeTextNgrams) {
  TokenizerOptions old;
  old.text_ngrams = false;
  ByteWriter w;
  write_tokenizer(w, old);
  ASSERT_EQ(w.view().size(), 29U) << "the layout without text n-grams must not change";
  ByteWriter legacy;
  legacy.u8(1 | 4 | 8 | 16);  // osb, shape, length, stems
  legacy.u32(5);
  legacy.u32(3);
  legacy.u32(5);
  legacy.u64(64 * 1024);
  legacy.u64(1000);
  EXPECT_EQ(w.view(), legacy.view());
  ByteReader r(legacy.view());
  TokenizerOptions t;
  t.text_ngrams = true;  // must be cleared by the reader
  ASSERT_TRUE(read_tokenizer(r, t));
  EXPECT_FALSE(t.text_ngrams);
  EXPECT_TRUE(t.osb);
  EXPECT_EQ(r.remaining(), 0U);
  // A whole stored classifier of that era: the same block inside the envelope, loadable, and
  // scoring without n-grams.
  ClassifierOptions o;
  o.tokenizer = old;
  o.logistic.ngram_weight = 0.0;
  Classifier c(o);
  train_toy(c, 3);
  auto loaded = Classifier::deserialize(c.serialize());
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_FALSE(loaded->options().tokenizer.text_ngrams);
  const auto fv = body(*loaded, "subscribe to my channel");
  EXPECT_FALSE(std::any_of(fv.begin(), fv.end(),
                           [](const Feature& f) { return f.group == FeatureGroup::CharNgram; }));
  EXPECT_DOUBLE_EQ(loaded->score(fv), c.score(fv));
}

TEST(Classifier, RejectsBadTextNgramRanges) {
  TokenizerOptions t;
  t.text_ngrams = true;
  for (auto [lo, hi] : {std::pair{0, 3}, std::pair{4, 3}, std::pair{3, 9}}) {
    t.text_ngram_min = lo;
    t.text_ngram_max = hi;
    ByteWriter w;
    write_tokenizer(w, t);
    ByteReader r(w.view());
    TokenizerOptions out;
    EXPECT_FALSE(read_tokenizer(r, out)) << lo << ".." << hi;
  }
  ByteWriter cut;
  t.text_ngram_min = 3;
  t.text_ngram_max = 5;
  write_tokenizer(cut, t);
  ByteReader r(std::string_view(cut.view()).substr(0, cut.view().size() - 4));
  TokenizerOptions out;
  EXPECT_FALSE(read_tokenizer(r, out));
}

}  // namespace
}  // namespace gf::classify
