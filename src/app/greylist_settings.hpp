#pragma once
// The greylist's part of the settings table: for every row of settings_table() that lands in
// greylist::Settings, the code that checks a parsed value and puts it there.
//
// build_policy() applies every binding to build the reloadable policy, validate() runs them to
// check a config, and the scenario interpreter (tests/support/scenario.cpp) applies
// `SET key=value` through the same bindings, so adding a greylist setting is one table row, one
// binding here and one scenario. The whitelist file lists (greylist.whitelist_clients and
// _recipients) are read by build_policy, not bound: a scenario gives their lines directly.
//
// Depends on core and settings.hpp only (library greyflux_settings), so tests and fuzz targets
// can link it without the io layer.
#include <string_view>
#include <vector>

#include "app/setting_bindings.hpp"
#include "core/greylist/greylist.hpp"

namespace gf::app {

using GreylistBinding = SettingBinding<greylist::Settings>;

const std::vector<GreylistBinding>& greylist_bindings();

// The binding for a full name ("greylist.delay", "policy.on_store_failure") or a key that
// names one binding ("delay", "on_store_failure"); nullptr if none.
inline const GreylistBinding* find_greylist_binding(std::string_view name_or_key) {
  return find_binding(greylist_bindings(), name_or_key);
}

// Every binding, with its value from `v`; the first error.
[[nodiscard]] inline Result<void> apply_greylist_settings(const Values& v, greylist::Settings& s) {
  return apply_bindings(greylist_bindings(), v, s);
}

// Parses `text` as the table parses a --set value, then applies it: `SET key=value` in a
// scenario. An unknown name or a bad value is an error.
[[nodiscard]] inline Result<void> apply_greylist_setting(std::string_view name_or_key,
                                                         std::string_view text,
                                                         greylist::Settings& s) {
  return apply_binding_text(greylist_bindings(), name_or_key, text, s);
}

}  // namespace gf::app
