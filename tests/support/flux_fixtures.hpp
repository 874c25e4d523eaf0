#pragma once
// Fixtures shared by the flux detector's unit tests: an ASN source that puts every /16 of 10/8 in
// an AS of its own, and a DNS A answer as the capture readers hand it to the tracker.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/dns/message.hpp"
#include "core/flux/observation.hpp"
#include "core/flux/tracker.hpp"

namespace gf::test {

// Countries by /16 of 10/8, no ASN: 10.0-99 in country "XA" (one provider region, or one
// country's ISPs), 10.100-255 spread over 20 countries; other addresses have no country.
class SplitCountries final : public flux::AsnSource {
 public:
  flux::AsnInfo lookup(const IpAddress& a) const override {
    if (!a.is_v4() || a.bytes[12] != 10) {
      return {};
    }
    const int b = a.bytes[13];
    return {0, {'X', static_cast<char>(b < 100 ? 'A' : 'A' + b % 20)}};
  }
  std::string describe() const override { return "test countries"; }
};

// 10.x.y.z belongs to AS 4200000000 + x (one network per /16), country "XA"; IPv6: unknown.
class SlashSixteenAsn final : public flux::AsnSource {
 public:
  flux::AsnInfo lookup(const IpAddress& a) const override {
    return a.is_v4() ? flux::AsnInfo{4200000000u + a.bytes[13], {'X', 'A'}} : flux::AsnInfo{};
  }
  std::string describe() const override { return "test"; }
};

// The IPv4 address a.b.c.d.
inline IpAddress v4(int a, int b, int c, int d) {
  return *parse_ip(std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c) + "." +
                   std::to_string(d));
}

// Agent k of a botnet: one address per /16 of 10/8 (so one network per agent, with or without
// the ASN source above), 250 agents before the third octet moves on.
inline IpAddress agent(int k) { return v4(10, k % 250 + 1, k / 250 % 250, 7); }

// An A answer for `name` at unix time `t`: every address with the same TTL.
inline flux::Observation answer(std::int64_t t, std::string_view name,
                                const std::vector<IpAddress>& ips, std::uint32_t ttl) {
  flux::Observation o;
  o.time = from_unix(t);
  o.qname = std::string(name);
  o.qtype = dns::kTypeA;
  for (const auto& ip : ips) {
    o.addresses.push_back({ip, ttl});
  }
  return o;
}

// The same with the addresses written out ("10.1.1.1"); a name of its own because a braced list
// of two string literals would also match the vector<IpAddress> (iterator pair) overload.
inline flux::Observation answer_of(std::int64_t t, std::string_view name,
                                   const std::vector<std::string>& ips, std::uint32_t ttl) {
  std::vector<IpAddress> parsed;
  for (const auto& a : ips) {
    parsed.push_back(*parse_ip(a));
  }
  return answer(t, name, parsed, ttl);
}

// One look at a zone through a resolver with minimal responses: the name's A (a stable hoster
// address, 1 h TTL), an NS query for the domain, and A lookups of its name servers.
inline void minimal_look(flux::Tracker& t, std::int64_t now, const std::string& domain,
                         const std::vector<std::string>& hosts,
                         const std::vector<IpAddress>& host_ips, std::uint32_t ns_ttl) {
  t.observe(answer(now, "www." + domain, {v4(172, 16, 0, 10)}, 3600));
  flux::Observation ns;
  ns.time = from_unix(now);
  ns.qname = domain;
  ns.qtype = dns::kTypeNs;
  ns.ns_names = hosts;
  ns.ns_ttl_s = ns_ttl;
  t.observe(ns);
  for (std::size_t j = 0; j < hosts.size(); ++j) {
    t.observe(answer(now + 1, hosts[j], {host_ips[j]}, ns_ttl));
  }
}

}  // namespace gf::test
