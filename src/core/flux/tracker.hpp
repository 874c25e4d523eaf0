#pragma once
// Per-name state over a sliding window, fed with observations, bounded in memory.
//
// Flow: a source calls observe() for every response (single-threaded: the caller owns the
// tracker; the daemon wraps it in a Guarded<>). Addresses are kept with their first and last
// sighting and their ASN, looked up once when the address is first seen for that name.
// features() summarises a name over the window ending at `now`; scoring and explanation live in
// score.hpp. Time is passed in with each observation; nothing here reads a clock.
//
// Memory bounds: at most max_listed_ips addresses of allowlisted names (older than the window
// are dropped when full, then new ones are counted, not kept), as many in the index of the
// registrable domains each address answered for (max_owner_ips, alike), max_ips_per_name addresses
// (then further ones are counted, not kept), max_ns_per_name NS names and addresses, 4 CNAME
// targets and a 16-sample TTL ring per name; at most max_names names and max_total_ips addresses
// over all names (the stalest eighth of the names is evicted when either is reached), and names not
// seen for idle_evict are dropped by the periodic sweep that observe() runs as time advances.
//
// A drop hook (set_drop_hook) sees a name's state just before it loses data: before addresses
// leave its window (the state is then as of its previous answer) and before the name is
// evicted. The daemon and the scan judge the name there and keep a flux verdict in a
// VerdictMemory (verdicts.hpp), so the verdict survives the data it was made on.
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/common/ip.hpp"
#include "core/common/time.hpp"
#include "core/flux/asn.hpp"
#include "core/flux/observation.hpp"

namespace gf::flux {

struct TrackerConfig {
  Seconds window{std::chrono::hours(6)};       // features look this far back
  Seconds idle_evict{std::chrono::hours(12)};  // names unseen this long are dropped
  std::size_t max_names = 1'000'000;
  std::size_t max_ips_per_name = 2048;
  std::size_t max_ns_per_name = 32;
  // Addresses held over all names: past it the stalest eighth of the names is dropped, as when
  // max_names is reached. With the defaults the tracker's worst case is about 1 GiB (docs/flux.md).
  std::size_t max_total_ips = 8'000'000;
  // Addresses that answered for an allowlisted name (a pool server, a CDN edge), with their last
  // sighting: a name whose addresses are mostly these shares a listed provider's servers.
  std::size_t max_listed_ips = 1'000'000;
  // Addresses with the registrable domains they answered for (up to 3 each, with their last
  // sighting): flux agents serve many unrelated domains, a provider's pool its own family. Only
  // addresses of names with 2+ addresses are kept. 0: none (the sharing evidence is off).
  std::size_t max_owner_ips = 1'000'000;
};

struct IpEntry {
  IpAddress ip;
  std::uint32_t asn = 0;
  std::uint32_t first_s = 0;  // Unix seconds
  std::uint32_t last_s = 0;
  std::array<char, 2> country = {0, 0};
};

struct NameState {
  std::string registrable_domain;
  std::vector<IpEntry> ips;
  std::vector<std::uint32_t>
      ip_index;  // open addressing over ips (slot = index + 1); empty when small
  std::vector<std::string> cname_targets;
  std::vector<std::string> ns_names;
  std::vector<IpEntry> ns_ips;
  std::array<std::uint32_t, 16> ttl_ring{};  // lowest TTL of each of the last 16 responses
  std::uint8_t ttl_count = 0;
  std::uint8_t ttl_pos = 0;
  std::uint16_t max_answers = 0;
  std::uint32_t min_ttl_s = UINT32_MAX;
  std::uint32_t responses = 0;          // responses with at least one address
  std::uint32_t other_responses = 0;    // NXDOMAIN, empty answers, NS-only
  std::uint64_t answers_total = 0;      // addresses summed over responses
  std::uint32_t first_answer_size = 0;  // distinct addresses in the first response
  std::uint32_t new_ips_after_first = 0;
  std::uint32_t ips_dropped = 0;    // over max_ips_per_name
  std::uint32_t ns_changes = 0;     // responses that brought an NS name not seen before
  std::uint32_t ns_responses = 0;   // responses that carried name-server addresses
  std::uint32_t ns_new_events = 0;  // later such responses that brought a new NS address
  std::uint32_t ns_min_ttl_s = UINT32_MAX;
  std::uint64_t answer_nets_total = 0;  // distinct /24 (v4) or /48 (v6) per answer, summed
  std::uint8_t listed = 0;              // 1: the name or a CNAME target is allowlisted
  std::uint32_t first_seen_s = 0;
  std::uint32_t last_seen_s = 0;
  std::uint32_t last_prune_s = 0;
  std::uint32_t sources_mask = 0;  // bit (source_id % 32) of every reporting source
  // Responses whose address set differed from the previous response's, since first seen (not
  // windowed: an address pruned and seen again is no change), and that set's hash.
  std::uint32_t answer_changes = 0;
  std::uint32_t last_answer_hash = 0;
  // Responses whose networks (the ASN; without ASN data the country, else the /16 or /32) differed
  // from the previous response's, since first seen, and that set's hash: a home line renumbered
  // by its ISP keeps its ASN and country, a flux agent replaced by another does not.
  std::uint32_t net_changes = 0;
  std::uint32_t last_net_hash = 0;
  // Hash of the registrable domain the answers belong to: the name's, or its CNAME target's (a
  // CDN or cloud customer's answers are the provider's). Never 0.
  std::uint32_t owner_hash = 0;
};

// The registrable domains an address answered for, with their last sighting (most recent 3).
struct OwnerSlots {
  std::array<std::uint32_t, 3> owner{};
  std::array<std::uint32_t, 3> last_s{};
};

struct TrackerStats {
  std::uint64_t observations = 0;
  std::uint64_t ignored = 0;  // not A/AAAA/ANY/NS, or nothing to learn
  std::uint64_t names_created = 0;
  std::uint64_t names_evicted_idle = 0;
  std::uint64_t names_evicted_full = 0;
  std::uint64_t ips_dropped = 0;
  std::uint64_t listed_ips_dropped = 0;  // over max_listed_ips
  std::uint64_t owner_ips_dropped = 0;   // over max_owner_ips
};

class Tracker {
 public:
  // `asn` may be null (then /16 networks stand in for ASNs); `registrable` maps a name to its
  // registrable domain (libpsl in production) and may be empty (then the last two labels).
  using RegistrableFn = std::function<std::string(std::string_view)>;
  Tracker(TrackerConfig config, const AsnSource* asn, RegistrableFn registrable);

  // Called with a name and its state before the state loses data (see above). The hook may read
  // the tracker (find, features) but must not call observe() or evict_idle().
  using DropHook = std::function<void(const std::string& name, const NameState& s)>;
  void set_drop_hook(DropHook hook) { drop_hook_ = std::move(hook); }
  // Says whether a name (or a CNAME target) is allowlisted; the addresses answered for such names
  // are remembered (listed_last_seen). Unset: nothing is remembered.
  using ListedFn = std::function<bool(std::string_view)>;
  void set_listed(ListedFn fn) { listed_ = std::move(fn); }
  // Unix seconds an address last answered for an allowlisted name, 0 if never (or forgotten).
  std::uint32_t listed_last_seen(const IpAddress& ip) const;
  std::size_t listed_ips() const { return listed_ips_.size(); }
  // Registrable domains other than `own` (owner hashes) that `ip` answered for at or after
  // `horizon` (Unix seconds), up to 3, written to `out`; returns how many.
  std::size_t other_owners(const IpAddress& ip, std::uint32_t own, std::int64_t horizon,
                           std::array<std::uint32_t, 3>& out) const;
  std::size_t owner_ips() const { return owners_.size(); }

  void observe(const Observation& obs);
  // Drops names idle for config.idle_evict; returns how many. observe() calls it as time passes.
  std::size_t evict_idle(TimePoint now);

  const NameState* find(std::string_view name) const;
  std::size_t size() const { return names_.size(); }
  std::size_t total_ips() const { return total_ips_; }  // addresses held over all names
  const TrackerStats& stats() const { return stats_; }
  const TrackerConfig& config() const { return config_; }
  bool has_asn_data() const { return asn_ != nullptr; }
  // A country-only source (the legacy GeoIP country database): consulted for an address's country
  // when the ASN source is absent or has no country for it. May be null. Set before observing.
  void set_geo(const AsnSource* geo) { geo_ = geo; }
  bool has_geo_data() const { return geo_ != nullptr || asn_ != nullptr; }

  template <class F>
  void for_each(F&& f) const {
    for (const auto& [name, state] : names_) {
      f(name, state);
    }
  }

  // Heap bytes held for one name (key, state, vectors): for the memory-per-name benchmark.
  static std::size_t approx_bytes(const std::string& name, const NameState& s);

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  NameState& state_for(const Observation& obs, std::uint32_t now_s);
  IpEntry* add_ip(NameState& s, const IpAddress& ip, std::uint32_t now_s, bool& is_new);
  std::uint64_t net_key(const IpEntry& e) const;
  void remember_owner(const Observation& obs, NameState& s, std::uint32_t now_s);
  std::uint32_t owner_of(std::string_view domain) const;
  void prune(const std::string& name, NameState& s, std::uint32_t now_s);
  void before_drop(const std::string& name, const NameState& s) {
    if (drop_hook_) {
      drop_hook_(name, s);
    }
  }
  void evict_stalest();
  void remember_listed(const Observation& obs, NameState& s, std::uint32_t now_s);
  struct IpHash {
    std::size_t operator()(const IpAddress& ip) const;
  };
  struct IpEq {
    bool operator()(const IpAddress& a, const IpAddress& b) const { return a.bytes == b.bytes; }
  };

  TrackerConfig config_;
  const AsnSource* asn_;
  const AsnSource* geo_ = nullptr;
  RegistrableFn registrable_;
  DropHook drop_hook_;
  ListedFn listed_;
  std::unordered_map<IpAddress, std::uint32_t, IpHash, IpEq> listed_ips_;
  std::unordered_map<IpAddress, OwnerSlots, IpHash, IpEq> owners_;
  std::uint32_t next_owner_sweep_s_ = 0;  // when full: no sweep before this
  std::unordered_map<std::string, NameState, Hash, std::equal_to<>> names_;
  TrackerStats stats_;
  std::uint32_t last_sweep_s_ = 0;
  std::size_t total_ips_ = 0;
};

// Last two labels: the registrable domain when no public suffix list is at hand.
std::string naive_registrable_domain(std::string_view name);

}  // namespace gf::flux
