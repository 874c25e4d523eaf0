#include "app/config.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>
#include <unistd.h>

#include "app/akismet_service.hpp"
#include "app/akismet_settings.hpp"
#include "app/greylist_settings.hpp"
#include "app/milter_service.hpp"
#include "app/paths.hpp"
#include "app/spamd_service.hpp"
#include "core/common/redis_url.hpp"
#include "core/common/strings.hpp"
#include "io/net/listen.hpp"
#include "io/sys/file.hpp"

namespace gf::app {
namespace {

constexpr std::size_t kMaxWhitelistBytes = std::size_t{64} << 20;

Result<Value> from_toml(const SettingDef& def, const toml::node& node) {
  auto bad = [&](std::string_view want) {
    return fail(Errc::Config, fmt::format("{}: expected {}", def.name, want));
  };
  switch (def.type) {
    case SettingType::String:
    case SettingType::StatePath:
    case SettingType::DataFile:
      if (auto s = node.value<std::string>()) {
        return Value(*s);
      }
      return bad("a string");
    case SettingType::StringList: {
      const toml::array* arr = node.as_array();
      if (arr == nullptr) {
        if (auto s = node.value<std::string>()) {
          return Value(std::vector<std::string>{*s});
        }
        return bad("a list of strings");
      }
      std::vector<std::string> out;
      for (const toml::node& item : *arr) {
        auto s = item.value<std::string>();
        if (!s) {
          return bad("a list of strings");
        }
        out.push_back(*s);
      }
      return Value(std::move(out));
    }
    case SettingType::Duration:
      if (auto n = node.value<std::int64_t>()) {
        return parse_value(def, std::to_string(*n) + "s");
      }
      if (auto s = node.value<std::string>()) {
        return parse_value(def, *s);
      }
      return bad("a duration such as \"300s\"");
    case SettingType::Size:
      if (auto n = node.value<std::int64_t>(); n && *n >= 0) {
        return Value(static_cast<std::uint64_t>(*n));
      }
      if (auto s = node.value<std::string>()) {
        return parse_value(def, *s);
      }
      return bad("a size such as \"64KiB\"");
    case SettingType::Integer:
      if (auto n = node.value<std::int64_t>()) {
        return Value(*n);
      }
      return bad("an integer");
    case SettingType::Bool:
      if (auto b = node.value<bool>()) {
        return Value(*b);
      }
      return bad("true or false");
  }
  return bad("a value");
}

Result<void> validate(const Values& v) {
  auto in = [](std::string_view x, std::initializer_list<std::string_view> allowed) {
    for (auto a : allowed) {
      if (x == a) {
        return true;
      }
    }
    return false;
  };
  if (!in(v.str("store.backend"), {"lmdb", "memory", "redis"})) {
    return fail(Errc::Config, "store.backend: must be \"lmdb\", \"redis\" or \"memory\"");
  }
  if (auto url = parse_redis_url(v.str("store.redis_url")); !url) {
    return fail(Errc::Config, "store.redis_url: " + url.error().message);
  }
  if (v.boolean("store.cluster")) {
    const auto url = parse_redis_url(v.str("store.redis_url"));
    if (url->kind != RedisUrl::Kind::Tcp || url->db != 0) {
      return fail(Errc::Config,
                  "store.cluster: redis_url must name a cluster node over TCP with database 0");
    }
  }
  if (const auto n = v.integer("store.redis_pool_size"); n < 1 || n > 64) {
    return fail(Errc::Config, "store.redis_pool_size: must be 1 to 64");
  }
  if (v.duration("store.redis_timeout").count() <= 0 ||
      v.duration("store.redis_connect_timeout").count() <= 0) {
    return fail(Errc::Config, "store.redis_timeout, store.redis_connect_timeout: must be > 0");
  }
  if (v.duration("store.model_sync_interval") < Millis(100)) {
    return fail(Errc::Config, "store.model_sync_interval: must be at least 100ms");
  }
  // The greylist's own checks live with its bindings (greylist_settings.hpp).
  greylist::Settings scratch;
  if (auto ok = apply_greylist_settings(v, scratch); !ok) {
    return ok;
  }
  if (!in(v.str("log.level"), {"trace", "debug", "info", "warn", "error", "off"})) {
    return fail(Errc::Config, "log.level: must be trace, debug, info, warn, error or off");
  }
  for (auto name : {"policy.threads", "policy.max_attributes"}) {
    if (v.integer(name) < 0 || v.integer(name) > 1'000'000) {
      return fail(Errc::Config, fmt::format("{}: must be 0..1000000", name));
    }
  }
  if (v.integer("admin.max_list_rows") < 1 || v.integer("admin.max_list_rows") > 10'000'000) {
    return fail(Errc::Config, "admin.max_list_rows: must be 1..10000000");
  }
  if (v.integer("policy.max_connections") < 1) {
    return fail(Errc::Config, "policy.max_connections: must be at least 1");
  }
  if (v.size("policy.max_request") < 1024) {
    return fail(Errc::Config, "policy.max_request: must be at least 1KiB");
  }
  if (v.duration("store.commit_interval") < Millis(1) ||
      v.duration("store.commit_interval") > Millis(10'000)) {
    return fail(Errc::Config, "store.commit_interval: must be 1ms..10s");
  }
  if (v.duration("greylist.delay") > v.duration("greylist.retry_window")) {
    return fail(Errc::Config, "greylist.delay: must not exceed greylist.retry_window");
  }
  if (v.list("policy.listen").empty()) {
    return fail(Errc::Config, "policy.listen: needs at least one address");
  }
  for (const std::string& l : v.list("policy.listen")) {
    if (auto spec = io::parse_listen(l); !spec) {
      return fail(Errc::Config, "policy.listen: " + spec.error().message);
    }
  }
  for (const std::string& l : v.list("http.listen")) {
    auto spec = io::parse_listen(l);
    if (!spec) {
      return fail(Errc::Config, "http.listen: " + spec.error().message);
    }
    if (spec->is_unix) {
      return fail(Errc::Config, "http.listen: unix sockets are not supported");
    }
  }
  if (v.size("http.max_body") < 4096) {
    return fail(Errc::Config, "http.max_body: must be at least 4KiB");
  }
  for (auto name : {"http.max_connections", "akismet.max_checks", "admin.login_burst",
                    "admin.login_global_burst"}) {
    if (v.integer(name) < 1) {
      return fail(Errc::Config, fmt::format("{}: must be at least 1", name));
    }
  }
  if (v.duration("admin.session_lifetime") < std::chrono::minutes(1)) {
    return fail(Errc::Config, "admin.session_lifetime: must be at least 1m");
  }
  // The comment service's own checks live with its bindings (akismet_settings.hpp).
  akismet::ServiceOptions comment_scratch;
  if (auto ok = apply_bindings(akismet_bindings(), v, comment_scratch); !ok) {
    return ok;
  }
  if (auto ok = validate_spamd(v); !ok) {
    return ok;
  }
  return validate_milter(v);
}

// The tail of an "unknown setting" message.
std::string did_you_mean(std::string_view name) {
  const std::string_view near = closest_setting(name);
  return near.empty() ? std::string(" (see greyflux dump-config)")
                      : fmt::format(" (did you mean '{}'? see greyflux dump-config)", near);
}

}  // namespace

Result<Values> load_config(const std::string& path, const std::vector<std::string>& overrides) {
  Values values;
  if (!path.empty()) {
    toml::table tbl;
    try {
      tbl = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
      const auto& where = e.source().begin;
      return fail(Errc::Config,
                  fmt::format("{}:{}:{}: {}", path, where.line, where.column, e.description()));
    }
    for (auto&& [section, node] : tbl) {
      const toml::table* sect = node.as_table();
      if (sect == nullptr) {
        return fail(Errc::Config, fmt::format("{}: '{}' must be a [section]", path, section.str()));
      }
      for (auto&& [key, value] : *sect) {
        const std::string name = fmt::format("{}.{}", section.str(), key.str());
        const SettingDef* def = find_setting(name);
        if (def == nullptr) {
          return fail(Errc::Config,
                      fmt::format("{}:{}: unknown setting '{}'{}", path, value.source().begin.line,
                                  name, did_you_mean(name)));
        }
        auto parsed = from_toml(*def, value);
        if (!parsed) {
          return fail(Errc::Config, fmt::format("{}:{}: {}", path, value.source().begin.line,
                                                parsed.error().message));
        }
        values.set(name, std::move(*parsed));
        values.mark_configured(name);
      }
    }
  }
  for (const std::string& o : overrides) {
    const std::size_t eq = o.find('=');
    if (eq == std::string::npos) {
      return fail(Errc::Config, fmt::format("--set '{}': expected section.key=value", o));
    }
    const std::string name(trim_ws(std::string_view(o).substr(0, eq)));
    const SettingDef* def = find_setting(name);
    if (def == nullptr) {
      return fail(Errc::Config,
                  fmt::format("--set: unknown setting '{}'{}", name, did_you_mean(name)));
    }
    auto parsed = parse_value(*def, std::string_view(o).substr(eq + 1));
    if (!parsed) {
      return fail(Errc::Config, "--set " + parsed.error().message);
    }
    values.set(name, std::move(*parsed));
    values.mark_configured(name);
  }
  if (auto ok = validate(values); !ok) {
    return tl::unexpected(ok.error());
  }
  if (auto ok = resolve_paths(values); !ok) {
    return tl::unexpected(ok.error());
  }
  return values;
}

Result<std::shared_ptr<const greylist::Policy>> build_policy(const Values& v,
                                                             std::vector<std::string>& warnings) {
  auto policy = std::make_shared<greylist::Policy>();
  greylist::Settings& s = policy->settings;
  if (auto ok = apply_greylist_settings(v, s); !ok) {
    return tl::unexpected(ok.error());
  }
  if (s.hostname.empty()) {
    char host[256] = {};
    s.hostname = ::gethostname(host, sizeof host - 1) == 0 ? host : "localhost";
  }

  auto load = [&](const std::string& file, auto& list) -> Result<void> {
    auto text = io::read_file(file, kMaxWhitelistBytes);
    if (!text) {
      if (text.error().code == Errc::NotFound && file.ends_with(".local")) {
        return {};
      }
      return fail(Errc::Config, fmt::format("whitelist: {}", text.error().message));
    }
    for (const auto& w : list.add_text(*text, file)) {
      warnings.push_back(fmt::format("{}:{}: {}", w.source, w.line, w.message));
    }
    return {};
  };
  for (const std::string& f : v.list("greylist.whitelist_clients")) {
    if (auto ok = load(f, policy->clients); !ok) {
      return tl::unexpected(ok.error());
    }
  }
  for (const std::string& f : v.list("greylist.whitelist_recipients")) {
    if (auto ok = load(f, policy->recipients); !ok) {
      return tl::unexpected(ok.error());
    }
  }
  return std::shared_ptr<const greylist::Policy>(std::move(policy));
}

std::string dump_config(const Values* current) {
  std::string out = "# greyflux settings: every key with its default and what it does.\n";
  std::string section;
  const Values defaults;
  for (const SettingDef& d : settings_table()) {
    const std::string_view sect = d.name.substr(0, d.name.find('.'));
    if (sect != section) {
      section = std::string(sect);
      out += fmt::format("\n[{}]\n", section);
    }
    const std::string value = format_value((current ? *current : defaults).get(d.name));
    out += fmt::format("# {}{}\n{} = {}\n", d.doc, d.reloadable ? " (reloads on SIGHUP)" : "",
                       d.name.substr(d.name.find('.') + 1), value);
  }
  return out;
}

}  // namespace gf::app
