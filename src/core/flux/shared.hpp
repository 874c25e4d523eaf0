#pragma once
// Flux state shared between nodes: several greyflux instances, each fed by its own resolvers'
// dnstap stream, add their per-name observations up in one Redis (or Redis Cluster) so that a
// name whose answers are split between them gets the verdict one instance seeing all of them
// would give. The pure part: what a node publishes (deltas since its last flush), the Redis
// commands that carry them (one server-side script per name, all keys of a name in the slot of
// its `{name}` hash tag), the merged view read back, and the merge into a NameState that the
// ordinary features()/judge() run on. io/flux/shared_flux.hpp moves the bytes.
//
// Flow (the daemon's publish pass, every flux.rpz_interval): SharedLedger::collect() under the
// tracker's lock -> publish the deltas (pipelined) -> commit() -> read the merged views of the
// names changed in the last few passes -> merged_state(local, view) -> judge as usual. A flux
// verdict goes into the VerdictMemory like a local one, so it holds after the name goes quiet.
//
// Per name, under PREFIX f:{NAME}: (docs/redis.md has the sizes):
//   :s  sorted set of scalars: counters (ZINCRBY: responses, answers, /24 per answer, NS
//       events, TTL classes), minima (ZADD LT: first seen, lowest TTL, lowest NS TTL), maxima
//       (ZADD GT: last seen, largest answer, NS changes), the first answer's size (ZADD NX) and
//       CNAME targets ("C" + target, last seen)
//   :g  sorted set of the window's addresses (16-byte address, 4-byte ASN, 2-byte country ->
//       last seen), trimmed to the window and to max_ips_per_name newest
//   :n  the same for name-server addresses (max_ns_per_name newest)
//   :e  HyperLogLog of every address ever answered (unique_ever: reuse and churn)
// Exact: the counters, minima and maxima, the window's addresses and everything derived from
// them (distinct addresses, /16, /24, ASNs, countries, spread). Approximate: unique_ever (HLL,
// standard error 0.81%), the TTL median (merged as its class: <=300 s, <=900 s, <1 h, >=1 h),
// NS "new address" events (each node counts its own) and a node's TTL classes when more than 16
// answers of a name arrive within one flush interval (the last 16 scaled up).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/common/redis_reply.hpp"
#include "core/common/result.hpp"
#include "core/flux/tracker.hpp"

namespace gf::flux {

inline constexpr std::size_t kTtlClasses = 4;  // <=300 s, <=900 s, <3600 s, >=3600 s
std::size_t ttl_class(std::uint32_t ttl_s);

// What one node learnt of one name since its previous flush.
struct NameDelta {
  std::string name;
  std::uint32_t responses = 0, other_responses = 0, ns_new_events = 0;
  std::uint64_t answers = 0, answer_nets = 0;
  std::array<std::uint32_t, kTtlClasses> ttl{};
  std::uint32_t first_seen_s = 0, last_seen_s = 0;
  std::uint32_t min_ttl_s = UINT32_MAX, ns_min_ttl_s = UINT32_MAX;
  std::uint32_t max_answers = 0, ns_changes = 0, first_answer_size = 0;
  std::vector<IpEntry> ips;     // seen since the previous flush
  std::vector<IpEntry> ns_ips;  // likewise
  std::vector<std::string> cname_targets;
  // The name's totals when collected: what commit() records as published.
  struct Totals {
    std::uint32_t responses = 0, other_responses = 0, ns_new_events = 0, last_seen_s = 0;
    std::uint64_t answers = 0, answer_nets = 0;
  } totals;
};

// The merged state of a name as Redis holds it (every node's deltas added up).
struct SharedView {
  std::uint32_t responses = 0, other_responses = 0, ns_new_events = 0;
  std::uint64_t answers = 0, answer_nets = 0;
  std::array<std::uint32_t, kTtlClasses> ttl{};
  std::uint32_t first_seen_s = 0, last_seen_s = 0;
  std::uint32_t min_ttl_s = UINT32_MAX, ns_min_ttl_s = UINT32_MAX;
  std::uint32_t max_answers = 0, ns_changes = 0, first_answer_size = 0;
  std::uint32_t unique_ever = 0;  // HyperLogLog estimate
  std::vector<IpEntry> ips;
  std::vector<IpEntry> ns_ips;
  std::vector<std::string> cname_targets;
  bool empty() const { return responses == 0 && other_responses == 0 && ips.empty(); }
};

// What a node has published of each name; owned by the caller, guarded like the tracker.
class SharedLedger {
 public:
  // Deltas of the names whose state changed since they were last committed (every tracked
  // name the first time). `max_names` bounds one pass (the rest follow in the next passes).
  std::vector<NameDelta> collect(const Tracker& tracker, std::size_t max_names) const;
  // Records `deltas` as published at pass `pass` (call after the publish succeeded) and drops
  // the marks of names the tracker no longer has.
  void commit(const Tracker& tracker, const std::vector<NameDelta>& deltas, std::uint64_t pass);
  // Names published within the last `passes` passes up to `pass` (whose merged view may have
  // changed since: other nodes publish on their own schedule).
  std::vector<std::string> recent(std::uint64_t pass, std::uint64_t passes) const;
  std::size_t size() const { return marks_.size(); }

 private:
  struct Mark {
    NameDelta::Totals totals;
    std::uint64_t pass = 0;
  };
  std::unordered_map<std::string, Mark> marks_;
};

// Keys of a name: PREFIX + "{" + name + "}:" + kind (kind "s", "g", "n", "e").
std::string shared_key(std::string_view prefix, std::string_view name, char kind);

// The server-side script that applies one delta (KEYS: s, g, n, e). The io layer loads it
// (SCRIPT LOAD answers its SHA-1) and sends EVALSHA, EVAL after a NOSCRIPT reply.
const std::string& shared_update_script();

struct SharedLimits {
  std::uint32_t window_s = 6 * 3600;   // addresses older than this before the name's last
                                       // sighting are trimmed
  std::uint32_t expire_s = 12 * 3600;  // keys of a name live this long after its last update
  std::uint32_t max_ips = 2048;
  std::uint32_t max_ns = 32;
};

// EVALSHA <sha> 4 KEYS... ARGV... for one delta (`sha` empty: EVAL <script> ...).
std::vector<std::string> shared_update_command(std::string_view prefix, const NameDelta& d,
                                               const SharedLimits& limits, std::string_view sha);
// The four read commands of one name, in the order shared_view() takes their replies.
std::vector<std::vector<std::string>> shared_read_commands(std::string_view prefix,
                                                           std::string_view name);
// The merged view from the replies of shared_read_commands(); InvalidInput on a malformed one.
[[nodiscard]] Result<SharedView> shared_view(const RedisReply& scalars, const RedisReply& ips,
                                             const RedisReply& ns_ips,
                                             const RedisReply& unique_ever);

// The local state with the merged view folded in: the union of the window's addresses, the
// summed counters, minima and maxima. features()/judge_latest() on it give the merged verdict.
NameState merged_state(const NameState& local, const SharedView& view);

// Applies a delta to a view as the script does in Redis (the unit tests' stand-in for Redis);
// unique_ever is counted exactly here, over `ever` (every address applied so far).
void apply_delta(SharedView& view, std::vector<IpAddress>& ever, const NameDelta& d,
                 const SharedLimits& limits);

}  // namespace gf::flux
