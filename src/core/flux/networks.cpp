#include "core/flux/networks.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <unordered_map>

namespace gf::flux {
namespace {

struct IpKeyHash {
  std::size_t operator()(const IpAddress& ip) const {
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::memcpy(&a, ip.bytes.data(), 8);
    std::memcpy(&b, ip.bytes.data() + 8, 8);
    return static_cast<std::size_t>((a * 0x9E3779B97F4A7C15ull) ^ (b * 0xC2B2AE3D27D4EB4Full));
  }
};

struct UnionFind {
  std::vector<std::size_t> parent;
  explicit UnionFind(std::size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  std::size_t find(std::size_t x) {
    while (parent[x] != x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  }
  void unite(std::size_t a, std::size_t b) { parent[find(a)] = find(b); }
};

}  // namespace

std::vector<FluxNetwork> cluster_networks(const std::vector<NamedAddresses>& names,
                                          std::size_t min_shared) {
  std::unordered_map<IpAddress, std::vector<std::uint32_t>, IpKeyHash> by_ip;
  for (std::uint32_t i = 0; i < names.size(); ++i) {
    for (const IpAddress& ip : names[i].addresses) {
      auto& v = by_ip[ip];
      if (v.empty() || v.back() != i) {
        v.push_back(i);
      }
    }
  }
  UnionFind uf(names.size());
  std::unordered_map<std::uint64_t, std::uint32_t> pair_count;
  for (const auto& [ip, idx] : by_ip) {
    if (idx.size() < 2) {
      continue;
    }
    if (idx.size() > kWideAddress || min_shared <= 1) {
      for (std::size_t k = 1; k < idx.size(); ++k) {
        uf.unite(idx[0], idx[k]);
      }
      continue;
    }
    for (std::size_t a = 0; a < idx.size(); ++a) {
      for (std::size_t b = a + 1; b < idx.size(); ++b) {
        const std::uint64_t key = (std::uint64_t{idx[a]} << 32) | idx[b];
        if (++pair_count[key] >= min_shared) {
          uf.unite(idx[a], idx[b]);
        }
      }
    }
  }
  std::unordered_map<std::size_t, FluxNetwork> groups;
  for (std::size_t i = 0; i < names.size(); ++i) {
    FluxNetwork& n = groups[uf.find(i)];
    n.names.push_back(names[i].name);
    n.agents.insert(n.agents.end(), names[i].addresses.begin(), names[i].addresses.end());
  }
  std::vector<FluxNetwork> out;
  out.reserve(groups.size());
  for (auto& [root, n] : groups) {
    std::sort(n.names.begin(), n.names.end());
    std::sort(n.agents.begin(), n.agents.end(),
              [](const IpAddress& a, const IpAddress& b) { return a.bytes < b.bytes; });
    n.agents.erase(std::unique(n.agents.begin(), n.agents.end()), n.agents.end());
    out.push_back(std::move(n));
  }
  std::sort(out.begin(), out.end(), [](const FluxNetwork& a, const FluxNetwork& b) {
    return a.names.size() != b.names.size() ? a.names.size() > b.names.size() : a.names < b.names;
  });
  return out;
}

}  // namespace gf::flux
