#pragma once
// Link, network and transport headers of captured frames, down to the DNS payload.
//
// decode_packet() takes one captured frame as libpcap hands it (link type, captured bytes, and
// the length on the wire) and finds UDP or TCP on port 53 over IPv4 or IPv6 (Ethernet with
// VLAN tags, Linux cooked v1/v2, BSD loopback, raw IP). Frames cut short by the snap length,
// IP fragments (they are not reassembled), and anything malformed are reported as such so the
// reader can count and skip them. Pure: no allocation, no I/O.
//
// TcpReassembler turns the server-to-client side of DNS-over-TCP flows (RFC 7766: two-octet
// length prefix, several messages per connection) into whole messages. It keeps in-order data
// only: a gap drops that flow's buffer (counted). At most kMaxFlows flows and 65,537 buffered
// bytes per flow; beyond that the oldest flows are dropped.
#include <cstdint>
#include <functional>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/common/ip.hpp"

namespace gf::dns {

enum class PacketStatus : std::uint8_t {
  Ok,
  UnsupportedLink,
  NotIp,
  NotDns,     // neither port is 53, or not UDP/TCP
  Fragment,   // IPv4 MF/offset or IPv6 fragment header
  Truncated,  // captured shorter than the headers or the IP length say
  Malformed,
};

struct PacketInfo {
  IpAddress src, dst;
  std::uint16_t sport = 0, dport = 0;
  bool tcp = false;
  std::uint32_t tcp_seq = 0;
  std::uint8_t tcp_flags = 0;  // FIN 0x01, SYN 0x02, RST 0x04
  std::span<const std::uint8_t> payload;
};

inline constexpr std::uint32_t kLinkNull = 0, kLinkEthernet = 1, kLinkRaw = 101, kLinkRawAlt = 12,
                               kLinkLoop = 108, kLinkLinuxSll = 113, kLinkLinuxSll2 = 276,
                               kLinkIpv4 = 228, kLinkIpv6 = 229;

// `dns_port` is the server port that marks DNS (53; a lab resolver may use another).
PacketStatus decode_packet(std::uint32_t link_type, std::span<const std::uint8_t> frame,
                           std::uint32_t wire_length, PacketInfo& out, std::uint16_t dns_port = 53);

class TcpReassembler {
 public:
  static constexpr std::size_t kMaxFlows = 4096;
  struct Stats {
    std::uint64_t messages = 0;
    std::uint64_t gaps = 0;  // out-of-order or missing data: flow buffer dropped
    std::uint64_t flows_evicted = 0;
  };
  using Sink = std::function<void(std::span<const std::uint8_t> message)>;

  // Feeds one segment sent by a DNS server (source port 53).
  void feed(const PacketInfo& p, const Sink& sink);
  const Stats& stats() const { return stats_; }
  std::size_t flows() const { return flows_.size(); }

 private:
  struct Key {
    IpAddress a, b;
    std::uint16_t pa, pb;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const;
  };
  struct Flow {
    std::uint32_t next_seq = 0;
    bool synced = false;
    std::vector<std::uint8_t> buf;
  };
  std::unordered_map<Key, Flow, KeyHash> flows_;
  Stats stats_;
};

}  // namespace gf::dns
