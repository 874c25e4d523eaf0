#pragma once
// The synthetic world behind the flux fixtures: an address plan over documentation, shared,
// private and benchmark ranges (never real networks), an ASN table for it, and name behaviours
// (flux networks with churn, health-check removal and double flux; CDN-, anycast-, round-robin-,
// NTP-pool-, static-, mail- and dynamic-DNS-like benign names). It yields time-ordered DNS
// responses as wire messages; the writers in fixtures.cpp put them into pcap, dnstap and Zeek.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/common/ip.hpp"

namespace gf::fixtures {

struct Event {
  std::int64_t time_us = 0;
  std::uint16_t qtype = 1;
  std::string qname;
  std::vector<std::uint8_t> wire;  // the response message
  // For Zeek: the answers as Zeek lists them (CNAME targets, then addresses) with TTLs.
  std::vector<std::string> answers;
  std::vector<std::uint32_t> ttls;
  std::uint8_t transport = 0;  // 0 UDP/IPv4, 1 UDP/IPv6, 2 TCP/IPv4
};

struct Label {
  std::string name;
  bool flux = false;
  std::string kind;
  int network = -1;  // flux network id
};

struct Options {
  std::uint64_t seed = 1;
  int flux_networks = 40;
  int flux_names = 1000;
  int benign_names = 5000;
  std::int64_t start_s = 1767225600;  // 2026-01-01T00:00:00Z
  std::int64_t duration_s = 6 * 3600;
};

struct World {
  std::vector<Event> events;  // sorted by time
  std::vector<Label> labels;
  std::string asn_tsv;
};

World build_world(const Options& o);

}  // namespace gf::fixtures
