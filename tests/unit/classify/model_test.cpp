#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/classify/fisher.hpp"
#include "core/classify/logistic.hpp"
#include "core/classify/model_io.hpp"
#include "core/classify/tokenizer.hpp"

namespace gf::classify {
namespace {

struct Example {
  std::string text;
  bool spam;
};

// A separable toy corpus: spam and ham share filler words, only the topic words differ.
std::vector<Example> toy_corpus() {
  const std::vector<std::string> spam_words{"subscribe", "cheap", "followers", "click", "free"};
  const std::vector<std::string> ham_words{"song", "beautiful", "voice", "chorus", "memories"};
  const std::vector<std::string> filler{"the", "this", "is", "my", "so", "really", "video"};
  std::vector<Example> out;
  for (std::size_t i = 0; i < 40; ++i) {
    std::string s = filler[i % filler.size()] + " " + spam_words[i % spam_words.size()] + " " +
                    filler[(i + 3) % filler.size()] + " " + spam_words[(i + 2) % spam_words.size()];
    std::string h = filler[(i + 1) % filler.size()] + " " + ham_words[i % ham_words.size()] + " " +
                    filler[(i + 5) % filler.size()] + " " + ham_words[(i + 3) % ham_words.size()];
    out.push_back({s, true});
    out.push_back({h, false});
  }
  return out;
}

template <class Model>
void train_toy(Model& model, int epochs) {
  auto corpus = toy_corpus();
  for (int e = 0; e < epochs; ++e) {
    for (const auto& ex : corpus) {
      model.train(tokenize(ex.text), ex.spam);
    }
  }
}

// Unseen phrasings of the toy topics land on the right side, `margin` away from 0.5.
template <class Model>
void expect_separates(const Model& model, double margin = 0.3) {
  EXPECT_GT(model.score(tokenize("click here for free followers")), 0.5 + margin);
  EXPECT_GT(model.score(tokenize("cheap subscribe")), 0.5 + margin);
  EXPECT_LT(model.score(tokenize("what a beautiful voice")), 0.5 - margin);
  EXPECT_LT(model.score(tokenize("this chorus brings memories")), 0.5 - margin);
}

TEST(Logistic, UntrainedScoresOneHalf) {
  LogisticModel model;
  EXPECT_DOUBLE_EQ(model.score(tokenize("anything at all")), 0.5);
}

TEST(Logistic, LearnsSeparableToySet) {
  LogisticModel model;
  train_toy(model, 20);
  expect_separates(model);
  EXPECT_EQ(model.examples(), 1600U);
}

TEST(Logistic, ScheduleWithoutAdagradAlsoLearns) {
  LogisticOptions o;
  o.adagrad = false;
  o.learning_rate = 1.0;
  LogisticModel model(o);
  train_toy(model, 10);
  expect_separates(model);
}

TEST(Logistic, TrainOnErrorSkipsConfidentExamples) {
  LogisticOptions o;
  o.confident = 0.1;
  LogisticModel model(o);
  train_toy(model, 20);
  // Training stops once an example is within 0.1 of its label, so margins stay modest.
  expect_separates(model, 0.15);
  EXPECT_LT(model.updates(), model.examples());
}

TEST(Logistic, OffsetMovesOnlyTheTrainOnErrorTest) {
  LogisticOptions o;
  o.confident = 0.1;
  const auto f = tokenize("cheap followers");
  LogisticModel plain(o);
  plain.train(f, true);
  EXPECT_EQ(plain.updates(), 1U);  // untrained: 0.5 is far from the label
  // On the caller's shifted scale the untrained model already says 0.993: nothing to learn.
  LogisticModel shifted(o);
  shifted.train(f, true, 1.0, 5.0);
  EXPECT_EQ(shifted.updates(), 0U);
  EXPECT_DOUBLE_EQ(shifted.score(f), 0.5);
  // A shift the other way keeps training an example the unshifted test would skip.
  LogisticModel keen(o);
  for (int i = 0; i < 50; ++i) {
    keen.train(f, true, 1.0, -3.0);
  }
  EXPECT_EQ(keen.updates(), 50U);
  EXPECT_GT(keen.score(f), 0.9);
}

TEST(Logistic, TopContributionsNameTheSpamWords) {
  LogisticModel model;
  train_toy(model, 3);
  auto features = tokenize("the cheap video");
  auto top = model.top_contributions(features, 3);
  ASSERT_EQ(top.size(), 3U);
  EXPECT_EQ(top[0].id, hash_feature("w:cheap"));
  EXPECT_GT(top[0].weight, 0.0);
  EXPECT_GE(std::abs(top[0].weight), std::abs(top[1].weight));
  EXPECT_GE(std::abs(top[1].weight), std::abs(top[2].weight));
}

TEST(Fisher, UnknownTokensScoreOneHalf) {
  FisherModel model;
  EXPECT_DOUBLE_EQ(model.score(tokenize("anything")), 0.5);
  train_toy(model, 1);
  EXPECT_DOUBLE_EQ(model.score(tokenize("zzzz qqqq")), 0.5);
}

TEST(Fisher, LearnsSeparableToySet) {
  FisherModel model;
  train_toy(model, 1);
  expect_separates(model);
  EXPECT_EQ(model.spam_messages(), 40U);
  EXPECT_EQ(model.ham_messages(), 40U);
}

TEST(Fisher, TopContributionsHaveTheRightSign) {
  FisherModel model;
  train_toy(model, 1);
  auto top = model.top_contributions(tokenize("the beautiful video"), 1);
  ASSERT_EQ(top.size(), 1U);
  EXPECT_LT(top[0].weight, 0.0);
}

// 200 spams to 5 hams: "video" is in 20 spams and no ham, "song" in every ham.
void train_lopsided(FisherModel& model) {
  for (int i = 0; i < 200; ++i) {
    model.train(tokenize(i % 10 == 0 ? "cheap followers video" : "cheap followers click"), true);
  }
  for (int i = 0; i < 5; ++i) {
    model.train(tokenize("beautiful song chorus"), false);
  }
}

TEST(Fisher, BalancedStrengthCountsEvidenceInUnitsOfTheRarerClass) {
  // Not seen in 5 hams is weak evidence when it was seen in 1 of 10 spams: as if each class had
  // been learned 5 times, "video" was seen in half a spam, not in 20.
  FisherModel plain;
  train_lopsided(plain);
  FisherOptions o;
  o.balanced_strength = true;
  FisherModel balanced(o);
  train_lopsided(balanced);
  const auto ham = tokenize("video song");
  EXPECT_LT(balanced.score(ham), plain.score(ham));
  EXPECT_LT(balanced.score(ham), 0.5);
  EXPECT_GT(balanced.score(tokenize("cheap click")), 0.9);  // the spam words stay spam
  // Equal class counts: the same n, the same scores.
  FisherModel even;
  FisherModel even_balanced(o);
  train_toy(even, 1);
  train_toy(even_balanced, 1);
  for (const char* text : {"the cheap video", "my beautiful song", "free chorus"}) {
    EXPECT_DOUBLE_EQ(even.score(tokenize(text)), even_balanced.score(tokenize(text))) << text;
  }
}

TEST(Fisher, SpamEvidenceNeedsEnoughHamsToHaveExpectedIt) {
  // 5 hams learned: "video" (in 20 of 200 spams) would be expected in 0.5 of them, so not seeing
  // it there is no evidence, and a ham that uses it next to its own words is judged on those.
  FisherOptions o;
  o.balanced_strength = true;
  FisherModel balanced(o);
  train_lopsided(balanced);
  o.min_expected_ham = 2.0;
  FisherModel expected(o);
  train_lopsided(expected);
  const auto video = tokenize("video song chorus");
  EXPECT_LT(expected.score(video), balanced.score(video));
  EXPECT_LT(expected.score(video), 0.2);
  // "cheap" is in every spam: 5 expected hams and none seen, still spam evidence.
  EXPECT_GT(expected.score(tokenize("cheap click")), 0.9);
  EXPECT_DOUBLE_EQ(expected.score(tokenize("cheap click")),
                   balanced.score(tokenize("cheap click")));
  // Equal class counts: a token in one spam is expected in one ham; nothing changes at 1.
  FisherOptions even_options;
  even_options.min_expected_ham = 1.0;
  FisherModel even;
  FisherModel even_expected(even_options);
  train_toy(even, 1);
  train_toy(even_expected, 1);
  for (const char* text : {"the cheap video", "my beautiful song", "free chorus"}) {
    EXPECT_DOUBLE_EQ(even.score(tokenize(text)), even_expected.score(tokenize(text))) << text;
  }
}

TEST(Fisher, ForgetUndoesTrain) {
  FisherModel model;
  train_toy(model, 1);
  auto before = model.serialize();
  auto f = tokenize("a brand new message about cheap stuff");
  model.train(f, true);
  model.forget(f, true);
  EXPECT_EQ(model.serialize(), before);
}

TEST(Fisher, PruneDropsRareFeatures) {
  FisherModel model;
  train_toy(model, 1);
  std::size_t all = model.features();
  model.prune(3);
  EXPECT_LT(model.features(), all);
  EXPECT_GT(model.features(), 0U);
}

template <class Model>
void expect_round_trip(const Model& model) {
  auto bytes = model.serialize();
  auto loaded = Model::deserialize(bytes);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  for (const auto& text : {"click here for free followers", "what a beautiful voice", "zz"}) {
    EXPECT_DOUBLE_EQ(loaded->score(tokenize(text)), model.score(tokenize(text)));
  }
  EXPECT_EQ(loaded->serialize(), bytes);
}

TEST(Serialization, LogisticRoundTrip) {
  LogisticModel model;
  train_toy(model, 2);
  expect_round_trip(model);
  LogisticOptions plain;
  plain.adagrad = false;
  plain.binary = false;
  plain.hash_bits = 16;
  LogisticModel other(plain);
  train_toy(other, 2);
  expect_round_trip(other);
}

TEST(Serialization, FisherRoundTrip) {
  FisherModel model;
  train_toy(model, 1);
  expect_round_trip(model);
}

template <class Model>
void expect_rejects_corruption(const Model& model) {
  const std::string bytes = model.serialize();
  EXPECT_FALSE(Model::deserialize("").has_value());
  EXPECT_FALSE(Model::deserialize("GFCM").has_value());
  EXPECT_FALSE(Model::deserialize(bytes.substr(0, bytes.size() - 1)).has_value());
  EXPECT_FALSE(Model::deserialize(bytes + "x").has_value());
  // Every single-byte flip is caught (header fields or checksum).
  for (std::size_t i = 0; i < bytes.size(); i += 1 + bytes.size() / 97) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x40);
    EXPECT_FALSE(Model::deserialize(bad).has_value()) << "flip at " << i;
  }
}

TEST(Serialization, LogisticRejectsCorruptInput) {
  LogisticModel model;
  train_toy(model, 1);
  expect_rejects_corruption(model);
  // A model of the other kind is refused.
  FisherModel fisher;
  EXPECT_FALSE(LogisticModel::deserialize(fisher.serialize()).has_value());
}

TEST(Serialization, FisherRejectsCorruptInput) {
  FisherModel model;
  train_toy(model, 1);
  expect_rejects_corruption(model);
  LogisticModel logistic;
  auto r = FisherModel::deserialize(logistic.serialize());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::InvalidInput);
}

TEST(Serialization, ValidEnvelopeWithBadPayloadIsRejected) {
  // A correct checksum does not make a payload valid: the models check their fields too.
  EXPECT_FALSE(FisherModel::deserialize(frame(ModelKind::Fisher, "garbage")).has_value());
  EXPECT_FALSE(LogisticModel::deserialize(frame(ModelKind::Logistic, "garbage")).has_value());
  ByteWriter w;
  w.f64(1.0);
  w.f64(0.5);
  w.f64(0.1);
  w.u32(0);
  w.u64(1);
  w.u64(1);
  w.u64(1'000'000'000'000ULL);  // claims far more entries than there are bytes
  EXPECT_FALSE(FisherModel::deserialize(frame(ModelKind::Fisher, w.view())).has_value());
}

// Marks the features of `v` whose ids are odd as character n-grams (a stand-in for the
// tokenizer's text n-grams).
FeatureVector with_ngram_group(FeatureVector v) {
  for (auto& f : v) {
    f.group = (f.id & 1U) != 0 ? FeatureGroup::CharNgram : FeatureGroup::Token;
  }
  return v;
}

TEST(Logistic, NgramWeightZeroKeepsOneNormOverAllFeatures) {
  LogisticModel flat;
  LogisticModel grouped;  // ngram_weight 0: groups are ignored
  for (const auto& ex : toy_corpus()) {
    flat.train(tokenize(ex.text), ex.spam);
    grouped.train(with_ngram_group(tokenize(ex.text)), ex.spam);
  }
  const auto probe = tokenize("click here for free followers");
  EXPECT_DOUBLE_EQ(grouped.score(with_ngram_group(probe)), flat.score(probe));
}

TEST(Logistic, NgramWeightScalesOnlyTheNgramBlock) {
  LogisticOptions split;
  split.ngram_weight = 0.7;
  LogisticModel a;
  LogisticModel b(split);
  for (const auto& ex : toy_corpus()) {
    a.train(tokenize(ex.text), ex.spam);
    b.train(tokenize(ex.text), ex.spam);  // no n-grams: the token block alone, norm 1
  }
  const auto probe = tokenize("cheap subscribe");
  EXPECT_DOUBLE_EQ(b.score(probe), a.score(probe));
  // With n-grams present the two blocks are normalised apart, so the scores now differ.
  LogisticModel c(split);
  LogisticModel d;
  for (const auto& ex : toy_corpus()) {
    c.train(with_ngram_group(tokenize(ex.text)), ex.spam);
    d.train(with_ngram_group(tokenize(ex.text)), ex.spam);
  }
  EXPECT_NE(c.score(with_ngram_group(probe)), d.score(with_ngram_group(probe)));
  expect_separates(c, 0.2);
}

TEST(Serialization, LogisticRoundTripKeepsNgramWeight) {
  LogisticOptions o;
  o.ngram_weight = 0.7;
  LogisticModel model(o);
  for (const auto& ex : toy_corpus()) {
    model.train(with_ngram_group(tokenize(ex.text)), ex.spam);
  }
  auto loaded = LogisticModel::deserialize(model.serialize());
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_DOUBLE_EQ(loaded->options().ngram_weight, 0.7);
  const auto probe = with_ngram_group(tokenize("cheap subscribe"));
  EXPECT_DOUBLE_EQ(loaded->score(probe), model.score(probe));
  EXPECT_EQ(loaded->serialize(), model.serialize());
}

// The payload layout from before ngram_weight existed (flags 1|2|4 only, no weight field):
// models stored then must still load, with ngram_weight 0.
TEST(Serialization, LogisticReadsTheFormatBeforeNgramWeight) {
  ByteWriter w;
  w.u8(16);         // hash bits
  w.u8(1 | 2 | 4);  // adagrad, binary, normalize
  w.f64(0.4);       // learning rate
  w.f64(1e-3);      // decay
  w.f64(1e-3);      // l2
  w.f64(0.0);       // confident
  w.u64(3);         // examples
  w.u64(3);         // updates
  w.f64(0.25);      // bias
  w.f64(1.0);       // bias AdaGrad sum
  w.u32(1);         // one weight
  w.u32(hash_feature("w:cheap") & 0xFFFF);
  w.f32(2.0F);
  w.f32(4.0F);
  auto loaded = LogisticModel::deserialize(frame(ModelKind::Logistic, w.view()));
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_EQ(loaded->options().ngram_weight, 0.0);
  EXPECT_EQ(loaded->examples(), 3U);
  EXPECT_GT(loaded->score(tokenize("cheap")), 0.5);
  // An unchanged model is written back in the same layout.
  EXPECT_EQ(loaded->serialize(), frame(ModelKind::Logistic, w.view()));
}

}  // namespace
}  // namespace gf::classify
