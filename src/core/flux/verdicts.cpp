#include "core/flux/verdicts.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace gf::flux {
namespace {

constexpr std::size_t kMaxNsNames = 8;

bool contains(const std::vector<IpAddress>& v, const IpAddress& ip) {
  return std::find(v.begin(), v.end(), ip) != v.end();
}

}  // namespace

void VerdictMemory::record(std::string_view name, double score, bool approximate,
                           std::uint32_t last_flux_s, const std::vector<IpAddress>& agents,
                           const std::vector<std::string>& ns_names) {
  auto it = held_.find(name);
  if (it == held_.end()) {
    if (held_.size() >= config_.max_names) {
      evict_oldest();
    }
    it = held_.emplace(std::string(name), HeldVerdict{}).first;
    it->second.first_flux_s = last_flux_s;
  }
  HeldVerdict& h = it->second;
  h.first_flux_s = std::min(h.first_flux_s, last_flux_s);
  h.last_flux_s = std::max(h.last_flux_s, last_flux_s);
  h.score = score;
  h.approximate = approximate;
  // The latest verdict's agents first, then the older ones while there is room.
  std::vector<IpAddress> merged;
  merged.reserve(std::min(config_.max_agents, agents.size() + h.agents.size()));
  for (const auto& ip : agents) {
    if (merged.size() >= config_.max_agents) {
      break;
    }
    merged.push_back(ip);
  }
  for (const auto& ip : h.agents) {
    if (merged.size() >= config_.max_agents) {
      break;
    }
    if (!contains(merged, ip)) {
      merged.push_back(ip);
    }
  }
  h.agents = std::move(merged);
  if (!ns_names.empty()) {
    h.ns_names.assign(ns_names.begin(),
                      ns_names.begin() + static_cast<long>(std::min(kMaxNsNames, ns_names.size())));
  }
}

bool VerdictMemory::record(const Verdict& v, const ScoreResult& by) {
  if (!by.flux) {
    return false;
  }
  const auto& f = v.features;
  const auto last =
      static_cast<std::uint32_t>(std::clamp<std::int64_t>(f.last_seen, 0, UINT32_MAX));
  record(f.name, by.score, f.asn_approximate, last, f.addresses,
         f.ns_addresses >= 3 ? f.ns_name_list : std::vector<std::string>{});
  return true;
}

std::size_t VerdictMemory::expire(TimePoint now) {
  return std::erase_if(held_, [&](const auto& kv) { return expired(kv.second, now); });
}

const HeldVerdict* VerdictMemory::find(std::string_view name, TimePoint now) const {
  auto it = held_.find(name);
  if (it == held_.end() || expired(it->second, now)) {
    return nullptr;
  }
  return &it->second;
}

void VerdictMemory::evict_oldest() {
  std::vector<std::uint32_t> last;
  last.reserve(held_.size());
  for (const auto& [name, h] : held_) {
    last.push_back(h.last_flux_s);
  }
  const std::size_t k = std::max<std::size_t>(1, last.size() / 8);
  std::nth_element(last.begin(), last.begin() + static_cast<long>(k - 1), last.end());
  const std::uint32_t cutoff = last[k - 1];
  std::size_t dropped = 0;
  for (auto it = held_.begin(); it != held_.end() && dropped < k;) {
    if (it->second.last_flux_s <= cutoff) {
      it = held_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  evicted_full_ += dropped;
}

std::size_t VerdictMemory::approx_bytes() const {
  std::size_t b = 0;
  for (const auto& [name, h] : held_) {
    b += sizeof(HeldVerdict) + sizeof(std::string) + 32 +
         (name.capacity() > 15 ? name.capacity() : 0);
    b += h.agents.capacity() * sizeof(IpAddress);
    for (const auto& n : h.ns_names) {
      b += sizeof(std::string) + (n.capacity() > 15 ? n.capacity() : 0);
    }
  }
  return b;
}

Verdict judge_latest(std::string_view name, const NameState& s, const Tracker& tracker,
                     const Allowlist* allow) {
  return judge(features(name, s, from_unix(s.last_seen_s), tracker, allow));
}

RpzContent held_content(const VerdictMemory& memory, TimePoint now) {
  RpzContent c;
  memory.for_each(now, [&](const std::string& name, const HeldVerdict& h) {
    c.names.push_back(name);
    c.agent_ips.insert(c.agent_ips.end(), h.agents.begin(), h.agents.end());
    c.nsdnames.insert(c.nsdnames.end(), h.ns_names.begin(), h.ns_names.end());
  });
  return c;
}

std::string held_json(const VerdictMemory& memory, const HeldVerdict& h) {
  return fmt::format(
      R"({{"first_seen_fluxing":{},"last_seen_fluxing":{},"expires":{},"score":{:.2f},)"
      R"("approximate":{},"agents":{}}})",
      h.first_flux_s, h.last_flux_s, memory.expires_at(h), h.score,
      h.approximate ? "true" : "false", h.agents.size());
}

}  // namespace gf::flux
