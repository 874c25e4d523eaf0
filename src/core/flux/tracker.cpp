#include "core/flux/tracker.hpp"

#include <algorithm>
#include <cstring>

namespace gf::flux {
namespace {

constexpr std::size_t kLinearMax = 12;  // below this many addresses a linear scan is fastest

// Two 8-byte loads instead of a memcmp call: this comparison is the ingest hot path.
inline bool same_ip(const IpAddress& a, const IpAddress& b) {
  std::uint64_t a0, a1, b0, b1;
  std::memcpy(&a0, a.bytes.data(), 8);
  std::memcpy(&a1, a.bytes.data() + 8, 8);
  std::memcpy(&b0, b.bytes.data(), 8);
  std::memcpy(&b1, b.bytes.data() + 8, 8);
  return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

std::size_t ip_hash(const IpAddress& ip) {
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  std::memcpy(&a, ip.bytes.data(), 8);
  std::memcpy(&b, ip.bytes.data() + 8, 8);
  std::uint64_t h = (a * 0x9E3779B97F4A7C15ull) ^ (b * 0xC2B2AE3D27D4EB4Full);
  h ^= h >> 29;
  return static_cast<std::size_t>(h);
}

void rebuild_index(NameState& s) {
  s.ip_index.clear();
  if (s.ips.size() <= kLinearMax) {
    return;
  }
  std::size_t cap = 32;
  while (cap < s.ips.size() * 2) {
    cap <<= 1;
  }
  s.ip_index.assign(cap, 0);
  for (std::uint32_t i = 0; i < s.ips.size(); ++i) {
    std::size_t slot = ip_hash(s.ips[i].ip) & (cap - 1);
    while (s.ip_index[slot] != 0) {
      slot = (slot + 1) & (cap - 1);
    }
    s.ip_index[slot] = i + 1;
  }
}

IpEntry* find_ip(NameState& s, const IpAddress& ip) {
  if (s.ip_index.empty()) {
    for (IpEntry& e : s.ips) {
      if (same_ip(e.ip, ip)) {
        return &e;
      }
    }
    return nullptr;
  }
  const std::size_t mask = s.ip_index.size() - 1;
  for (std::size_t slot = ip_hash(ip) & mask;; slot = (slot + 1) & mask) {
    const std::uint32_t v = s.ip_index[slot];
    if (v == 0) {
      return nullptr;
    }
    if (same_ip(s.ips[v - 1].ip, ip)) {
      return &s.ips[v - 1];
    }
  }
}

std::uint32_t unix_s(TimePoint t) {
  const auto v = to_unix(t);
  return v < 0 ? 0u : static_cast<std::uint32_t>(std::min<std::int64_t>(v, UINT32_MAX));
}

// Distinct /24 (v4) or /48 (v6) networks in one answer: a CDN answers from one edge cluster,
// flux agents are scattered hosts.
std::uint32_t answer_networks(const std::vector<AddressAnswer>& a) {
  std::array<std::uint64_t, 64> nets{};
  std::size_t n = 0;
  for (const AddressAnswer& x : a) {
    std::uint64_t key = 0;
    if (x.ip.is_v4()) {
      key = (1ull << 63) | (std::uint64_t{x.ip.bytes[12]} << 16) |
            (std::uint64_t{x.ip.bytes[13]} << 8) | x.ip.bytes[14];
    } else {
      for (int i = 0; i < 6; ++i) {
        key = (key << 8) | x.ip.bytes[i];
      }
    }
    if (std::find(nets.begin(), nets.begin() + static_cast<long>(n), key) ==
            nets.begin() + static_cast<long>(n) &&
        n < nets.size()) {
      nets[n++] = key;
    }
  }
  return static_cast<std::uint32_t>(n);
}

std::uint32_t domain_hash(std::string_view d) {
  return static_cast<std::uint32_t>(std::hash<std::string_view>{}(d) >> 7) | 1u;
}

}  // namespace

std::size_t Tracker::IpHash::operator()(const IpAddress& ip) const { return ip_hash(ip); }

std::uint32_t Tracker::owner_of(std::string_view domain) const {
  if (registrable_) {
    const std::string r = registrable_(domain);
    if (!r.empty()) {
      return domain_hash(r);
    }
  }
  return domain_hash(naive_registrable_domain(domain));
}

// The network an address counts in for the NS-host change count: its ASN; without ASN data its
// country (a home line renumbered by its ISP stays in the country); else its /16 (v4) or /32.
std::uint64_t Tracker::net_key(const IpEntry& e) const {
  if (asn_ != nullptr && e.asn != 0) {
    return e.asn;
  }
  if (e.country[0] != 0) {
    return (1ull << 40) | (std::uint64_t{static_cast<unsigned char>(e.country[0])} << 8) |
           static_cast<unsigned char>(e.country[1]);
  }
  std::uint64_t k = 2ull << 40;
  const int from = e.ip.is_v4() ? 12 : 0;
  for (int i = from; i < from + (e.ip.is_v4() ? 2 : 4); ++i) {
    k = (k << 8) | e.ip.bytes[static_cast<std::size_t>(i)];
  }
  return k;
}

std::size_t Tracker::other_owners(const IpAddress& ip, std::uint32_t own, std::int64_t horizon,
                                  std::array<std::uint32_t, 3>& out) const {
  auto it = owners_.find(ip);
  if (it == owners_.end()) {
    return 0;
  }
  std::size_t n = 0;
  for (std::size_t k = 0; k < 3; ++k) {
    const OwnerSlots& o = it->second;
    if (o.owner[k] != 0 && o.owner[k] != own && static_cast<std::int64_t>(o.last_s[k]) >= horizon) {
      out[n++] = o.owner[k];
    }
  }
  return n;
}

// Records which registrable domain each answered address served. Names with one address (a
// static site, shared hosting) are left out: the evidence is about pools.
void Tracker::remember_owner(const Observation& obs, NameState& s, std::uint32_t now_s) {
  if (config_.max_owner_ips == 0 || s.ips.size() < 2) {
    return;
  }
  for (const AddressAnswer& a : obs.addresses) {
    auto it = owners_.find(a.ip);
    if (it == owners_.end()) {
      if (owners_.size() >= config_.max_owner_ips && now_s >= next_owner_sweep_s_) {
        const auto window = static_cast<std::uint32_t>(config_.window.count());
        const std::uint32_t horizon = now_s > window ? now_s - window : 0;
        std::erase_if(owners_, [&](const auto& kv) {
          const auto& l = kv.second.last_s;
          return std::max({l[0], l[1], l[2]}) < horizon;
        });
        next_owner_sweep_s_ = now_s + window / 16 + 1;  // a full index is not rescanned per add
      }
      if (owners_.size() >= config_.max_owner_ips) {
        ++stats_.owner_ips_dropped;
        continue;
      }
      OwnerSlots o;
      o.owner[0] = s.owner_hash;
      o.last_s[0] = now_s;
      owners_.emplace(a.ip, o);
      continue;
    }
    OwnerSlots& o = it->second;
    std::size_t slot = 0;
    for (std::size_t k = 0; k < 3; ++k) {
      if (o.owner[k] == s.owner_hash) {
        slot = k;
        break;
      }
      if (o.last_s[k] < o.last_s[slot]) {
        slot = k;  // the least recent owner makes room
      }
    }
    if (o.owner[slot] != s.owner_hash) {
      o.owner[slot] = s.owner_hash;
      o.last_s[slot] = now_s;
    } else {
      o.last_s[slot] = std::max(o.last_s[slot], now_s);
    }
  }
}

std::uint32_t Tracker::listed_last_seen(const IpAddress& ip) const {
  auto it = listed_ips_.find(ip);
  return it == listed_ips_.end() ? 0 : it->second;
}

void Tracker::remember_listed(const Observation& obs, NameState& s, std::uint32_t now_s) {
  if (!listed_) {
    return;
  }
  if (s.listed == 0) {
    bool l = listed_(obs.qname);
    for (const std::string& c : obs.cname_chain) {
      l = l || listed_(c);
    }
    s.listed = l ? 1 : 2;
  } else if (s.listed == 2 && !obs.cname_chain.empty()) {
    for (const std::string& c : obs.cname_chain) {
      if (listed_(c)) {
        s.listed = 1;
      }
    }
  }
  if (s.listed != 1) {
    return;
  }
  for (const AddressAnswer& a : obs.addresses) {
    auto it = listed_ips_.find(a.ip);
    if (it != listed_ips_.end()) {
      it->second = std::max(it->second, now_s);
      continue;
    }
    if (listed_ips_.size() >= config_.max_listed_ips) {
      const auto window = static_cast<std::uint32_t>(config_.window.count());
      const std::uint32_t horizon = now_s > window ? now_s - window : 0;
      std::erase_if(listed_ips_, [&](const auto& kv) { return kv.second < horizon; });
    }
    if (listed_ips_.size() >= config_.max_listed_ips) {
      ++stats_.listed_ips_dropped;
      continue;
    }
    listed_ips_.emplace(a.ip, now_s);
  }
}

std::string naive_registrable_domain(std::string_view name) {
  const auto last = name.rfind('.');
  if (last == std::string_view::npos || last == 0) {
    return std::string(name);
  }
  const auto prev = name.rfind('.', last - 1);
  return std::string(prev == std::string_view::npos ? name : name.substr(prev + 1));
}

Tracker::Tracker(TrackerConfig config, const AsnSource* asn, RegistrableFn registrable)
    : config_(config), asn_(asn), registrable_(std::move(registrable)) {}

const NameState* Tracker::find(std::string_view name) const {
  auto it = names_.find(name);
  return it == names_.end() ? nullptr : &it->second;
}

NameState& Tracker::state_for(const Observation& obs, std::uint32_t now_s) {
  auto it = names_.find(std::string_view(obs.qname));
  if (it != names_.end()) {
    return it->second;
  }
  if (names_.size() >= config_.max_names) {
    evict_stalest();
  }
  ++stats_.names_created;
  NameState& s = names_[obs.qname];
  s.registrable_domain =
      registrable_ ? registrable_(obs.qname) : naive_registrable_domain(obs.qname);
  if (s.registrable_domain.empty()) {
    s.registrable_domain = naive_registrable_domain(obs.qname);
  }
  s.owner_hash = domain_hash(s.registrable_domain);
  s.first_seen_s = now_s;
  s.last_prune_s = now_s;
  return s;
}

IpEntry* Tracker::add_ip(NameState& s, const IpAddress& ip, std::uint32_t now_s, bool& is_new) {
  is_new = false;
  if (IpEntry* e = find_ip(s, ip)) {
    e->last_s = std::max(e->last_s, now_s);
    return e;
  }
  if (s.ips.size() >= config_.max_ips_per_name) {
    ++s.ips_dropped;
    ++stats_.ips_dropped;
    return nullptr;
  }
  is_new = true;
  IpEntry e;
  e.ip = ip;
  e.first_s = now_s;
  e.last_s = now_s;
  if (asn_ != nullptr) {
    const AsnInfo info = asn_->lookup(ip);
    e.asn = info.asn;
    e.country = info.country;
  }
  if (geo_ != nullptr && e.country[0] == 0) {
    e.country = geo_->lookup(ip).country;
  }
  s.ips.push_back(e);
  ++total_ips_;
  if (s.ips.size() == kLinearMax + 1 ||
      (!s.ip_index.empty() && s.ips.size() * 2 > s.ip_index.size())) {
    rebuild_index(s);
  } else if (!s.ip_index.empty()) {
    const std::size_t mask = s.ip_index.size() - 1;
    std::size_t slot = ip_hash(ip) & mask;
    while (s.ip_index[slot] != 0) {
      slot = (slot + 1) & mask;
    }
    s.ip_index[slot] = static_cast<std::uint32_t>(s.ips.size());
  }
  return &s.ips.back();
}

void Tracker::prune(const std::string& name, NameState& s, std::uint32_t now_s) {
  const auto window = static_cast<std::uint32_t>(config_.window.count());
  s.last_prune_s = now_s;
  if (now_s < window) {
    return;
  }
  const std::uint32_t horizon = now_s - window;
  auto stale = [&](const IpEntry& e) { return e.last_s < horizon; };
  if (std::any_of(s.ips.begin(), s.ips.end(), stale)) {
    before_drop(name, s);
  }
  const auto old = s.ips.size();
  total_ips_ -= std::erase_if(s.ips, stale);
  std::erase_if(s.ns_ips, [&](const IpEntry& e) { return e.last_s < horizon; });
  if (s.ips.size() != old) {
    rebuild_index(s);
  }
}

void Tracker::observe(const Observation& obs) {
  ++stats_.observations;
  const std::uint32_t now_s = unix_s(obs.time);
  if (now_s > last_sweep_s_ + config_.idle_evict.count() / 16 + 1) {
    if (last_sweep_s_ != 0) {
      evict_idle(obs.time);
    }
    last_sweep_s_ = now_s;
  }
  const bool address_query =
      obs.qtype == dns::kTypeA || obs.qtype == dns::kTypeAaaa || obs.qtype == dns::kTypeAny;
  if ((!address_query && obs.qtype != dns::kTypeNs) ||
      (obs.addresses.empty() && obs.ns_names.empty())) {
    ++stats_.ignored;
    return;
  }
  NameState& s = state_for(obs, now_s);
  if (now_s > s.last_prune_s + config_.window.count() / 8) {
    // Before last_seen_s moves: a drop hook judges the state as of the previous answer.
    prune(obs.qname, s, now_s);
  }
  s.last_seen_s = std::max(s.last_seen_s, now_s);
  s.sources_mask |= 1u << (obs.source_id % 32);

  if (!obs.addresses.empty()) {
    std::uint32_t fresh = 0;
    std::uint32_t lowest = UINT32_MAX;
    std::array<std::uint64_t, 64> nets{};
    std::size_t n_nets = 0;
    for (const AddressAnswer& a : obs.addresses) {
      bool is_new = false;
      const IpEntry* e = add_ip(s, a.ip, now_s, is_new);
      fresh += is_new ? 1 : 0;
      lowest = std::min(lowest, a.ttl_s);
      if (e != nullptr && n_nets < nets.size()) {
        const std::uint64_t k = net_key(*e);
        if (std::find(nets.begin(), nets.begin() + static_cast<long>(n_nets), k) ==
            nets.begin() + static_cast<long>(n_nets)) {
          nets[n_nets++] = k;
        }
      }
    }
    std::uint32_t net_hash = 0;  // order-free, over the distinct networks of the answer
    for (std::size_t k = 0; k < n_nets; ++k) {
      net_hash += static_cast<std::uint32_t>((nets[k] * 0x9E3779B97F4A7C15ull) >> 32) | 1u;
    }
    if (!obs.cname_chain.empty()) {
      lowest = std::min(lowest, obs.cname_ttl_s);
    }
    std::uint32_t set_hash = 0;  // order-free: a sum of per-address hashes
    for (const AddressAnswer& a : obs.addresses) {
      set_hash += static_cast<std::uint32_t>(ip_hash(a.ip) >> 32) | 1u;
    }
    if (s.responses == 0) {
      s.first_answer_size = fresh;
    } else {
      s.new_ips_after_first += fresh;
      s.answer_changes += set_hash != s.last_answer_hash ? 1 : 0;
      s.net_changes += net_hash != s.last_net_hash ? 1 : 0;
    }
    s.last_answer_hash = set_hash;
    s.last_net_hash = net_hash;
    ++s.responses;
    s.answers_total += obs.addresses.size();
    s.max_answers = static_cast<std::uint16_t>(std::min<std::size_t>(
        UINT16_MAX, std::max<std::size_t>(s.max_answers, obs.addresses.size())));
    s.min_ttl_s = std::min(s.min_ttl_s, lowest);
    s.ttl_ring[s.ttl_pos] = lowest;
    s.ttl_pos = static_cast<std::uint8_t>((s.ttl_pos + 1) % s.ttl_ring.size());
    s.ttl_count =
        static_cast<std::uint8_t>(std::min<std::size_t>(s.ttl_count + 1u, s.ttl_ring.size()));
    s.answer_nets_total += answer_networks(obs.addresses);
    remember_listed(obs, s, now_s);
  } else {
    ++s.other_responses;
  }
  for (const std::string& c : obs.cname_chain) {
    if (s.cname_targets.size() < 4 &&
        std::find(s.cname_targets.begin(), s.cname_targets.end(), c) == s.cname_targets.end()) {
      s.cname_targets.push_back(c);
      if (&c == &obs.cname_chain.back()) {
        s.owner_hash = owner_of(c);  // the answers are the CNAME target's (the provider's)
      }
    }
  }
  if (!obs.addresses.empty()) {
    remember_owner(obs, s, now_s);
  }
  bool new_ns = false;
  for (const std::string& n : obs.ns_names) {
    if (std::find(s.ns_names.begin(), s.ns_names.end(), n) == s.ns_names.end() &&
        s.ns_names.size() < config_.max_ns_per_name) {
      s.ns_names.push_back(n);
      new_ns = true;
    }
  }
  if (new_ns && s.ns_names.size() > obs.ns_names.size()) {
    ++s.ns_changes;
  }
  if (!obs.ns_names.empty()) {
    s.ns_min_ttl_s = std::min(s.ns_min_ttl_s, obs.ns_ttl_s);
  }
  bool new_ns_ip = false;
  for (const IpAddress& ip : obs.ns_addresses) {
    auto it = std::find_if(s.ns_ips.begin(), s.ns_ips.end(),
                           [&](const IpEntry& e) { return same_ip(e.ip, ip); });
    if (it != s.ns_ips.end()) {
      it->last_s = now_s;
      continue;
    }
    new_ns_ip = true;
    if (s.ns_ips.size() >= config_.max_ns_per_name) {
      // Full: the oldest address makes room, so that a fluxing NS set stays visible.
      auto oldest =
          std::min_element(s.ns_ips.begin(), s.ns_ips.end(),
                           [](const IpEntry& a, const IpEntry& b) { return a.last_s < b.last_s; });
      s.ns_ips.erase(oldest);
    }
    IpEntry e;
    e.ip = ip;
    e.first_s = e.last_s = now_s;
    if (asn_ != nullptr) {
      const AsnInfo info = asn_->lookup(ip);
      e.asn = info.asn;
      e.country = info.country;
    }
    if (geo_ != nullptr && e.country[0] == 0) {
      e.country = geo_->lookup(ip).country;
    }
    s.ns_ips.push_back(e);
  }
  if (!obs.ns_addresses.empty()) {
    s.ns_new_events += (new_ns_ip && s.ns_responses > 0) ? 1 : 0;
    ++s.ns_responses;
  }
  while (total_ips_ > config_.max_total_ips && !names_.empty()) {
    evict_stalest();  // last: `s` may be among the dropped names
  }
}

std::size_t Tracker::evict_idle(TimePoint now) {
  const std::uint32_t now_s = unix_s(now);
  const auto idle = static_cast<std::uint32_t>(config_.idle_evict.count());
  if (now_s < idle) {
    return 0;
  }
  const std::uint32_t horizon = now_s - idle;
  const std::size_t n = std::erase_if(names_, [&](const auto& kv) {
    if (kv.second.last_seen_s >= horizon) {
      return false;
    }
    before_drop(kv.first, kv.second);
    total_ips_ -= kv.second.ips.size();
    return true;
  });
  stats_.names_evicted_idle += n;
  std::erase_if(listed_ips_, [&](const auto& kv) { return kv.second < horizon; });
  std::erase_if(owners_, [&](const auto& kv) {
    const auto& l = kv.second.last_s;
    return std::max({l[0], l[1], l[2]}) < horizon;
  });
  return n;
}

void Tracker::evict_stalest() {
  // Drop the stalest eighth at once so that a full table does not pay a scan per new name.
  std::vector<std::uint32_t> seen;
  seen.reserve(names_.size());
  for (const auto& [name, s] : names_) {
    seen.push_back(s.last_seen_s);
  }
  const std::size_t k = std::max<std::size_t>(1, seen.size() / 8);
  std::nth_element(seen.begin(), seen.begin() + static_cast<long>(k - 1), seen.end());
  const std::uint32_t cutoff = seen[k - 1];
  std::size_t dropped = 0;
  for (auto it = names_.begin(); it != names_.end() && dropped < k;) {
    if (it->second.last_seen_s <= cutoff) {
      before_drop(it->first, it->second);
      total_ips_ -= it->second.ips.size();
      it = names_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  stats_.names_evicted_full += dropped;
}

std::size_t Tracker::approx_bytes(const std::string& name, const NameState& s) {
  std::size_t b = sizeof(NameState) + sizeof(std::string) + 32;  // node, hash slot, key object
  auto str = [](const std::string& x) { return x.capacity() > 15 ? x.capacity() + 1 : 0; };
  b += str(name) + str(s.registrable_domain);
  b += s.ips.capacity() * sizeof(IpEntry) + s.ns_ips.capacity() * sizeof(IpEntry);
  b += s.ip_index.capacity() * sizeof(std::uint32_t);
  for (const auto& c : s.cname_targets) {
    b += sizeof(std::string) + str(c);
  }
  for (const auto& c : s.ns_names) {
    b += sizeof(std::string) + str(c);
  }
  return b;
}

}  // namespace gf::flux
