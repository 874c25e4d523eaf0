#include "comment_scenario.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <map>
#include <memory>
#include <optional>

#include "app/akismet_settings.hpp"
#include "core/akismet/comment_service.hpp"
#include "core/common/memory_kv.hpp"
#include "core/common/strings.hpp"
#include "core/common/time.hpp"

namespace gf::testing {
namespace {

namespace ak = gf::akismet;

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  for (std::string_view w : split(line, ' ')) {
    if (!w.empty()) {
      out.push_back(w);
    }
  }
  return out;
}

std::string form_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

std::string spaces(std::string_view v) {
  std::string s(v);
  for (char& c : s) {
    c = c == '^' ? ' ' : c;
  }
  return s;
}

std::optional<double> number(std::string_view v) {
  double d = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (ec != std::errc() || end != v.data() + v.size()) {
    return std::nullopt;
  }
  return d;
}

std::string header(const ak::Reply& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) {
      return v;
    }
  }
  return {};
}

// The weight of symbol `name` in the reasons header, if it is there.
std::optional<double> symbol_weight(const ak::Reply& r, std::string_view name) {
  const std::string reasons = " " + header(r, "X-Greyflux-Reasons");
  const std::string needle = fmt::format(" {}(", name);
  const auto at = reasons.find(needle);
  if (at == std::string::npos) {
    return std::nullopt;
  }
  const auto from = at + needle.size();
  return number(std::string_view(reasons).substr(from, reasons.find(')', from) - from));
}

bool has_symbol(const ak::Reply& r, std::string_view name) {
  const std::string reasons = " " + header(r, "X-Greyflux-Reasons");
  return reasons.find(fmt::format(" {}(", name)) != std::string::npos;
}

class Runner {
 public:
  explicit Runner(bool strict) : strict_(strict) {}

  ScenarioResult run(std::string_view script) {
    std::size_t n = 0;
    for (std::string_view line : split(script, '\n')) {
      ++n;
      line = trim_ws(line);
      if (line.empty() || line.front() == '#') {
        continue;
      }
      line_ = n;
      step(words(line));
    }
    return std::move(res_);
  }

 private:
  void failure(std::string what) {
    res_.failures.push_back(fmt::format("line {}: {}", line_, what));
  }
  void malformed(std::string what) {
    if (strict_) {
      failure(std::move(what));
    }
  }

  void step(const std::vector<std::string_view>& w) {
    const std::string_view cmd = w.front();
    const std::vector<std::string_view> args(w.begin() + 1, w.end());
    if (cmd == "SET") {
      set(args);
    } else if (cmd == "CHECK") {
      request("comment-check", args);
    } else if (cmd == "SPAM") {
      request("submit-spam", args);
    } else if (cmd == "HAM") {
      request("submit-ham", args);
    } else if (cmd == "CALL" && !args.empty()) {
      request(std::string(args.front()), {args.begin() + 1, args.end()});
    } else if (cmd == "EXPECT") {
      expect(args);
    } else if (cmd == "TIME_PASSES" && args.size() == 1) {
      auto d = parse_duration(args.front());
      if (!d) {
        return malformed("bad duration");
      }
      now_ += *d;
    } else if (cmd == "STORE" && args.size() == 1 && (args[0] == "fail" || args[0] == "ok")) {
      kv_.set_failing(args[0] == "fail");
    } else if (cmd == "RESTART" && args.empty()) {
      rebuild();
    } else {
      malformed(fmt::format("unknown command {}", cmd));
    }
  }

  // Through the settings table: the same parse, checks and field as a config file.
  void set(const std::vector<std::string_view>& args) {
    for (std::string_view a : args) {
      const auto eq = a.find('=');
      const std::string_view k = a.substr(0, eq);
      const std::string v = eq == std::string_view::npos ? "" : spaces(a.substr(eq + 1));
      if (auto ok = app::apply_binding_text(app::akismet_bindings(), k, v, opts_); !ok) {
        return malformed(fmt::format("SET {}: {}", a, ok.error().message));
      }
    }
    rebuild();
  }

  void rebuild() {
    svc_ = std::make_unique<ak::CommentService>(opts_, kv_, ids_, secrets_, log_);
    if (auto ok = svc_->load(); !ok) {
      failure("load: " + ok.error().message);
    }
  }

  void ensure_key() {
    if (!svc_) {
      rebuild();
    }
    if (key_.empty()) {
      auto k = svc_->add_key("https://blog.example", to_unix(std::chrono::floor<Seconds>(now_)));
      key_ = k ? *k : "keyunavailable";
    }
  }

  void request(const std::string& endpoint, const std::vector<std::string_view>& args) {
    ensure_key();
    std::map<std::string, std::string> fields{
        {"api_key", key_},
        {"blog", "https://blog.example"},
        {"user_ip", "192.0.2.1"},
        {"user_agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
        {"referrer", "https://blog.example/a-post/"},
        {"comment_type", "comment"},
        {"comment_author", "Sam"},
        {"comment_content", "Hello"}};
    for (std::string_view a : args) {
      const auto eq = a.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        return malformed(fmt::format("bad field {}", a));
      }
      const std::string k(a.substr(0, eq));
      if (a.substr(eq + 1) == "-") {
        fields.erase(k);
      } else {
        fields[k] = spaces(a.substr(eq + 1));
      }
    }
    std::string body;
    for (const auto& [k, v] : fields) {
      body += (body.empty() ? "" : "&") + k + "=" + form_encode(v);
    }
    const std::string path = "/1.1/" + endpoint;
    last_ = svc_->handle(ak::ApiRequest{"POST", path, "", "localhost", body}, now_);
    ++res_.requests;
  }

  void expect(const std::vector<std::string_view>& args) {
    if (!last_) {
      return failure("EXPECT before any request");
    }
    const ak::Reply& r = *last_;
    const std::string got = fmt::format(
        "(body '{}', score {}, reasons '{}', help '{}')", r.body, header(r, "X-Greyflux-Score"),
        header(r, "X-Greyflux-Reasons"), header(r, "X-akismet-debug-help"));
    for (std::string_view a : args) {
      ++res_.expectations;
      const bool contains = a.find("~=") != std::string_view::npos;
      const auto eq = contains ? a.find("~=") : a.find('=');
      if (eq == std::string_view::npos) {
        malformed(fmt::format("bad expectation {}", a));
        continue;
      }
      const std::string_view k = a.substr(0, eq);
      const std::string v = spaces(a.substr(eq + (contains ? 2 : 1)));
      if (!holds(r, k, v, contains)) {
        failure(fmt::format("expected {} {}", a, got));
      }
    }
  }

  bool holds(const ak::Reply& r, std::string_view k, const std::string& v, bool contains) {
    if (k == "verdict") {
      static const std::map<std::string, std::string, std::less<>> kBodies{
          {"spam", "true"},
          {"ham", "false"},
          {"invalid", "invalid"},
          {"thanks", std::string(ak::kThanks)}};
      const auto it = kBodies.find(v);
      return it != kBodies.end() && r.body == it->second;
    }
    if (k == "symbol") {
      return has_symbol(r, v);
    }
    if (k == "no_symbol") {
      return !has_symbol(r, v);
    }
    if (k == "weight") {  // weight=NAME:0.80
      const auto colon = v.find(':');
      const auto want = colon == std::string::npos ? std::nullopt : number(v.substr(colon + 1));
      const auto got = symbol_weight(r, v.substr(0, colon));
      return want && got && std::abs(*got - *want) < 0.005;
    }
    if (k == "discard") {
      return (header(r, "X-akismet-pro-tip") == "discard") == (v == "yes");
    }
    if (k == "body") {
      return contains ? r.body.find(v) != std::string::npos : r.body == v;
    }
    if (k == "help" && contains) {
      return header(r, "X-akismet-debug-help").find(v) != std::string::npos;
    }
    const auto score = number(header(r, "X-Greyflux-Score"));
    const auto want = number(v);
    if ((k == "score_above" || k == "score_below") && score && want) {
      return k == "score_above" ? *score > *want : *score < *want;
    }
    malformed(fmt::format("unknown expectation {}", k));
    return true;  // reported as malformed (strict) or skipped
  }

  bool strict_;
  std::size_t line_ = 0;
  ScenarioResult res_;
  ak::ServiceOptions opts_;
  MemoryKv kv_;
  SplitMix64 ids_{1};
  SplitMix64 secrets_{2};
  NullLog log_;
  std::unique_ptr<ak::CommentService> svc_;
  std::string key_;
  ak::WallTime now_{std::chrono::milliseconds(1790000000000)};  // 2026-09-21
  std::optional<ak::Reply> last_;
};

}  // namespace

ScenarioResult run_comment_scenario(std::string_view script, bool strict) {
  return Runner(strict).run(script);
}

}  // namespace gf::testing
