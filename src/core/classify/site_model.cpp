#include "core/classify/site_model.hpp"

#include <algorithm>
#include <cmath>

namespace gf::classify {

namespace {

double clamped_logit(double p, double clamp) {
  const double q = std::clamp(p, 1e-12, 1.0 - 1e-12);
  return std::clamp(std::log(q / (1.0 - q)), -clamp, clamp);
}

}  // namespace

ClassifierOptions site_classifier_options() {
  ClassifierOptions o = default_classifier_options();
  o.logistic.hash_bits = kSiteHashBits;
  return o;
}

TextLogOdds combine_site(double p_deployment, std::optional<double> p_site,
                         const SiteCombineOptions& options, double clamp) {
  TextLogOdds t;
  const double d = clamped_logit(p_deployment, clamp);
  if (!p_site) {
    t.deployment = d;
    return t;
  }
  t.deployment = options.deployment_weight * d;
  t.site = options.site_weight * clamped_logit(*p_site, clamp);
  return t;
}

double combined_probability(double p_deployment, std::optional<double> p_site,
                            const SiteCombineOptions& options, double clamp) {
  return 1.0 / (1.0 + std::exp(-combine_site(p_deployment, p_site, options, clamp).total()));
}

}  // namespace gf::classify
