#pragma once
// ChurnHistory: a small per-name history of a flux name's churn (distinct addresses, networks,
// ASNs and TTLs in its window, step by step) for the dashboard's "name" chart.
//
// Flow: each time the daemon judges the tracked names (FluxService::publish, every
// rpz_interval), it calls record() for every name judged flux and for every name already in
// the history that is still tracked, with point_of(features, state, now). A name entering the
// history gets earlier points reconstructed from its addresses' first and last sightings
// (reconstruct(): what the window would have held at each earlier step; TTLs are not known
// for those and are 0), so a freshly flagged name has a chart at once.
//
// Memory bound: at most max_names names with at most max_points points each (a point is 32
// bytes); with the defaults (2,048 names, 96 points, one point per 5 minutes = 8 hours) that is
// 6 MiB of points plus the names. A point closer than `step` to the name's previous one
// replaces it; when the history is full, the name whose newest point is oldest is dropped.
//
// Threading: none (a value); the daemon keeps it under the tracker's lock. Time is passed in.
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/common/time.hpp"
#include "core/flux/score.hpp"
#include "core/flux/tracker.hpp"

namespace gf::flux {

struct ChurnPoint {
  std::int64_t t = 0;  // Unix seconds
  std::uint32_t addresses = 0;
  std::uint32_t networks = 0;   // distinct /24 (v4) and /48 (v6)
  std::uint32_t asns = 0;       // distinct ASNs (or /16 and /32 networks without ASN data)
  std::uint32_t min_ttl_s = 0;  // over the name's last 16 answers; 0 = unknown
  std::uint32_t max_ttl_s = 0;
  bool reconstructed = false;  // rebuilt from address sightings, not observed at `t`
  friend bool operator==(const ChurnPoint&, const ChurnPoint&) = default;
};

struct ChurnConfig {
  std::size_t max_names = 2048;
  std::size_t max_points = 96;
  Seconds step{300};  // at most one point per step per name
};

// The point a judged name makes now: counts from its features, TTLs from its state's ring.
[[nodiscard]] ChurnPoint point_of(const Features& f, const NameState& s, TimePoint now);

// Points at now - k*step for k = n-1 .. 1 (oldest first), from the addresses' sightings: an
// address counts at t when [first_s, last_s] overlaps [t - window, t]. Steps before the name's
// first sighting are left out.
[[nodiscard]] std::vector<ChurnPoint> reconstruct(const NameState& s, TimePoint now, Seconds step,
                                                  std::size_t n, Seconds window);

class ChurnHistory {
 public:
  explicit ChurnHistory(ChurnConfig config = {}) : config_(config) {}

  // Adds `p` to `name`'s history. When the name is new, `earlier` (oldest first, all before
  // p.t) seeds it.
  void record(const std::string& name, const ChurnPoint& p,
              const std::vector<ChurnPoint>& earlier = {});
  [[nodiscard]] const std::deque<ChurnPoint>* find(std::string_view name) const;
  [[nodiscard]] bool contains(std::string_view name) const { return find(name) != nullptr; }
  void forget(std::string_view name);
  [[nodiscard]] std::size_t size() const { return names_.size(); }
  [[nodiscard]] const ChurnConfig& config() const { return config_; }
  template <class F>
  void for_each_name(F&& f) const {
    for (const auto& [name, points] : names_) {
      f(name);
    }
  }

 private:
  void append(std::deque<ChurnPoint>& points, const ChurnPoint& p) const;
  void evict_oldest();

  ChurnConfig config_;
  std::unordered_map<std::string, std::deque<ChurnPoint>> names_;
};

// {"name":...,"step_s":N,"points":[{"t":..,"addresses":..,"networks":..,"asns":..,
// "min_ttl":..|null,"max_ttl":..|null,"reconstructed":bool},...]}
[[nodiscard]] std::string churn_json(std::string_view name, const std::deque<ChurnPoint>& points,
                                     Seconds step);

}  // namespace gf::flux
