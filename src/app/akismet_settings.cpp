#include "app/akismet_settings.hpp"

#include <fmt/format.h>

namespace gf::app {
namespace {

using akismet::ServiceOptions;

// An integer setting of at least `lo`, in the words validate() always used.
Result<std::int64_t> at_least(std::string_view name, const Value& v, std::int64_t lo) {
  const std::int64_t n = std::get<std::int64_t>(v);
  if (n < lo) {
    return fail(Errc::Config, lo == 0 ? fmt::format("{}: must not be negative", name)
                                      : fmt::format("{}: must be at least {}", name, lo));
  }
  return n;
}

template <typename T>
Result<void> set_at_least(std::string_view name, const Value& v, std::int64_t lo, T& out) {
  auto n = at_least(name, v, lo);
  if (!n) {
    return tl::unexpected(n.error());
  }
  out = static_cast<T>(*n);
  return {};
}

Result<void> set_threshold(ServiceOptions& o, const Value& v) {
  auto t = number_value("akismet.spam_threshold", std::get<std::string>(v), -kAkismetThresholdRange,
                        kAkismetThresholdRange);
  if (!t) {
    return tl::unexpected(t.error());
  }
  o.decision.threshold = *t;
  return {};
}

Result<void> set_on_store_failure(ServiceOptions& o, const Value& v) {
  const auto& text = std::get<std::string>(v);
  if (text != "heuristics" && text != "retry") {
    return fail(Errc::Config, "akismet.on_store_failure: must be \"heuristics\" or \"retry\"");
  }
  o.on_store_failure =
      text == "retry" ? akismet::OnStoreFailure::Retry : akismet::OnStoreFailure::Heuristics;
  return {};
}

}  // namespace

const std::vector<AkismetBinding>& akismet_bindings() {
  using O = ServiceOptions;
  static const std::vector<AkismetBinding> kBindings = {
      {"akismet.usage_limit",
       [](O& o, const Value& v) {
         return set_at_least("akismet.usage_limit", v, 0, o.usage_limit);
       }},
      {"akismet.min_training",
       [](O& o, const Value& v) {
         return set_at_least("akismet.min_training", v, 0, o.model.min_training);
       }},
      {"akismet.site_models",
       [](O& o, const Value& v) -> Result<void> {
         o.model.site_models = std::get<bool>(v);
         return {};
       }},
      {"akismet.spam_threshold", set_threshold},
      {"akismet.on_store_failure", set_on_store_failure},
      {"akismet.max_site_models",
       [](O& o, const Value& v) {
         return set_at_least("akismet.max_site_models", v, 1, o.model.max_site_models);
       }},
      {"akismet.flood_texts",
       [](O& o, const Value& v) {
         return set_at_least("akismet.flood_texts", v, 2, o.flood_texts);
       }},
  };
  return kBindings;
}

}  // namespace gf::app
