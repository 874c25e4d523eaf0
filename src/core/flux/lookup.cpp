#include "core/flux/lookup.hpp"

#include <cstring>

#include "core/dns/message.hpp"

namespace gf::flux {

std::size_t FluxIndex::IpHash::operator()(const IpAddress& ip) const {
  std::uint64_t a = 0, b = 0;
  std::memcpy(&a, ip.bytes.data(), 8);
  std::memcpy(&b, ip.bytes.data() + 8, 8);
  return static_cast<std::size_t>(a * 0x9E3779B97F4A7C15ull ^ b * 0xC2B2AE3D27D4EB4Full);
}

void FluxIndex::add(const Verdict& v) {
  if (!v.flux()) {
    return;
  }
  names_[v.features.name] = {v.composite.score, v.features.last_seen};
  agents_.insert(v.features.addresses.begin(), v.features.addresses.end());
}

void FluxIndex::add(const std::string& name, const HeldVerdict& held) {
  Entry& e = names_[name];
  if (held.last_flux_s >= e.last_flux) {
    e = {held.score, held.last_flux_s};
  }
  agents_.insert(held.agents.begin(), held.agents.end());
}

void FluxIndex::add(const RpzContent& content) {
  for (const auto& n : content.names) {
    names_.emplace(n, Entry{});
  }
  agents_.insert(content.agent_ips.begin(), content.agent_ips.end());
}

std::optional<FluxHit> FluxIndex::match_host(std::string_view host) const {
  auto canon = dns::canonical_name(host);
  if (!canon) {
    return std::nullopt;
  }
  std::string_view name = *canon;
  while (!name.empty()) {
    if (auto it = names_.find(std::string(name)); it != names_.end()) {
      return FluxHit{it->first, it->second.score, it->second.last_flux};
    }
    const auto dot = name.find('.');
    if (dot == std::string_view::npos) {
      break;
    }
    name.remove_prefix(dot + 1);
  }
  return std::nullopt;
}

bool FluxIndex::is_agent(const IpAddress& ip) const { return agents_.contains(ip); }

}  // namespace gf::flux
