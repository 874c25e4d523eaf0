#pragma once
// Config loading: TOML file (toml++) + `--set section.key=value` overrides, checked against the
// settings table, then turned into the typed pieces the wiring needs. A startup error is fatal;
// a reload error keeps the old config.
#include <memory>
#include <string>
#include <vector>

#include "app/settings.hpp"
#include "core/greylist/greylist.hpp"

namespace gf::app {

[[nodiscard]] Result<Values> load_config(const std::string& path,
                                         const std::vector<std::string>& overrides);

// Reads the whitelist files and builds the reloadable greylist policy. Lines that fit no form
// are returned as warnings; an unreadable file (other than *.local) is an error.
[[nodiscard]] Result<std::shared_ptr<const greylist::Policy>> build_policy(
    const Values& v, std::vector<std::string>& warnings);

// Prints every setting with its default and doc, as a commented TOML file.
std::string dump_config(const Values* current);

}  // namespace gf::app
