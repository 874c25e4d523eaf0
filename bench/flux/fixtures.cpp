// gf_flux_fixtures: writes labelled synthetic DNS traces for the flux detector.
//
//   gf_flux_fixtures OUT_DIR [--seed N] [--flux-names N] [--benign-names N] [--networks N]
//                            [--bench-responses N]
//
// OUT_DIR receives trace.pcap (Ethernet; UDP over IPv4 and IPv6, DNS over TCP, plus a few
// fragments, snap-length cuts and garbage payloads that readers must count and skip),
// trace.dnstap (Frame Streams of dnstap CLIENT_RESPONSE messages), trace.zeek.log (TSV),
// trace.zeek.json (JSON lines), labels.tsv (name, flux|benign, kind, network) and asn.tsv
// (the synthetic iptoasn table). With --bench-responses N only bench.pcap is written: the
// trace repeated (shifted in time) until it holds N responses. Every address comes from
// documentation, shared, private or benchmark ranges; nothing is sent anywhere.
#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "dnstap/dnstap.pb-c.h"
#include "fixture_model.hpp"

namespace {

using gf::fixtures::Event;

class Out {
 public:
  explicit Out(const std::string& path) : f_(std::fopen(path.c_str(), "wb")), path_(path) {
    if (f_ == nullptr) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      std::exit(1);
    }
  }
  ~Out() { std::fclose(f_); }
  void put(const void* p, std::size_t n) { std::fwrite(p, 1, n, f_); }
  void put(const std::string& s) { put(s.data(), s.size()); }
  void be32(std::uint32_t v) {
    const std::uint8_t b[4] = {static_cast<std::uint8_t>(v >> 24),
                               static_cast<std::uint8_t>(v >> 16),
                               static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
    put(b, 4);
  }
  void le32(std::uint32_t v) { put(&v, 4); }  // x86: host order is little-endian
  void le16(std::uint16_t v) { put(&v, 2); }

 private:
  std::FILE* f_;
  std::string path_;
};

void push16(std::vector<std::uint8_t>& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}

std::uint16_t checksum_v4(const std::uint8_t* h) {
  std::uint32_t s = 0;
  for (int i = 0; i < 20; i += 2) {
    s += static_cast<std::uint32_t>((h[i] << 8) | h[i + 1]);
  }
  while (s >> 16) {
    s = (s & 0xFFFF) + (s >> 16);
  }
  return static_cast<std::uint16_t>(~s);
}

// One Ethernet frame from the resolver (port 53) to a client.
std::vector<std::uint8_t> frame(bool ipv6, bool tcp, std::uint16_t cport, std::uint32_t seq,
                                std::uint8_t flags, const std::uint8_t* payload, std::size_t len,
                                std::uint16_t frag = 0) {
  std::vector<std::uint8_t> f = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1};
  push16(f, ipv6 ? 0x86DD : 0x0800);
  const std::size_t l4 = (tcp ? 20 : 8) + len;
  if (ipv6) {
    f.insert(f.end(), {0x60, 0, 0, 0});
    push16(f, static_cast<std::uint16_t>(l4));
    f.push_back(tcp ? 6 : 17);
    f.push_back(64);
    const std::uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53};
    std::uint8_t dst[16];
    std::memcpy(dst, src, 16);
    dst[15] = 0x64;
    f.insert(f.end(), src, src + 16);
    f.insert(f.end(), dst, dst + 16);
  } else {
    const std::size_t at = f.size();
    f.insert(f.end(), {0x45, 0});
    push16(f, static_cast<std::uint16_t>(20 + l4));
    f.insert(f.end(), {0, 1});
    push16(f, frag);
    f.push_back(64);
    f.push_back(tcp ? 6 : 17);
    f.insert(f.end(), {0, 0, 192, 0, 2, 53, 192, 0, 2, 100});
    const std::uint16_t c = checksum_v4(f.data() + at);
    f[at + 10] = static_cast<std::uint8_t>(c >> 8);
    f[at + 11] = static_cast<std::uint8_t>(c);
  }
  push16(f, 53);
  push16(f, cport);
  if (tcp) {
    push16(f, static_cast<std::uint16_t>(seq >> 16));
    push16(f, static_cast<std::uint16_t>(seq));
    f.insert(f.end(),
             {0, 0, 0, 1, 0x50, static_cast<std::uint8_t>(flags | 0x10), 0xff, 0xff, 0, 0, 0, 0});
  } else {
    push16(f, static_cast<std::uint16_t>(8 + len));
    push16(f, 0);
  }
  f.insert(f.end(), payload, payload + len);
  return f;
}

class PcapWriter {
 public:
  explicit PcapWriter(const std::string& path) : out_(path) {
    out_.le32(0xa1b2c3d4);
    out_.le16(2);
    out_.le16(4);
    out_.le32(0);
    out_.le32(0);
    out_.le32(65535);
    out_.le32(1);  // Ethernet
  }
  void record(std::int64_t t_us, const std::vector<std::uint8_t>& f, std::uint32_t caplen = 0) {
    const std::uint32_t cap = caplen != 0 ? caplen : static_cast<std::uint32_t>(f.size());
    out_.le32(static_cast<std::uint32_t>(t_us / 1000000));
    out_.le32(static_cast<std::uint32_t>(t_us % 1000000));
    out_.le32(cap);
    out_.le32(static_cast<std::uint32_t>(f.size()));
    out_.put(f.data(), cap);
  }
  // Writes the response of `e` as its transport says; returns frames written.
  void event(const Event& e, std::int64_t shift_us, std::uint64_t serial) {
    const std::int64_t t = e.time_us + shift_us;
    const auto cport = static_cast<std::uint16_t>(1024 + serial % 60000);
    if (e.transport != 2) {
      record(t, frame(e.transport == 1, false, cport, 0, 0, e.wire.data(), e.wire.size()));
      return;
    }
    const std::uint32_t isn = static_cast<std::uint32_t>(serial * 2654435761u);
    std::vector<std::uint8_t> data;
    push16(data, static_cast<std::uint16_t>(e.wire.size()));
    data.insert(data.end(), e.wire.begin(), e.wire.end());
    record(t, frame(false, true, cport, isn, 0x02, nullptr, 0));  // SYN-ACK
    const std::size_t cut = serial % 2 == 0 ? data.size() : data.size() / 2;
    record(t, frame(false, true, cport, isn + 1, 0x08, data.data(), cut));
    if (cut < data.size()) {
      record(t, frame(false, true, cport, isn + 1 + static_cast<std::uint32_t>(cut), 0x08,
                      data.data() + cut, data.size() - cut));
    }
    record(t, frame(false, true, cport, isn + 1 + static_cast<std::uint32_t>(data.size()), 0x01,
                    nullptr, 0));
  }
  void noise(std::int64_t t_us, std::uint64_t serial, const Event& e) {
    // A fragment, a frame cut by the snap length, and a garbage DNS payload.
    record(t_us, frame(false, false, 5000, 0, 0, e.wire.data(), e.wire.size(), 0x2000));
    const auto f = frame(false, false, 5001, 0, 0, e.wire.data(), e.wire.size());
    record(t_us, f, static_cast<std::uint32_t>(std::min<std::size_t>(f.size(), 60)));
    std::vector<std::uint8_t> junk(40);
    for (std::size_t i = 0; i < junk.size(); ++i) {
      junk[i] = static_cast<std::uint8_t>((serial * 31 + i * 17) & 0xFF);
    }
    junk[2] = 0x80;  // QR set so that it reaches the parser as a response
    junk[12] = 0xC0;
    junk[13] = 0x0C;  // a pointer to itself
    record(t_us, frame(false, false, 5002, 0, 0, junk.data(), junk.size()));
  }

 private:
  Out out_;
};

class DnstapWriter {
 public:
  explicit DnstapWriter(const std::string& path) : out_(path) {
    static const char kType[] = "protobuf:dnstap.Dnstap";
    const std::uint32_t n = sizeof(kType) - 1;
    out_.be32(0);  // escape: a control frame follows
    out_.be32(4 + 4 + 4 + n);
    out_.be32(2);  // START
    out_.be32(1);  // content type field
    out_.be32(n);
    out_.put(kType, n);
  }
  ~DnstapWriter() {
    out_.be32(0);
    out_.be32(4);
    out_.be32(3);  // STOP
  }
  void event(const Event& e) {
    Dnstap__Message m = DNSTAP__MESSAGE__INIT;
    m.type = DNSTAP__MESSAGE__TYPE__CLIENT_RESPONSE;
    m.has_socket_family = 1;
    m.socket_family = DNSTAP__SOCKET_FAMILY__INET;
    m.has_socket_protocol = 1;
    m.socket_protocol =
        e.transport == 2 ? DNSTAP__SOCKET_PROTOCOL__TCP : DNSTAP__SOCKET_PROTOCOL__UDP;
    std::uint8_t qa[4] = {192, 0, 2, 100}, ra[4] = {192, 0, 2, 53};
    m.has_query_address = m.has_response_address = 1;
    m.query_address = {4, qa};
    m.response_address = {4, ra};
    m.has_response_port = 1;
    m.response_port = 53;
    m.has_query_time_sec = m.has_response_time_sec = 1;
    m.query_time_sec = m.response_time_sec = static_cast<std::uint64_t>(e.time_us / 1000000);
    m.has_response_time_nsec = 1;
    m.response_time_nsec = static_cast<std::uint32_t>(e.time_us % 1000000) * 1000;
    m.has_response_message = 1;
    m.response_message = {e.wire.size(), const_cast<std::uint8_t*>(e.wire.data())};
    Dnstap__Dnstap d = DNSTAP__DNSTAP__INIT;
    d.type = DNSTAP__DNSTAP__TYPE__MESSAGE;
    static const char kId[] = "greyflux-fixture";
    d.has_identity = 1;
    d.identity = {sizeof(kId) - 1, reinterpret_cast<std::uint8_t*>(const_cast<char*>(kId))};
    d.message = &m;
    buf_.resize(dnstap__dnstap__get_packed_size(&d));
    dnstap__dnstap__pack(&d, buf_.data());
    out_.be32(static_cast<std::uint32_t>(buf_.size()));
    out_.put(buf_.data(), buf_.size());
  }

 private:
  Out out_;
  std::vector<std::uint8_t> buf_;
};

std::string zeek_list(const std::vector<std::string>& v) {
  if (v.empty()) {
    return "-";
  }
  std::string out;
  for (const auto& s : v) {
    out += (out.empty() ? "" : ",") + s;
  }
  return out;
}

const char* qtype_name(std::uint16_t t) {
  return t == 1 ? "A" : t == 28 ? "AAAA" : t == 2 ? "NS" : "A";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: gf_flux_fixtures OUT_DIR [--seed N] [--flux-names N] "
                 "[--benign-names N] [--networks N] [--bench-responses N]\n");
    return 2;
  }
  const std::string dir = argv[1];
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);  // the writers below name the failure
  gf::fixtures::Options o;
  std::uint64_t bench = 0;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::uint64_t v = std::strtoull(argv[i + 1], nullptr, 10);
    if (k == "--seed")
      o.seed = v;
    else if (k == "--flux-names")
      o.flux_names = static_cast<int>(v);
    else if (k == "--benign-names")
      o.benign_names = static_cast<int>(v);
    else if (k == "--networks")
      o.flux_networks = static_cast<int>(std::max<std::uint64_t>(1, v));
    else if (k == "--bench-responses")
      bench = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  const gf::fixtures::World w = gf::fixtures::build_world(o);
  if (bench > 0) {
    PcapWriter pcap(dir + "/bench.pcap");
    std::uint64_t written = 0;
    for (std::int64_t cycle = 0; written < bench; ++cycle) {
      for (const Event& e : w.events) {
        Event udp = e;
        udp.transport = e.transport == 2 ? 0 : e.transport;  // one frame per response
        pcap.event(udp, cycle * o.duration_s * 1000000, written);
        if (++written == bench) {
          break;
        }
      }
    }
    std::printf("bench.pcap: %llu responses\n", static_cast<unsigned long long>(written));
    return 0;
  }
  {
    PcapWriter pcap(dir + "/trace.pcap");
    DnstapWriter tap(dir + "/trace.dnstap");
    Out tsv(dir + "/trace.zeek.log");
    Out json(dir + "/trace.zeek.json");
    tsv.put(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_"
        "id\trtt\tquery\t"
        "qclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_"
        "name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\t"
        "rejected\n"
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring"
        "\t"
        "count\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector["
        "interval]\t"
        "bool\n");
    std::uint64_t serial = 0;
    for (const Event& e : w.events) {
      pcap.event(e, 0, serial);
      if (serial % 997 == 0) {
        pcap.noise(e.time_us, serial, e);
      }
      tap.event(e);
      std::vector<std::string> ttls;
      std::string jttl, jans;
      for (std::size_t i = 0; i < e.answers.size(); ++i) {
        ttls.push_back(fmt::format("{}.000000", e.ttls[i]));
        jttl += fmt::format("{}{}.0", i ? "," : "", e.ttls[i]);
        jans += fmt::format("{}\"{}\"", i ? "," : "", e.answers[i]);
      }
      const double ts = static_cast<double>(e.time_us) / 1e6;
      const std::string proto = e.transport == 2 ? "tcp" : "udp";
      tsv.put(fmt::format(
          "{:.6f}\tC{:x}\t192.0.2.100\t{}\t192.0.2.53\t53\t{}\t{}\t0.001\t{}\t1\tC_INTERNET\t"
          "{}\t{}\t0\tNOERROR\tF\tF\tT\tT\t0\t{}\t{}\tF\n",
          ts, serial, 1024 + serial % 60000, proto, serial & 0xFFFF, e.qname, e.qtype,
          qtype_name(e.qtype), zeek_list(e.answers), zeek_list(ttls)));
      json.put(
          fmt::format(R"({{"ts":{:.6f},"uid":"C{:x}","id.orig_h":"192.0.2.100","id.orig_p":{},)"
                      R"("id.resp_h":"192.0.2.53","id.resp_p":53,"proto":"{}","trans_id":{},)"
                      R"("query":"{}","qclass":1,"qclass_name":"C_INTERNET","qtype":{},)"
                      R"("qtype_name":"{}","rcode":0,"rcode_name":"NOERROR","AA":false,"TC":false,)"
                      R"("RD":true,"RA":true,"Z":0,"answers":[{}],"TTLs":[{}],"rejected":false}})"
                      "\n",
                      ts, serial, 1024 + serial % 60000, proto, serial & 0xFFFF, e.qname, e.qtype,
                      qtype_name(e.qtype), jans, jttl));
      ++serial;
    }
  }
  Out labels(dir + "/labels.tsv");
  labels.put("# name\tlabel\tkind\tnetwork\n");
  for (const auto& l : w.labels) {
    labels.put(
        fmt::format("{}\t{}\t{}\t{}\n", l.name, l.flux ? "flux" : "benign", l.kind, l.network));
  }
  Out asn(dir + "/asn.tsv");
  asn.put(w.asn_tsv);
  std::size_t nflux = 0;
  for (const auto& l : w.labels) {
    nflux += l.flux;
  }
  std::printf("%zu responses, %zu names (%zu flux, %zu benign) -> %s\n", w.events.size(),
              w.labels.size(), nflux, w.labels.size() - nflux, dir.c_str());
  return 0;
}
