#pragma once
// Files and directories: where state lives (daemon.data_dir) and where the files greyflux ships
// are found, whatever the working directory.
//
// - State paths (store.path, akismet.store_path, spamd.model, admin.socket; SettingType::
//   StatePath) are resolved against daemon.data_dir when relative; data_dir itself, when
//   relative, against the working directory at start-up. After load_config() every one is
//   absolute, and `greyflux dump-config` shows them so.
// - Data files (flux.allowlist; SettingType::DataFile) are resolved, when relative, against the
//   shipped-data directories: share/greyflux under the install prefix, and for a binary that
//   runs from its build tree the source tree's data/ first. A data file that is set but does
//   not exist is a config error naming the setting and the path ("" turns it off).
// - The config without --config: $GREYFLUX_CONFIG, else the source tree's etc/greyflux.toml
//   for a build-tree binary, else the installed one (/etc/greyflux/greyflux.toml).
#include <string>
#include <vector>

#include "core/common/result.hpp"

namespace gf::app {

class Values;

bool running_from_build_tree();
std::vector<std::string> shipped_data_dirs();
std::string default_config_path();

// Makes every path setting absolute (see above). Errors name the setting.
[[nodiscard]] Result<void> resolve_paths(Values& v);

// Creates, mode 0750, the missing directories that the state paths in use need (the data
// directory and the parents of the stores, the mail model and the admin socket). The error is
// one line naming the setting and the path: "daemon.data_dir: cannot create /x: reason".
[[nodiscard]] Result<void> prepare_state_dirs(const Values& v);

}  // namespace gf::app
