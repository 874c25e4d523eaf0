#include "scenario.hpp"

#include <fmt/format.h>

#include <map>
#include <set>

#include "app/greylist_settings.hpp"
#include "core/common/strings.hpp"
#include "core/common/time.hpp"
#include "core/greylist/greylist.hpp"
#include "core/greylist/memory_store.hpp"

namespace gf::testing {
namespace {

using greylist::Decision;

std::map<std::string, std::string> kv_pairs(std::string_view rest) {
  std::map<std::string, std::string> out;
  for (std::string_view tok : split(rest, ' ')) {
    if (tok.empty()) {
      continue;
    }
    const std::size_t eq = tok.find('=');
    if (eq == std::string_view::npos) {
      out[std::string(tok)] = "";
    } else {
      out[std::string(tok.substr(0, eq))] = std::string(tok.substr(eq + 1));
    }
  }
  return out;
}

std::string first_word(std::string_view s) { return std::string(s.substr(0, s.find(' '))); }

// '^' stands for a space so that a phrase fits one token.
std::string spaces(std::string s) {
  for (char& c : s) {
    c = c == '^' ? ' ' : c;
  }
  return s;
}

}  // namespace

ScenarioResult run_scenario(std::string_view script, bool strict) {
  ScenarioResult res;
  greylist::MemoryStore store;
  auto policy = std::make_shared<greylist::Policy>();
  policy->settings.hostname = "test.example";
  std::map<std::string, std::string> regdoms;
  greylist::Greylist gl(policy, store, [&regdoms](std::string_view host) {
    auto it = regdoms.find(std::string(host));
    return it == regdoms.end() ? std::string() : it->second;
  });
  std::set<std::string> flux_agents;  // FLUX_AGENT lines, as the detector would report them
  gl.set_flux_agents(
      [&flux_agents](const IpAddress& ip) { return flux_agents.contains(to_string(ip)); });
  TimePoint now = from_unix(1'700'000'000);
  Decision last;
  bool have_last = false;
  int line_no = 0;
  int instance = 0;
  auto failure = [&](std::string msg) {
    if (strict) {
      res.failures.push_back(fmt::format("line {}: {}", line_no, msg));
    }
  };
  auto republish = [&] { gl.set_policy(std::make_shared<greylist::Policy>(*policy)); };

  for (std::string_view raw : split(script, '\n')) {
    ++line_no;
    std::string_view line = trim_ws(raw);
    if (line.empty() || line[0] == '#') {
      continue;
    }
    const std::size_t sp = line.find(' ');
    const std::string_view cmd = line.substr(0, sp);
    const std::string_view rest = sp == std::string_view::npos ? "" : trim_ws(line.substr(sp + 1));
    if (cmd == "SET") {
      // Through the settings table: the same parse, checks and field as a config file.
      for (const auto& [k, v] : kv_pairs(rest)) {
        if (auto ok = app::apply_greylist_setting(k, spaces(v), policy->settings); !ok) {
          failure(fmt::format("SET {}={}: {}", k, v, ok.error().message));
        }
      }
      republish();
    } else if (cmd == "WHITELIST_CLIENT") {
      if (!policy->clients.add_entry(rest)) {
        failure("bad client whitelist entry");
      }
      republish();
    } else if (cmd == "WHITELIST_RECIPIENT") {
      if (!policy->recipients.add_entry(rest)) {
        failure("bad recipient whitelist entry");
      }
      republish();
    } else if (cmd == "FLUX_AGENT") {
      if (auto ip = parse_ip(rest); ip) {
        flux_agents.insert(to_string(*ip));
      } else {
        failure("FLUX_AGENT needs an IP address");
      }
    } else if (cmd == "REGDOM") {
      auto parts = split(rest, ' ');
      if (parts.size() == 2) {
        regdoms[std::string(parts[0])] = std::string(parts[1]);
      } else {
        failure("REGDOM needs HOST DOMAIN");
      }
    } else if (cmd == "TIME_PASSES") {
      auto d = parse_duration(rest);
      if (!d) {
        failure("bad duration");
        continue;
      }
      now += std::chrono::duration_cast<Seconds>(*d);
    } else if (cmd == "CLOCK_STEP") {  // "-1h" or "+1d": the wall clock is set back or on
      const bool back = !rest.empty() && rest.front() == '-';
      auto d =
          parse_duration(!rest.empty() && (back || rest.front() == '+') ? rest.substr(1) : rest);
      if (!d) {
        failure("bad clock step (e.g. -1h, +1d)");
        continue;
      }
      const auto step = std::chrono::duration_cast<Seconds>(*d);
      now += back ? -step : step;
    } else if (cmd == "STORE") {
      store.set_failing(rest == "fail");
    } else if (cmd == "EXPIRE") {
      const greylist::Settings s = gl.policy()->settings;
      (void)store.expire_step(
          [&](std::string_view k, const greylist::Record& r) {
            return greylist::is_expired(k, r, now, s);
          },
          1'000'000);
    } else if (cmd == "REQUEST") {
      policy::Request r;
      r.request = "smtpd_access_policy";
      r.protocol_state = "RCPT";
      r.protocol_name = "ESMTP";
      r.client_address = "192.0.2.1";
      r.client_name = "unknown";
      r.sender = "alice@sender.example";
      r.recipient = "bob@example.org";
      r.instance = fmt::format("inst{}", ++instance);
      r.has_etrn_domain = true;
      for (const auto& [k, v] : kv_pairs(rest)) {
        if (k == "client_address") {
          r.client_address = v;
        } else if (k == "client_name") {
          r.client_name = v;
        } else if (k == "sender") {
          r.sender = v == "<>" ? "" : v;
        } else if (k == "recipient") {
          r.recipient = v;
        } else if (k == "instance") {
          r.instance = v;
        } else if (k == "protocol_state") {
          r.protocol_state = v;
        } else if (k == "etrn_domain") {
          r.has_etrn_domain = v != "absent";
        } else {
          failure(fmt::format("unknown REQUEST attribute {}", k));
        }
      }
      last = gl.check(r, now);
      have_last = true;
      ++res.requests;
    } else if (cmd == "EXPECT") {
      ++res.expectations;
      if (!have_last) {
        failure("EXPECT before any REQUEST");
        continue;
      }
      for (const auto& [k, v] : kv_pairs(rest)) {
        if (k == "action") {
          if (first_word(last.reply) != v) {
            failure(fmt::format("action: want {}, got '{}'", v, last.reply));
          }
        } else if (k == "reason") {
          if (greylist::to_string(last.reason) != v) {
            failure(fmt::format("reason: want {}, got {}", v, greylist::to_string(last.reason)));
          }
        } else if (k == "delay") {
          if (std::to_string(last.delay_s) != v) {
            failure(fmt::format("delay: want {}, got {}", v, last.delay_s));
          }
        } else if (k == "reply~") {
          const std::string want = spaces(v);
          if (last.reply.find(want) == std::string::npos) {
            failure(fmt::format("reply: want it to contain '{}', got '{}'", want, last.reply));
          }
        } else {
          failure(fmt::format("unknown EXPECT key {}", k));
        }
      }
    } else {
      failure(fmt::format("unknown command '{}'", cmd));
    }
  }
  return res;
}

}  // namespace gf::testing
