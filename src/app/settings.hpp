#pragma once
// The one table of settings: name, type, default, whether SIGHUP reloads it, and a one-line doc.
// It drives config validation, `greyflux dump-config`, and the key list in etc/greyflux.toml.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/common/result.hpp"
#include "core/common/time.hpp"

namespace gf::app {

// StatePath and DataFile are strings that load_config() turns into absolute paths
// (app/paths.hpp): a relative StatePath lives under daemon.data_dir, a relative DataFile is a
// file shipped with greyflux (share/greyflux).
enum class SettingType { String, StringList, Duration, Size, Integer, Bool, StatePath, DataFile };

struct SettingDef {
  std::string_view name;  // "section.key"
  SettingType type;
  std::string_view default_text;  // as it would be written in TOML
  bool reloadable;
  std::string_view doc;
};

const std::vector<SettingDef>& settings_table();
const SettingDef* find_setting(std::string_view name);
// For an unknown name, the setting it most likely meant: the same key in the one section that
// has it ("policy.delay" -> "greylist.delay"), else the nearest name within a typo or two (three
// for names over 15 characters); "" if none.
std::string_view closest_setting(std::string_view name);

using Value =
    std::variant<std::string, std::vector<std::string>, Millis, std::uint64_t, std::int64_t, bool>;

// Parses the text form of a value (a --set override or a default) for its setting's type.
[[nodiscard]] Result<Value> parse_value(const SettingDef& def, std::string_view text);
std::string format_value(const Value& v);

class Values {
 public:
  Values();  // every setting at its default
  void set(std::string_view name, Value v) { values_[std::string(name)] = std::move(v); }
  // Marks a setting as given by the user (config file or --set), not left at its default:
  // a shipped file the user names must exist, a default one only when its feature is on.
  void mark_configured(std::string_view name) { configured_.emplace(name); }
  [[nodiscard]] bool configured(std::string_view name) const {
    return configured_.find(name) != configured_.end();
  }
  const Value& get(std::string_view name) const;

  const std::string& str(std::string_view name) const;
  const std::vector<std::string>& list(std::string_view name) const;
  Millis duration(std::string_view name) const;
  std::uint64_t size(std::string_view name) const;
  std::int64_t integer(std::string_view name) const;
  bool boolean(std::string_view name) const;

 private:
  std::map<std::string, Value, std::less<>> values_;
  std::set<std::string, std::less<>> configured_;
};

// A number kept in a string setting ("5.0", "-0.5"): the value, or an error naming the setting
// unless the whole text is a number strictly between `lo` and `hi`.
[[nodiscard]] Result<double> number_setting(const Values& v, std::string_view name, double lo,
                                            double hi);
// The same for the text of a string setting called `name`.
[[nodiscard]] Result<double> number_value(std::string_view name, const std::string& text, double lo,
                                          double hi);

}  // namespace gf::app
