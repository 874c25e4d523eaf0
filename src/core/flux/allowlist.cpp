#include "core/flux/allowlist.hpp"

#include "core/common/strings.hpp"
#include "core/dns/message.hpp"

namespace gf::flux {

Result<Allowlist> Allowlist::parse(std::string_view text) {
  Allowlist a;
  for (std::string_view line : split(text, '\n')) {
    if (auto hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = trim_ws(line);
    if (line.empty()) {
      continue;
    }
    std::string_view name = line;
    std::string_view category = "benign";
    if (auto sp = line.find_first_of(" \t"); sp != std::string_view::npos) {
      name = line.substr(0, sp);
      category = trim_ws(line.substr(sp));
    }
    if (!name.empty() && name.front() == '.') {
      name.remove_prefix(1);
    }
    auto canon = dns::canonical_name(name);
    if (!canon || canon->empty()) {
      ++a.stats_.skipped_lines;
      continue;
    }
    a.suffixes_[*canon] = std::string(category);
  }
  a.stats_.entries = a.suffixes_.size();
  return a;
}

std::optional<AllowlistMatch> Allowlist::match(std::string_view name) const {
  // Try the name, then each parent: O(labels) hash look-ups.
  std::string key;
  while (!name.empty()) {
    key.assign(name);
    if (auto it = suffixes_.find(key); it != suffixes_.end()) {
      return AllowlistMatch{it->first, it->second};
    }
    const auto dot = name.find('.');
    if (dot == std::string_view::npos) {
      break;
    }
    name.remove_prefix(dot + 1);
  }
  return std::nullopt;
}

}  // namespace gf::flux
