#pragma once
// Flux networks: names that share agent addresses are one network (after FluxBuster's idea of
// clustering by IP-set overlap). Union-find over the flagged names: two names join when they share
// at least `min_shared` addresses. An address listed by more than kWideAddress names joins them
// all at once (it is an agent of every one of them), so the pair count stays bounded.
#include <cstddef>
#include <string>
#include <vector>

#include "core/common/ip.hpp"

namespace gf::flux {

struct NamedAddresses {
  std::string name;
  std::vector<IpAddress> addresses;
};

struct FluxNetwork {
  std::vector<std::string> names;  // sorted
  std::vector<IpAddress> agents;   // sorted, distinct
};

inline constexpr std::size_t kWideAddress = 64;

// Networks sorted by size, largest first; a name sharing nothing forms a network of its own.
std::vector<FluxNetwork> cluster_networks(const std::vector<NamedAddresses>& names,
                                          std::size_t min_shared = 2);

}  // namespace gf::flux
