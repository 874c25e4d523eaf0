#pragma once
// VerdictMemory: a flux verdict outlives the data it was made on.
//
// The tracker forgets addresses older than `flux.window` and names idle for `flux.idle_evict`,
// so a flux name that nobody queries for a few hours would look benign (or unknown) again, and
// its agents would leave the RPZ and the agent index. Phishing names are looked up in bursts
// hours apart. A name that reached a flux verdict is therefore held here for `ttl` (the setting
// `flux.verdict_ttl`) after the last answer that was judged flux ("last seen fluxing"); each
// later flux verdict refreshes it. A verdict that is no longer flux does not clear it: the entry
// expires on its own.
//
// Flow: whoever judges names (the daemon's publish pass, the scan, the tracker's drop hook just
// before a name loses data) calls record() with the verdict judged on the name's latest window
// (judge_latest()), then expire(now); outputs list the held names (held()).
//
// Memory bound: at most max_names entries (when full, the eighth with the oldest last flux
// sighting is dropped), each with at most max_agents agent addresses (the latest verdict's
// first, then older ones) and 8 name servers. approx_bytes() gives the accounting; with the
// defaults (32,768 names, 128 agents) the worst case is about 75 MiB.
// Single-threaded: the owner guards it (the daemon keeps it under the tracker's lock).
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/common/ip.hpp"
#include "core/common/time.hpp"
#include "core/flux/rpz.hpp"
#include "core/flux/score.hpp"

namespace gf::flux {

struct VerdictMemoryConfig {
  Seconds ttl{std::chrono::hours(24 * 7)};
  std::size_t max_names = 32'768;
  std::size_t max_agents = 128;
};

struct HeldVerdict {
  std::uint32_t first_flux_s = 0;  // Unix seconds: the first answer judged flux
  std::uint32_t last_flux_s = 0;   // the last answer of a window judged flux
  double score = 0;                // score of the latest flux verdict
  bool approximate = true;         // that verdict had no (or incomplete) ASN data
  std::vector<IpAddress> agents;
  std::vector<std::string> ns_names;  // of double-flux names, for rpz-nsdname
};

class VerdictMemory {
 public:
  explicit VerdictMemory(VerdictMemoryConfig config = {}) : config_(config) {}

  // Holds `name` as flux, last seen fluxing at `last_flux_s` (the last answer of the judged
  // window). A later call refreshes the entry (never moves last_flux_s backwards).
  void record(std::string_view name, double score, bool approximate, std::uint32_t last_flux_s,
              const std::vector<IpAddress>& agents, const std::vector<std::string>& ns_names);
  // record() with the scorer `by` of `v` (the composite by default), when it is flux; false
  // otherwise.
  bool record(const Verdict& v, const ScoreResult& by);
  bool record(const Verdict& v) { return record(v, v.composite); }

  // Drops entries whose last flux sighting is more than ttl before `now`; returns how many.
  std::size_t expire(TimePoint now);
  // The held verdict for exactly `name`, unless it has expired at `now`.
  const HeldVerdict* find(std::string_view name, TimePoint now) const;
  std::int64_t expires_at(const HeldVerdict& h) const {
    return h.last_flux_s + config_.ttl.count();
  }

  std::size_t size() const { return held_.size(); }
  const VerdictMemoryConfig& config() const { return config_; }
  std::uint64_t evicted_full() const { return evicted_full_; }
  std::size_t approx_bytes() const;

  // f(name, held) for every entry not expired at `now`.
  template <class F>
  void for_each(TimePoint now, F&& f) const {
    for (const auto& [name, h] : held_) {
      if (!expired(h, now)) {
        f(name, h);
      }
    }
  }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  bool expired(const HeldVerdict& h, TimePoint now) const { return to_unix(now) > expires_at(h); }
  void evict_oldest();

  VerdictMemoryConfig config_;
  std::unordered_map<std::string, HeldVerdict, Hash, std::equal_to<>> held_;
  std::uint64_t evicted_full_ = 0;
};

// The name judged on its own latest window: the one ending at its last answer, however long
// ago that was. This is how a scan judges each name on its active period and how the daemon
// keeps judging a name that went quiet.
Verdict judge_latest(std::string_view name, const NameState& s, const Tracker& tracker,
                     const Allowlist* allow);

// One pass: every tracked name with answers is judged on its latest window and on_verdict(v)
// called; verdicts flagged by `pick(v)` are recorded in `memory`, which is then expired at `now`.
template <class Pick, class F>
void judge_and_hold(const Tracker& tracker, VerdictMemory& memory, const Allowlist* allow,
                    TimePoint now, Pick&& pick, F&& on_verdict) {
  tracker.for_each([&](const std::string& name, const NameState& s) {
    if (s.responses == 0) {
      return;  // NS-only state (a registrable domain seen through NS queries)
    }
    Verdict v = judge_latest(name, s, tracker, allow);
    memory.record(v, pick(v));
    on_verdict(std::move(v));
  });
  memory.expire(now);
}

// The held names, their agents and double-flux name servers (not normalised).
RpzContent held_content(const VerdictMemory& memory, TimePoint now);

// "held":{...} members for a JSON verdict: first and last flux sighting, expiry (Unix seconds).
std::string held_json(const VerdictMemory& memory, const HeldVerdict& h);

}  // namespace gf::flux
