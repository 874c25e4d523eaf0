#pragma once
// A binding ties a row of the settings table (settings.hpp) to the options struct of the core
// service that uses it: it checks a parsed value and stores it in the struct. A service's
// bindings are applied to build its options from a config (and to validate the config), and
// by its scenario interpreter for `SET key=value`, so both read the setting the same way.
// Instances: greylist_settings.hpp (greylist::Settings), akismet_settings.hpp
// (akismet::ServiceOptions).
#include <fmt/format.h>

#include <string_view>
#include <vector>

#include "app/settings.hpp"

namespace gf::app {

template <typename Target>
struct SettingBinding {
  std::string_view name;  // a row of settings_table()
  // Checks a value of the row's type and stores it; an error names the setting.
  Result<void> (*apply)(Target& t, const Value& v);
};

// The binding for a full name ("greylist.delay") or for the key after the section ("delay").
template <typename Target>
const SettingBinding<Target>* find_binding(const std::vector<SettingBinding<Target>>& bindings,
                                           std::string_view name_or_key) {
  for (const SettingBinding<Target>& b : bindings) {
    const std::string_view key = b.name.substr(b.name.find('.') + 1);
    if (b.name == name_or_key || key == name_or_key) {
      return &b;
    }
  }
  return nullptr;
}

// Every binding, with its value from `v`; the first error.
template <typename Target>
[[nodiscard]] Result<void> apply_bindings(const std::vector<SettingBinding<Target>>& bindings,
                                          const Values& v, Target& t) {
  for (const SettingBinding<Target>& b : bindings) {
    if (auto ok = b.apply(t, v.get(b.name)); !ok) {
      return ok;
    }
  }
  return {};
}

// `text` parsed as a --set value of the named setting, then applied.
template <typename Target>
[[nodiscard]] Result<void> apply_binding_text(const std::vector<SettingBinding<Target>>& bindings,
                                              std::string_view name_or_key, std::string_view text,
                                              Target& t) {
  const SettingBinding<Target>* b = find_binding(bindings, name_or_key);
  const SettingDef* def = b == nullptr ? nullptr : find_setting(b->name);
  if (def == nullptr) {
    return fail(Errc::Config, fmt::format("'{}' is not a setting of this service", name_or_key));
  }
  auto value = parse_value(*def, text);
  if (!value) {
    return tl::unexpected(value.error());
  }
  return b->apply(t, *value);
}

}  // namespace gf::app
