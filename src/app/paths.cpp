#include "app/paths.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "app/settings.hpp"
#include "gf_paths.hpp"

namespace gf::app {
namespace {

namespace fs = std::filesystem;

std::string self_exe() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// mkdir -p with mode 0750 for the components that are missing.
Result<void> make_dirs(const fs::path& dir, std::string_view setting) {
  fs::path so_far;
  for (const fs::path& part : dir) {
    so_far /= part;
    const std::string p = so_far.string();
    if (p.empty() || exists(p)) {
      continue;
    }
    if (::mkdir(p.c_str(), 0750) != 0 && errno != EEXIST) {
      return fail(Errc::Config, fmt::format("{}: cannot create {}: {}", setting, dir.string(),
                                            std::strerror(errno)));
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return fail(Errc::Config, fmt::format("{}: {} is not a directory", setting, dir.string()));
  }
  return {};
}

}  // namespace

bool running_from_build_tree() {
  const std::string build = std::string(paths::kBuildDir) + "/";
  return self_exe().starts_with(build);
}

std::vector<std::string> shipped_data_dirs() {
  std::vector<std::string> dirs;
  if (running_from_build_tree()) {
    dirs.push_back(std::string(paths::kSourceDir) + "/data");
  }
  dirs.emplace_back(paths::kInstalledShareDir);
  return dirs;
}

std::string default_config_path() {
  if (const char* env = std::getenv("GREYFLUX_CONFIG"); env != nullptr && *env != '\0') {
    return env;
  }
  if (running_from_build_tree()) {
    return std::string(paths::kSourceDir) + "/etc/greyflux.toml";
  }
  return paths::kInstalledConfig;
}

namespace {

struct Shipped {
  std::string found;  // empty when the file is in none of the shipped-data directories
  std::string tried;  // "A or B", for the error
};

Shipped find_shipped(const std::string& name) {
  Shipped out;
  for (const std::string& dir : shipped_data_dirs()) {
    const std::string candidate = (fs::path(dir) / name).lexically_normal().string();
    out.tried += (out.tried.empty() ? "" : " or ") + candidate;
    if (exists(candidate)) {
      out.found = candidate;
      break;
    }
  }
  return out;
}

}  // namespace

Result<void> resolve_paths(Values& v) {
  std::error_code ec;
  fs::path data_dir = fs::absolute(v.str("daemon.data_dir"), ec);
  if (ec || v.str("daemon.data_dir").empty()) {
    return fail(Errc::Config, "daemon.data_dir: must name a directory");
  }
  data_dir = data_dir.lexically_normal();
  v.set("daemon.data_dir", data_dir.string());
  for (const SettingDef& d : settings_table()) {
    const std::string& p = (d.type == SettingType::StatePath || d.type == SettingType::DataFile)
                               ? v.str(d.name)
                               : std::string();
    if (p.empty() || p.front() == '/') {
      if (d.type == SettingType::DataFile && !p.empty() && !exists(p)) {
        return fail(Errc::Config, fmt::format("{}: {} does not exist (\"\" = none)", d.name, p));
      }
      continue;
    }
    if (d.type == SettingType::StatePath) {
      v.set(d.name, (data_dir / p).lexically_normal().string());
      continue;
    }
    const Shipped shipped = find_shipped(p);
    if (!shipped.found.empty()) {
      v.set(d.name, shipped.found);
    } else if (v.configured(d.name)) {
      return fail(Errc::Config,
                  fmt::format("{}: \"{}\" is not in {} (\"\" = none)", d.name, p, shipped.tried));
    }
    // A default that was not shipped where this binary looks stays relative: data_file() names
    // the problem if and when the feature that needs the file is turned on.
  }
  return {};
}

Result<std::string> data_file(const Values& v, std::string_view name, std::string_view needed_by) {
  const std::string& p = v.str(name);
  if (p.empty() || p.front() == '/') {
    return p;
  }
  const Shipped shipped = find_shipped(p);
  if (!shipped.found.empty()) {
    return shipped.found;
  }
  return fail(Errc::Config,
              fmt::format("{}: the shipped default \"{}\" is not in {}, and {} needs it: set {} to "
                          "a file, or to \"\" for none",
                          name, p, shipped.tried, needed_by, name));
}

Result<void> prepare_state_dirs(const Values& v) {
  const fs::path data_dir(v.str("daemon.data_dir"));
  if (auto ok = make_dirs(data_dir, "daemon.data_dir"); !ok) {
    return ok;
  }
  for (const SettingDef& d : settings_table()) {
    if (d.type != SettingType::StatePath || v.str(d.name).empty()) {
      continue;
    }
    const fs::path parent = fs::path(v.str(d.name)).parent_path();
    if (auto ok = make_dirs(parent, d.name); !ok) {
      return ok;
    }
  }
  return {};
}

namespace {

// Fails when `path` exists and anyone may write to it: a world-writable config lets any local
// user rewrite the policy, a world-writable state directory lets them swap the stores or plant a
// socket. A sticky bit does not help (it limits deleting, not creating).
Result<void> refuse_if_world_writable(const std::string& path, std::string_view what) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0 || (st.st_mode & S_IWOTH) == 0 ||
      !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {  // /dev/null as the config is fine
    return {};
  }
  return fail(Errc::Config,
              fmt::format("refusing to start: {} {} is world-writable (mode {:04o}); chmod o-w it",
                          what, path, st.st_mode & 07777));
}

}  // namespace

Result<void> refuse_world_writable(const Values& v, const std::string& config_path) {
  if (auto ok = refuse_if_world_writable(config_path, "config file"); !ok) {
    return ok;
  }
  if (auto ok = refuse_if_world_writable(v.str("daemon.data_dir"), "state directory"); !ok) {
    return ok;
  }
  for (const SettingDef& d : settings_table()) {
    if (d.type != SettingType::StatePath || v.str(d.name).empty()) {
      continue;
    }
    // The directory each state path lives in, and the path itself when it is a directory (an
    // LMDB store).
    const std::string& p = v.str(d.name);
    for (const std::string& dir : {fs::path(p).parent_path().string(), p}) {
      std::error_code ec;
      if (!fs::is_directory(dir, ec)) {
        continue;
      }
      if (auto ok = refuse_if_world_writable(dir, "state directory"); !ok) {
        return fail(Errc::Config, fmt::format("{} ({})", ok.error().message, d.name));
      }
    }
  }
  return {};
}

}  // namespace gf::app
