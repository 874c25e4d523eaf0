#include "core/classify/site_model.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace gf::classify {
namespace {

double logit(double p) { return std::log(p / (1.0 - p)); }

TEST(SiteModel, WithoutSiteOpinionTheDeploymentDecidesAlone) {
  const SiteCombineOptions o;
  const TextLogOdds t = combine_site(0.8, std::nullopt, o, 6.0);
  EXPECT_NEAR(t.deployment, logit(0.8), 1e-12);
  EXPECT_EQ(t.site, 0.0);
  EXPECT_NEAR(combined_probability(0.8, std::nullopt, o, 6.0), 0.8, 1e-12);
}

TEST(SiteModel, MeasuredRuleAddsHalfTheSiteLogOdds) {
  const SiteCombineOptions o;  // the default is the measured rule
  EXPECT_EQ(o.deployment_weight, 1.0);
  EXPECT_EQ(o.site_weight, 0.5);
  const TextLogOdds t = combine_site(0.3, 0.9, o, 6.0);
  EXPECT_NEAR(t.deployment, logit(0.3), 1e-12);
  EXPECT_NEAR(t.site, 0.5 * logit(0.9), 1e-12);
  EXPECT_NEAR(t.total(), logit(0.3) + 0.5 * logit(0.9), 1e-12);
  // A site model that agrees strengthens the verdict; one that disagrees can overturn a weak one.
  EXPECT_GT(combined_probability(0.7, 0.9, o, 6.0), 0.7);
  EXPECT_GT(combined_probability(0.4, 0.95, o, 6.0), 0.5);
  EXPECT_LT(combined_probability(0.99, 0.05, o, 6.0), 0.99);
  // An undecided site model changes nothing.
  EXPECT_NEAR(combined_probability(0.3, 0.5, o, 6.0), 0.3, 1e-12);
}

TEST(SiteModel, EachLogOddsIsClampedBeforeWeighting) {
  const SiteCombineOptions o{.deployment_weight = 0.5, .site_weight = 0.5};
  const TextLogOdds t = combine_site(1.0, 0.0, o, 6.0);
  EXPECT_NEAR(t.deployment, 3.0, 1e-12);
  EXPECT_NEAR(t.site, -3.0, 1e-12);
  EXPECT_NEAR(t.total(), 0.0, 1e-12);
}

TEST(SiteModel, SiteOptionsShareTheTokenizerWithASmallerTable) {
  const ClassifierOptions d = default_classifier_options();
  const ClassifierOptions s = site_classifier_options();
  EXPECT_EQ(s.logistic.hash_bits, kSiteHashBits);
  EXPECT_LT(s.logistic.hash_bits, d.logistic.hash_bits);
  // One FeatureVector serves both models: the same tokenizer settings give the same features.
  const Classifier dc(d);
  const Classifier sc(s);
  CommentFields f;
  f.content = "Check out my channel http://spam.example for free gift cards!!";
  f.author = "Promo Bot";
  const FeatureVector a = dc.features(f);
  const FeatureVector b = sc.features(f);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].id, b[i].id);
  }
}

}  // namespace
}  // namespace gf::classify
