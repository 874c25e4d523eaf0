#pragma once
// The observation: what every source (pcap, dnstap, Zeek, active lookups) reports about one DNS
// response, reduced to what the flux detector measures. Sources build it; Tracker consumes it.
//
// from_message() derives an observation from a parsed response: it follows the CNAME chain from
// the question name, keeps the A/AAAA records of the chain's last name, the NS records whose
// owner is the question name or one of its ancestors, and the glue addresses of those servers.
#include <cstdint>
#include <string>
#include <vector>

#include "core/common/ip.hpp"
#include "core/common/time.hpp"
#include "core/dns/message.hpp"

namespace gf::flux {

struct AddressAnswer {
  IpAddress ip;
  std::uint32_t ttl_s = 0;
};

struct Observation {
  TimePoint time{};
  std::string qname;  // presentation form, lower-case, no final dot
  std::uint16_t qtype = 0;
  std::uint8_t rcode = 0;
  std::vector<AddressAnswer> addresses;
  std::vector<std::string> cname_chain;  // targets in order, qname excluded
  std::uint32_t cname_ttl_s = 0;         // lowest TTL along the chain (0 when no chain)
  std::vector<std::string> ns_names;
  std::vector<IpAddress> ns_addresses;
  std::uint32_t ns_ttl_s = 0;   // lowest TTL of the NS records and their glue (0 when none)
  std::uint32_t source_id = 0;  // resolver or sensor that reported it

  void clear();
};

// Fills `out` from a response. Returns false (and leaves `out` unusable) when the message is not
// a standard-query response with one question of class IN.
bool from_message(const dns::Message& msg, TimePoint time, std::uint32_t source_id,
                  Observation& out);

}  // namespace gf::flux
