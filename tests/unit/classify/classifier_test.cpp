#include "core/classify/classifier.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

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
      c.train(c.features({.content = s, .author = {}, .author_email = {}, .author_url = {}}), true);
    }
    for (const char* h : ham) {
      c.train(c.features({.content = h, .author = {}, .author_email = {}, .author_url = {}}),
              false);
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

}  // namespace
}  // namespace gf::classify
