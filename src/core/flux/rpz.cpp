#include "core/flux/rpz.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "core/common/strings.hpp"
#include "core/dns/message.hpp"

namespace gf::flux {
namespace {

bool ip_less(const IpAddress& a, const IpAddress& b) { return a.bytes < b.bytes; }

std::size_t wire_length(std::string_view relative, std::string_view origin) {
  auto a = dns::name_from_text(relative);
  auto b = dns::name_from_text(origin);
  if (!a || !b) {
    return 9999;
  }
  return a->size() - 1 + b->size();
}

// A name that would read back as something else: a wildcard, or an RPZ trigger label.
bool rpz_safe(std::string_view n) {
  if (n.empty() || n == "*" || n.starts_with("*.")) {
    return false;
  }
  const auto dot = n.rfind('.');
  const std::string_view last = dot == std::string_view::npos ? n : n.substr(dot + 1);
  return !last.starts_with("rpz-");
}

}  // namespace

void RpzContent::normalise() {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::sort(nsdnames.begin(), nsdnames.end());
  nsdnames.erase(std::unique(nsdnames.begin(), nsdnames.end()), nsdnames.end());
  std::sort(agent_ips.begin(), agent_ips.end(), ip_less);
  agent_ips.erase(std::unique(agent_ips.begin(), agent_ips.end()), agent_ips.end());
}

std::string rpz_ip_owner(const IpAddress& ip) {
  if (ip.is_v4()) {
    return fmt::format("32.{}.{}.{}.{}.rpz-ip", ip.bytes[15], ip.bytes[14], ip.bytes[13],
                       ip.bytes[12]);
  }
  std::uint16_t g[8];
  for (int i = 0; i < 8; ++i) {
    g[i] = static_cast<std::uint16_t>((ip.bytes[2 * i] << 8) | ip.bytes[2 * i + 1]);
  }
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) {
      ++j;
    }
    if (j - i > best_len && j - i >= 2) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  std::string out = "128";
  for (int i = 7; i >= 0; --i) {
    if (best >= 0 && i >= best && i < best + best_len) {
      if (i == best + best_len - 1) {
        out += ".zz";
      }
      continue;
    }
    out += fmt::format(".{:x}", g[i]);
  }
  return out + ".rpz-ip";
}

Result<IpAddress> parse_rpz_ip_owner(std::string_view owner) {
  if (!owner.ends_with(".rpz-ip")) {
    return fail(Errc::InvalidInput, "not an rpz-ip owner");
  }
  owner.remove_suffix(7);
  auto labels = split(owner, '.');
  if (labels.empty()) {
    return fail(Errc::InvalidInput, "empty rpz-ip owner");
  }
  if (labels[0] == "32" && labels.size() == 5) {
    const std::string text = fmt::format("{}.{}.{}.{}", labels[4], labels[3], labels[2], labels[1]);
    return parse_ip(text);
  }
  if (labels[0] != "128" || labels.size() < 2 || labels.size() > 9) {
    return fail(Errc::InvalidInput, "unsupported rpz-ip prefix");
  }
  std::string text;
  for (std::size_t i = labels.size() - 1; i >= 1; --i) {
    if (labels[i] != "zz" && (labels[i].empty() || labels[i].size() > 4)) {
      return fail(Errc::InvalidInput, "bad rpz-ip IPv6 group");
    }
    text += labels[i] == "zz" ? std::string_view() : labels[i];
    if (i > 1) {
      text += ':';
    }
  }
  if (labels.back() == "zz") {
    text.insert(0, ":");
  }
  if (labels[1] == "zz") {
    text += ':';
  }
  if (text == ":" || text == ":::") {
    text = "::";
  }
  auto ip = parse_ip(text);
  if (!ip || ip->is_v4()) {
    return fail(Errc::InvalidInput, "bad rpz-ip IPv6 owner");
  }
  return ip;
}

std::uint32_t next_serial(std::optional<std::uint32_t> previous, TimePoint now) {
  const auto t = to_unix(now);
  const std::uint32_t clock = t <= 0 ? 1u : static_cast<std::uint32_t>(t);
  if (!previous) {
    return clock;
  }
  return clock > *previous ? clock : *previous + 1;
}

std::string rpz_name_rules(std::string_view name, const RpzOptions& o) {
  const std::string n(name);
  if (!rpz_safe(n) || wire_length("*." + n, o.origin) > dns::kMaxNameWire) {
    return {};
  }
  std::string out = n + " CNAME .\n";
  if (o.wildcard) {
    out += "*." + n + " CNAME .\n";
  }
  return out;
}

std::string write_rpz(const RpzContent& content, const RpzOptions& o, RpzWriteStats* stats) {
  RpzWriteStats st;
  std::string out;
  out.reserve(64 + content.names.size() * 64);
  out += fmt::format(
      "; greyflux fast-flux response policy zone. Generated; do not edit.\n"
      "$ORIGIN {}.\n$TTL {}\n"
      "@ IN SOA localhost. hostmaster.localhost. {} 3600 600 86400 {}\n"
      "@ IN NS localhost.\n",
      o.origin, o.ttl_s, o.serial, o.ttl_s);
  for (const std::string& n : content.names) {
    std::string rules = rpz_name_rules(n, o);
    if (rules.empty()) {
      ++st.skipped;
      continue;
    }
    out += rules;
    ++st.names;
  }
  if (o.rpz_ip) {
    for (const IpAddress& ip : content.agent_ips) {
      out += rpz_ip_owner(ip) + " CNAME .\n";
      ++st.ips;
    }
  }
  if (o.rpz_nsdname) {
    for (const std::string& n : content.nsdnames) {
      if (!rpz_safe(n) || wire_length(n + ".rpz-nsdname", o.origin) > dns::kMaxNameWire) {
        ++st.skipped;
        continue;
      }
      out += n + ".rpz-nsdname CNAME .\n";
      ++st.nsdnames;
    }
  }
  if (stats != nullptr) {
    *stats = st;
  }
  return out;
}

Result<ParsedRpz> parse_rpz(std::string_view text) {
  ParsedRpz p;
  bool saw_soa = false;
  for (std::string_view line : split(text, '\n')) {
    if (auto sc = line.find(';'); sc != std::string_view::npos) {
      line = line.substr(0, sc);
    }
    line = trim_ws(line);
    if (line.empty()) {
      continue;
    }
    std::vector<std::string_view> f;
    for (std::string_view w : split(line, ' ')) {
      for (std::string_view x : split(w, '\t')) {
        if (!x.empty()) {
          f.push_back(x);
        }
      }
    }
    if (f[0] == "$ORIGIN" && f.size() >= 2) {
      auto c = dns::canonical_name(f[1]);
      if (!c) {
        return fail(Errc::InvalidInput, "bad $ORIGIN");
      }
      p.origin = *c;
      continue;
    }
    if (f[0].front() == '$') {
      continue;
    }
    // owner [ttl] [IN] TYPE rdata...
    std::size_t i = 1;
    if (i < f.size() &&
        std::all_of(f[i].begin(), f[i].end(), [](char c) { return c >= '0' && c <= '9'; })) {
      ++i;
    }
    if (i < f.size() && iequals(f[i], "IN")) {
      ++i;
    }
    if (i >= f.size()) {
      ++p.skipped_lines;
      continue;
    }
    const std::string_view type = f[i];
    if (iequals(type, "SOA")) {
      if (f.size() >= i + 4) {
        std::uint32_t serial = 0;
        auto [ptr, ec] =
            std::from_chars(f[i + 3].data(), f[i + 3].data() + f[i + 3].size(), serial);
        if (ec == std::errc()) {
          p.serial = serial;
        }
      }
      saw_soa = true;
      continue;
    }
    if (!iequals(type, "CNAME") || i + 1 >= f.size() || f[i + 1] != ".") {
      ++p.skipped_lines;  // NS records, and actions other than NXDOMAIN
      continue;
    }
    std::string_view owner = f[0];
    if (owner.ends_with(".")) {
      // An absolute owner must sit under the origin.
      owner.remove_suffix(1);
      if (!owner.ends_with("." + p.origin)) {
        ++p.skipped_lines;
        continue;
      }
      owner.remove_suffix(p.origin.size() + 1);
    }
    if (owner.ends_with(".rpz-ip")) {
      auto ip = parse_rpz_ip_owner(owner);
      if (ip) {
        p.content.agent_ips.push_back(*ip);
      } else {
        ++p.skipped_lines;
      }
      continue;
    }
    if (owner.ends_with(".rpz-nsdname")) {
      owner.remove_suffix(12);
      auto c = dns::canonical_name(owner);
      c ? p.content.nsdnames.push_back(*c) : void(++p.skipped_lines);
      continue;
    }
    const bool wildcard = owner.starts_with("*.");
    auto c = dns::canonical_name(wildcard ? owner.substr(2) : owner);
    if (!c || c->empty()) {
      ++p.skipped_lines;
      continue;
    }
    (wildcard ? p.wildcards : p.content.names).push_back(*c);
  }
  if (!saw_soa) {
    return fail(Errc::InvalidInput, "zone has no SOA record");
  }
  p.content.normalise();
  std::sort(p.wildcards.begin(), p.wildcards.end());
  p.wildcards.erase(std::unique(p.wildcards.begin(), p.wildcards.end()), p.wildcards.end());
  return p;
}

std::string write_rbldnsd_dnset(const std::vector<std::string>& names, std::string_view text) {
  std::string out = fmt::format(
      "# greyflux fast-flux names (rbldnsd dnset). Generated; do not edit.\n"
      ":127.0.0.2:{}\n"
      "# RFC 5782 test entry: TEST is listed, INVALID is not\ntest\n",
      text);
  for (const std::string& n : names) {
    if (n.empty() || n == "test") {
      continue;
    }
    out += n + "\n*." + n + "\n";
  }
  return out;
}

std::string write_rbldnsd_ip4set(const std::vector<IpAddress>& ips, std::string_view text,
                                 std::size_t* skipped_v6) {
  std::string out = fmt::format(
      "# greyflux fast-flux agent addresses (rbldnsd ip4set). Generated; do not edit.\n"
      ":127.0.0.2:{}\n"
      "# RFC 5782 test entry: 127.0.0.2 is listed, 127.0.0.1 is not\n127.0.0.2\n",
      text);
  std::size_t v6 = 0;
  for (const IpAddress& ip : ips) {
    if (!ip.is_v4()) {
      ++v6;
      continue;
    }
    if (ip.bytes[12] == 127 && ip.bytes[13] == 0 && ip.bytes[14] == 0 && ip.bytes[15] <= 2) {
      continue;  // never list 127.0.0.1; 127.0.0.2 is already there
    }
    out += to_string(ip) + "\n";
  }
  if (skipped_v6 != nullptr) {
    *skipped_v6 = v6;
  }
  return out;
}

}  // namespace gf::flux
