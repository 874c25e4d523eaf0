#pragma once
// Per-site text models: how a site's own model is shaped and how its opinion is combined with
// the deployment-wide model's.
//
// Flow: with `[akismet] site_models` on, every submit-spam / submit-ham trains the deployment
// Classifier and also the Classifier of its site (made with site_classifier_options(): the
// deployment's tokenizer and learner, so one FeatureVector serves both, with a smaller hashed
// weight table). A comment-check on a site whose model has seen enough of both classes passes
// both probabilities to combine_site(); the result is two log-odds shares, shown as the
// TEXT_CLASSIFIER and SITE_CLASSIFIER symbols of the decision (core/akismet/decision), and used
// the same way by bench/comment_eval.cpp, so the measured rule is the production rule.
//
// The rule (chosen with gf_comment_eval's online protocol, docs/akismet.md "Per-site models"):
// the deployment's log-odds plus the site's log-odds at weight 0.5,
//   logit = 1.0 * logit(p_deployment) + 0.5 * logit(p_site),
// each log-odds clamped to +-clamp first.
//
// Threading: pure functions. Errors: none.
#include <optional>

#include "core/classify/classifier.hpp"

namespace gf::classify {

// Hashed-feature bits of a site model: 2^16 weights and AdaGrad sums as floats = 512 KiB per
// site at most (the deployment model uses 2^20, 8 MiB). A site sees far fewer distinct
// features than the deployment, so collisions cost little (measured: docs/akismet.md).
inline constexpr int kSiteHashBits = 16;

// The deployment options with the site model's table size.
[[nodiscard]] ClassifierOptions site_classifier_options();

struct SiteCombineOptions {
  double deployment_weight = 1.0;  // weight of the deployment log-odds when a site model speaks
  double site_weight = 0.5;        // weight of the site log-odds
};

// The two shares of the combined text log-odds; total() is what the decision adds.
struct TextLogOdds {
  double deployment = 0.0;
  double site = 0.0;  // 0 when the site model had no say
  [[nodiscard]] double total() const { return deployment + site; }
};

// p_deployment and p_site are P(spam) in [0, 1]; each log-odds is clamped to [-clamp, clamp]
// (clamp > 0). Without p_site the deployment log-odds count alone, at weight 1.
[[nodiscard]] TextLogOdds combine_site(double p_deployment, std::optional<double> p_site,
                                       const SiteCombineOptions& options, double clamp);

// sigmoid(combine_site(...).total()): the combined P(spam).
[[nodiscard]] double combined_probability(double p_deployment, std::optional<double> p_site,
                                          const SiteCombineOptions& options, double clamp);

}  // namespace gf::classify
