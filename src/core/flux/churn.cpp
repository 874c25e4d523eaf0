#include "core/flux/churn.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <unordered_set>

namespace gf::flux {
namespace {

void ttl_range(const NameState& s, ChurnPoint& p) {
  if (s.ttl_count == 0) {
    return;
  }
  const auto begin = s.ttl_ring.begin();
  const auto [lo, hi] = std::minmax_element(begin, begin + s.ttl_count);
  p.min_ttl_s = *lo;
  p.max_ttl_s = *hi;
}

// Counts of the addresses of `s` whose sightings overlap [from, to].
ChurnPoint counts_between(const NameState& s, std::int64_t from, std::int64_t to) {
  ChurnPoint p;
  p.t = to;
  std::unordered_set<std::string> nets, asns;
  for (const IpEntry& e : s.ips) {
    if (static_cast<std::int64_t>(e.first_s) > to || static_cast<std::int64_t>(e.last_s) < from) {
      continue;
    }
    ++p.addresses;
    nets.insert(network_key(e.ip, 24, 48));
    asns.insert(e.asn != 0 ? fmt::format("AS{}", e.asn) : network_key(e.ip, 16, 32));
  }
  p.networks = static_cast<std::uint32_t>(nets.size());
  p.asns = static_cast<std::uint32_t>(asns.size());
  return p;
}

}  // namespace

ChurnPoint point_of(const Features& f, const NameState& s, TimePoint now) {
  ChurnPoint p;
  p.t = to_unix(now);
  p.addresses = f.unique_ips;
  p.networks = f.v4_slash24 + f.v6_slash48;
  p.asns = f.asns;
  ttl_range(s, p);
  return p;
}

std::vector<ChurnPoint> reconstruct(const NameState& s, TimePoint now, Seconds step, std::size_t n,
                                    Seconds window) {
  std::vector<ChurnPoint> out;
  const std::int64_t now_s = to_unix(now);
  for (std::size_t k = n > 0 ? n - 1 : 0; k >= 1; --k) {
    const std::int64_t t = now_s - static_cast<std::int64_t>(k) * step.count();
    if (t < static_cast<std::int64_t>(s.first_seen_s)) {
      continue;
    }
    ChurnPoint p = counts_between(s, t - window.count(), t);
    p.reconstructed = true;
    out.push_back(p);
  }
  return out;
}

void ChurnHistory::append(std::deque<ChurnPoint>& points, const ChurnPoint& p) const {
  if (!points.empty() && p.t <= points.back().t) {
    return;  // the clock went back, or a duplicate: keep the history ordered
  }
  if (points.size() >= 2 && p.t - points[points.size() - 2].t < config_.step.count() &&
      !points.back().reconstructed) {
    points.back() = p;  // within one step of the point before: the newer figures replace it
    return;
  }
  points.push_back(p);
  while (points.size() > config_.max_points) {
    points.pop_front();
  }
}

void ChurnHistory::record(const std::string& name, const ChurnPoint& p,
                          const std::vector<ChurnPoint>& earlier) {
  auto it = names_.find(name);
  if (it == names_.end()) {
    if (config_.max_names == 0) {
      return;
    }
    if (names_.size() >= config_.max_names) {
      evict_oldest();
    }
    it = names_.emplace(name, std::deque<ChurnPoint>()).first;
    for (const ChurnPoint& e : earlier) {
      if (e.t < p.t) {
        it->second.push_back(e);
      }
    }
    while (it->second.size() >= config_.max_points && !it->second.empty()) {
      it->second.pop_front();
    }
    it->second.push_back(p);
    return;
  }
  append(it->second, p);
}

const std::deque<ChurnPoint>* ChurnHistory::find(std::string_view name) const {
  auto it = names_.find(std::string(name));
  return it == names_.end() ? nullptr : &it->second;
}

void ChurnHistory::forget(std::string_view name) { names_.erase(std::string(name)); }

void ChurnHistory::evict_oldest() {
  auto newest_t = [](const std::deque<ChurnPoint>& d) {
    return d.empty() ? std::numeric_limits<std::int64_t>::min() : d.back().t;
  };
  auto oldest = names_.end();
  for (auto it = names_.begin(); it != names_.end(); ++it) {
    if (oldest == names_.end() || newest_t(it->second) < newest_t(oldest->second)) {
      oldest = it;
    }
  }
  if (oldest != names_.end()) {
    names_.erase(oldest);
  }
}

std::string churn_json(std::string_view name, const std::deque<ChurnPoint>& points, Seconds step) {
  auto ttl = [](std::uint32_t v) { return v == 0 ? std::string("null") : std::to_string(v); };
  std::string out =
      fmt::format(R"({{"name":"{}","step_s":{},"points":[)", json_escape(name), step.count());
  for (std::size_t i = 0; i < points.size(); ++i) {
    const ChurnPoint& p = points[i];
    out += fmt::format(
        R"({}{{"t":{},"addresses":{},"networks":{},"asns":{},"min_ttl":{},"max_ttl":{},)"
        R"("reconstructed":{}}})",
        i == 0 ? "" : ",", p.t, p.addresses, p.networks, p.asns, ttl(p.min_ttl_s), ttl(p.max_ttl_s),
        p.reconstructed ? "true" : "false");
  }
  out += "]}";
  return out;
}

}  // namespace gf::flux
