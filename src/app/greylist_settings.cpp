#include "app/greylist_settings.hpp"

#include <fmt/format.h>

#include <chrono>
#include <type_traits>

namespace gf::app {
namespace {

using greylist::Settings;

// A field taken as it is (the table's type is the only check).
template <auto Field>
Result<void> assign(Settings& s, const Value& v) {
  using T = std::remove_cvref_t<decltype(s.*Field)>;
  s.*Field = std::get<T>(v);
  return {};
}

// A duration field, kept in whole seconds.
template <Seconds Settings::*Field>
Result<void> assign_secs(Settings& s, const Value& v) {
  s.*Field = std::chrono::duration_cast<Seconds>(std::get<Millis>(v));
  return {};
}

// An integer setting within [lo, hi], or an error in the words validate() always used.
Result<std::int64_t> in_range(std::string_view name, const Value& v, std::int64_t lo,
                              std::int64_t hi) {
  const std::int64_t n = std::get<std::int64_t>(v);
  if (n < lo || n > hi) {
    return fail(Errc::Config, fmt::format("{}: must be {}..{}", name, lo, hi));
  }
  return n;
}

Result<void> set_prefix(std::string_view name, const Value& v, int lo, int hi, int& out) {
  auto n = in_range(name, v, lo, hi);
  if (!n) {
    return tl::unexpected(n.error());
  }
  out = static_cast<int>(*n);
  return {};
}

Result<void> set_count(std::string_view name, const Value& v, std::uint32_t& out) {
  auto n = in_range(name, v, 0, 1'000'000);
  if (!n) {
    return tl::unexpected(n.error());
  }
  out = static_cast<std::uint32_t>(*n);
  return {};
}

Result<void> set_flux_agents(Settings& s, const Value& v) {
  const std::string& text = std::get<std::string>(v);
  if (text == "defer") {
    s.flux_agents = Settings::FluxAgents::Defer;
  } else if (text == "reject") {
    s.flux_agents = Settings::FluxAgents::Reject;
  } else if (text == "off") {
    s.flux_agents = Settings::FluxAgents::Off;
  } else {
    return fail(Errc::Config, "greylist.flux_agents: must be \"defer\", \"reject\" or \"off\"");
  }
  return {};
}

Result<void> set_mode(Settings& s, const Value& v) {
  auto mode = greylist::parse_mode(std::get<std::string>(v));
  if (!mode) {
    return tl::unexpected(mode.error());
  }
  s.mode = *mode;
  return {};
}

Result<void> set_on_store_failure(Settings& s, const Value& v) {
  const std::string& text = std::get<std::string>(v);
  if (text != "dunno" && text != "defer") {
    return fail(Errc::Config, "policy.on_store_failure: must be \"dunno\" or \"defer\"");
  }
  s.defer_on_store_failure = text == "defer";
  return {};
}

}  // namespace

const std::vector<GreylistBinding>& greylist_bindings() {
  using S = Settings;
  static const std::vector<GreylistBinding> kBindings = {
      {"greylist.delay", assign_secs<&S::delay>},
      {"greylist.retry_window", assign_secs<&S::retry_window>},
      {"greylist.max_age", assign_secs<&S::max_age>},
      {"greylist.ipv4_prefix",
       [](S& s, const Value& v) {
         return set_prefix("greylist.ipv4_prefix", v, 8, 32, s.ipv4_prefix);
       }},
      {"greylist.ipv6_prefix",
       [](S& s, const Value& v) {
         return set_prefix("greylist.ipv6_prefix", v, 16, 128, s.ipv6_prefix);
       }},
      {"greylist.auto_whitelist_after",
       [](S& s, const Value& v) {
         return set_count("greylist.auto_whitelist_after", v, s.auto_whitelist_after);
       }},
      {"greylist.domain_auto_whitelist_after",
       [](S& s, const Value& v) {
         return set_count("greylist.domain_auto_whitelist_after", v, s.domain_auto_whitelist_after);
       }},
      {"greylist.pooled_senders", assign<&S::pooled_senders>},
      {"greylist.action", assign<&S::action>},
      {"greylist.text", assign<&S::text>},
      {"greylist.header", assign<&S::header>},
      {"greylist.hostname", assign<&S::hostname>},
      {"greylist.flux_agents", set_flux_agents},
      {"greylist.mode", set_mode},
      {"policy.on_store_failure", set_on_store_failure},
  };
  return kBindings;
}

}  // namespace gf::app
