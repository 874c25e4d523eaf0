#pragma once
// Files and directories: where state lives (daemon.data_dir) and where the files greyflux ships
// are found, whatever the working directory.
//
// - State paths (store.path, akismet.store_path, spamd.model, admin.socket, flux.dnstap_socket,
//   flux.rpz_path; SettingType::StatePath) are resolved against daemon.data_dir when relative;
//   data_dir itself, when relative, against the working directory at start-up. After load_config()
//   every one is absolute, and `greyflux dump-config` shows them so.
// - Data files (flux.allowlist; SettingType::DataFile) are resolved, when relative, against the
//   shipped-data directories: share/greyflux under the install prefix, and for a binary that
//   runs from its build tree the source tree's data/ first. A data file the user set (config
//   file or --set) that does not exist is a config error naming the setting and the path (""
//   turns it off). A default that is not where this binary looks (a binary copied out of its
//   build tree and never installed) is an error only for the feature that needs it: data_file()
//   says so when that feature starts (flux.allowlist: the flux detector in `serve`, `flux scan`
//   and `flux check`), so a daemon without flux starts anyway.
// - The config without --config: $GREYFLUX_CONFIG, else the source tree's etc/greyflux.toml
//   for a build-tree binary, else the installed one (/etc/greyflux/greyflux.toml).
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.hpp"

namespace gf::app {

class Values;

bool running_from_build_tree();
std::vector<std::string> shipped_data_dirs();
std::string default_config_path();

// Makes every path setting absolute (see above). Errors name the setting.
[[nodiscard]] Result<void> resolve_paths(Values& v);

// The path of the DataFile setting `name` for a feature that is on and needs it (`needed_by`,
// e.g. "the flux detector"): "" when set to none, else an absolute path that existed when it
// was resolved. Error: the shipped default is in none of shipped_data_dirs(); the message names
// the setting, the places looked in and the feature.
[[nodiscard]] Result<std::string> data_file(const Values& v, std::string_view name,
                                            std::string_view needed_by);

// Creates, mode 0750, the missing directories that the state paths in use need (the data
// directory and the parents of the stores, the mail model and the admin socket). The error is
// one line naming the setting and the path: "daemon.data_dir: cannot create /x: reason".
[[nodiscard]] Result<void> prepare_state_dirs(const Values& v);

// For `serve`: an error when the config file, daemon.data_dir, or a directory that holds a state
// path (or is one: an LMDB store) is world-writable. Call after prepare_state_dirs(). The one
// line names the path and its mode.
[[nodiscard]] Result<void> refuse_world_writable(const Values& v, const std::string& config_path);

}  // namespace gf::app
