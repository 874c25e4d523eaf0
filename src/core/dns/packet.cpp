#include "core/dns/packet.hpp"

#include <cstring>

namespace gf::dns {
namespace {

inline std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}

constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

PacketStatus transport(std::uint8_t proto, std::span<const std::uint8_t> seg, bool short_capture,
                       PacketInfo& out, std::uint16_t port) {
  if (proto == 17) {
    if (seg.size() < 8) {
      return short_capture ? PacketStatus::Truncated : PacketStatus::Malformed;
    }
    out.sport = be16(seg.data());
    out.dport = be16(seg.data() + 2);
    if (out.sport != port && out.dport != port) {
      return PacketStatus::NotDns;
    }
    const std::size_t ulen = be16(seg.data() + 4);
    if (ulen < 8) {
      return PacketStatus::Malformed;
    }
    if (ulen > seg.size()) {
      return short_capture ? PacketStatus::Truncated : PacketStatus::Malformed;
    }
    out.tcp = false;
    out.payload = seg.subspan(8, ulen - 8);
    return PacketStatus::Ok;
  }
  if (proto == 6) {
    if (seg.size() < 20) {
      return short_capture ? PacketStatus::Truncated : PacketStatus::Malformed;
    }
    out.sport = be16(seg.data());
    out.dport = be16(seg.data() + 2);
    if (out.sport != port && out.dport != port) {
      return PacketStatus::NotDns;
    }
    const std::size_t off = static_cast<std::size_t>(seg[12] >> 4) * 4;
    if (off < 20 || off > seg.size()) {
      return short_capture ? PacketStatus::Truncated : PacketStatus::Malformed;
    }
    out.tcp = true;
    out.tcp_seq = be32(seg.data() + 4);
    out.tcp_flags = seg[13] & 0x07;
    out.payload = seg.subspan(off);
    return PacketStatus::Ok;
  }
  return PacketStatus::NotDns;
}

PacketStatus ipv4(std::span<const std::uint8_t> p, bool short_capture, PacketInfo& out,
                  std::uint16_t port) {
  if (p.size() < 20) {
    return short_capture ? PacketStatus::Truncated : PacketStatus::Malformed;
  }
  if ((p[0] >> 4) != 4) {
    return PacketStatus::Malformed;
  }
  const std::size_t ihl = std::size_t{p[0] & 0x0Fu} * 4;
  const std::size_t total = be16(p.data() + 2);
  if (ihl < 20 || total < ihl) {
    return PacketStatus::Malformed;
  }
  if (total > p.size()) {
    return short_capture ? PacketStatus::Truncated : PacketStatus::Malformed;
  }
  const std::uint16_t frag = be16(p.data() + 6);
  if ((frag & 0x2000) != 0 || (frag & 0x1FFF) != 0) {
    return PacketStatus::Fragment;
  }
  std::memcpy(out.src.bytes.data(), kMapped, 12);
  std::memcpy(out.src.bytes.data() + 12, p.data() + 12, 4);
  std::memcpy(out.dst.bytes.data(), kMapped, 12);
  std::memcpy(out.dst.bytes.data() + 12, p.data() + 16, 4);
  return transport(p[9], p.subspan(ihl, total - ihl), short_capture, out, port);
}

PacketStatus ipv6(std::span<const std::uint8_t> p, bool short_capture, PacketInfo& out,
                  std::uint16_t port) {
  if (p.size() < 40) {
    return short_capture ? PacketStatus::Truncated : PacketStatus::Malformed;
  }
  if ((p[0] >> 4) != 6) {
    return PacketStatus::Malformed;
  }
  const std::size_t plen = be16(p.data() + 4);
  if (40 + plen > p.size()) {
    return short_capture ? PacketStatus::Truncated : PacketStatus::Malformed;
  }
  std::memcpy(out.src.bytes.data(), p.data() + 8, 16);
  std::memcpy(out.dst.bytes.data(), p.data() + 24, 16);
  std::uint8_t next = p[6];
  std::size_t off = 40;
  const std::size_t end = 40 + plen;
  // Hop-by-hop, routing and destination options may precede the transport header.
  for (int i = 0; i < 8; ++i) {
    if (next == 44) {
      return PacketStatus::Fragment;
    }
    if (next != 0 && next != 43 && next != 60) {
      break;
    }
    if (off + 8 > end) {
      return PacketStatus::Malformed;
    }
    const std::size_t len = (std::size_t{p[off + 1]} + 1) * 8;
    next = p[off];
    off += len;
    if (off > end) {
      return PacketStatus::Malformed;
    }
  }
  return transport(next, p.subspan(off, end - off), short_capture, out, port);
}

PacketStatus by_ethertype(std::uint16_t type, std::span<const std::uint8_t> p, bool short_capture,
                          PacketInfo& out, std::uint16_t port) {
  if (type == 0x0800) {
    return ipv4(p, short_capture, out, port);
  }
  if (type == 0x86DD) {
    return ipv6(p, short_capture, out, port);
  }
  return PacketStatus::NotIp;
}

PacketStatus by_version(std::span<const std::uint8_t> p, bool short_capture, PacketInfo& out,
                        std::uint16_t port) {
  if (p.empty()) {
    return PacketStatus::Truncated;
  }
  const int v = p[0] >> 4;
  return v == 4   ? ipv4(p, short_capture, out, port)
         : v == 6 ? ipv6(p, short_capture, out, port)
                  : PacketStatus::NotIp;
}

}  // namespace

PacketStatus decode_packet(std::uint32_t link, std::span<const std::uint8_t> f,
                           std::uint32_t wire_length, PacketInfo& out, std::uint16_t port) {
  out = PacketInfo{};
  const bool short_capture = wire_length > f.size();
  switch (link) {
    case kLinkEthernet: {
      if (f.size() < 14) {
        return PacketStatus::Truncated;
      }
      std::size_t off = 12;
      std::uint16_t type = be16(f.data() + off);
      for (int tags = 0; (type == 0x8100 || type == 0x88A8) && tags < 4; ++tags) {
        off += 4;
        if (off + 2 > f.size()) {
          return PacketStatus::Truncated;
        }
        type = be16(f.data() + off);
      }
      return by_ethertype(type, f.subspan(off + 2), short_capture, out, port);
    }
    case kLinkRaw:
    case kLinkRawAlt:
    case kLinkIpv4:
    case kLinkIpv6:
      return by_version(f, short_capture, out, port);
    case kLinkNull:
    case kLinkLoop:
      if (f.size() < 4) {
        return PacketStatus::Truncated;
      }
      return by_version(f.subspan(4), short_capture, out, port);
    case kLinkLinuxSll:
      if (f.size() < 16) {
        return PacketStatus::Truncated;
      }
      return by_ethertype(be16(f.data() + 14), f.subspan(16), short_capture, out, port);
    case kLinkLinuxSll2:
      if (f.size() < 20) {
        return PacketStatus::Truncated;
      }
      return by_ethertype(be16(f.data()), f.subspan(20), short_capture, out, port);
    default:
      return PacketStatus::UnsupportedLink;
  }
}

std::size_t TcpReassembler::KeyHash::operator()(const Key& k) const {
  std::uint64_t a = 0, b = 0;
  std::memcpy(&a, k.a.bytes.data() + 8, 8);
  std::memcpy(&b, k.b.bytes.data() + 8, 8);
  return static_cast<std::size_t>(a * 0x9E3779B97F4A7C15ull ^ b * 0xC2B2AE3D27D4EB4Full ^
                                  (std::uint64_t{k.pa} << 16 | k.pb));
}

void TcpReassembler::feed(const PacketInfo& p, const Sink& sink) {
  const Key key{p.src, p.dst, p.sport, p.dport};
  if ((p.tcp_flags & 0x04) != 0) {  // RST: the flow is gone
    flows_.erase(key);
    return;
  }
  auto it = flows_.find(key);
  if (it == flows_.end()) {
    if (p.payload.empty() && (p.tcp_flags & 0x02) == 0) {
      return;
    }
    if (flows_.size() >= kMaxFlows) {
      stats_.flows_evicted += flows_.size();
      flows_.clear();
    }
    it = flows_.emplace(key, Flow{}).first;
  }
  Flow& f = it->second;
  if ((p.tcp_flags & 0x02) != 0) {  // SYN(-ACK): data starts at seq + 1
    f.next_seq = p.tcp_seq + 1;
    f.synced = true;
    f.buf.clear();
  } else if (!f.synced) {
    // Capture started mid-connection: assume this segment begins a message.
    f.next_seq = p.tcp_seq;
    f.synced = true;
  }
  if (!p.payload.empty()) {
    if (p.tcp_seq != f.next_seq) {
      const std::uint32_t behind = f.next_seq - p.tcp_seq;
      if (behind < 0x80000000u && behind >= p.payload.size()) {
        return;  // a full retransmission of data already seen
      }
      ++stats_.gaps;
      f.buf.clear();
      f.next_seq = p.tcp_seq + static_cast<std::uint32_t>(p.payload.size());
      f.synced = false;  // resynchronise on the next segment
      return;
    }
    f.next_seq += static_cast<std::uint32_t>(p.payload.size());
    if (f.buf.size() + p.payload.size() > 65537 + 65537) {
      ++stats_.gaps;
      f.buf.clear();
      return;
    }
    f.buf.insert(f.buf.end(), p.payload.begin(), p.payload.end());
    std::size_t off = 0;
    while (f.buf.size() - off >= 2) {
      const std::size_t len = be16(f.buf.data() + off);
      if (f.buf.size() - off < 2 + len) {
        break;
      }
      ++stats_.messages;
      sink(std::span<const std::uint8_t>(f.buf.data() + off + 2, len));
      off += 2 + len;
    }
    f.buf.erase(f.buf.begin(), f.buf.begin() + static_cast<long>(off));
  }
  if ((p.tcp_flags & 0x01) != 0) {
    flows_.erase(key);
  }
}

}  // namespace gf::dns
