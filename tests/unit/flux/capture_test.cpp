// The flux adapters on small in-memory inputs: pcap (UDP/IPv4, UDP/IPv6, TCP split over two
// segments, a fragment, a snap-length cut), Zeek TSV and JSON lines, format detection, the .mmdb
// ASN reader on the tiny test database, and atomic file replacement.
#include "io/capture/capture.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>

#include "core/dns/builder.hpp"
#include "core/flux/ingest.hpp"
#include "io/flux/mmdb_asn.hpp"
#include "io/sys/file.hpp"

using namespace gf;

namespace {

IpAddress ip(const char* s) { return *parse_ip(s); }

void put16(std::vector<std::uint8_t>& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void put32le(std::vector<std::uint8_t>& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
}

std::vector<std::uint8_t> response(const char* name, std::vector<const char*> addrs) {
  dns::Builder b(1, name, dns::kTypeA);
  for (const char* a : addrs) {
    b.add_address(dns::Section::Answer, name, ip(a), 60);
  }
  return b.finish();
}

// Ethernet + IPv4/IPv6 + UDP/TCP from port 53.
std::vector<std::uint8_t> frame(bool v6, bool tcp, const std::vector<std::uint8_t>& payload,
                                std::uint32_t seq = 0, std::uint8_t flags = 0x18,
                                std::uint16_t frag = 0) {
  std::vector<std::uint8_t> f(12, 0x02);
  put16(f, v6 ? 0x86DD : 0x0800);
  const std::size_t l4 = (tcp ? 20 : 8) + payload.size();
  if (v6) {
    f.insert(f.end(), {0x60, 0, 0, 0});
    put16(f, static_cast<std::uint16_t>(l4));
    f.push_back(tcp ? 6 : 17);
    f.push_back(64);
    f.insert(f.end(), 32, 0x20);
  } else {
    f.insert(f.end(), {0x45, 0});
    put16(f, static_cast<std::uint16_t>(20 + l4));
    f.insert(f.end(), {0, 1});
    put16(f, frag);
    f.insert(f.end(),
             {64, static_cast<std::uint8_t>(tcp ? 6 : 17), 0, 0, 192, 0, 2, 53, 192, 0, 2, 1});
  }
  put16(f, 53);
  put16(f, 40000);
  if (tcp) {
    put16(f, static_cast<std::uint16_t>(seq >> 16));
    put16(f, static_cast<std::uint16_t>(seq));
    f.insert(f.end(), {0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0});
  } else {
    put16(f, static_cast<std::uint16_t>(l4));
    put16(f, 0);
  }
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

struct PcapFile {
  std::vector<std::uint8_t> bytes;
  PcapFile() {
    put32le(bytes, 0xa1b2c3d4);
    bytes.insert(bytes.end(), {2, 0, 4, 0});
    put32le(bytes, 0);
    put32le(bytes, 0);
    put32le(bytes, 65535);
    put32le(bytes, 1);
  }
  void add(const std::vector<std::uint8_t>& f, std::uint32_t caplen = 0) {
    const std::uint32_t cap = caplen ? caplen : static_cast<std::uint32_t>(f.size());
    put32le(bytes, 1'800'000'000);
    put32le(bytes, 0);
    put32le(bytes, cap);
    put32le(bytes, static_cast<std::uint32_t>(f.size()));
    bytes.insert(bytes.end(), f.begin(), f.begin() + cap);
  }
};

}  // namespace

TEST(FluxCapture, PcapUdpTcpIpv6FragmentsAndCuts) {
  PcapFile p;
  p.add(frame(false, false, response("a.example", {"192.0.2.1", "192.0.2.2"})));
  p.add(frame(true, false, response("b.example", {"198.51.100.1"})));
  auto msg = response("c.example", {"203.0.113.9"});
  std::vector<std::uint8_t> stream;
  put16(stream, static_cast<std::uint16_t>(msg.size()));
  stream.insert(stream.end(), msg.begin(), msg.end());
  const std::vector<std::uint8_t> part1(stream.begin(), stream.begin() + 10);
  const std::vector<std::uint8_t> part2(stream.begin() + 10, stream.end());
  p.add(frame(false, true, {}, 99, 0x12));  // SYN-ACK
  p.add(frame(false, true, part1, 100));
  p.add(frame(false, true, part2, 110));
  p.add(frame(false, false, response("frag.example", {"192.0.2.3"}), 0, 0, 0x2000));
  const auto cut = frame(false, false, response("cut.example", {"192.0.2.4"}));
  p.add(cut, 50);
  flux::Tracker t({}, nullptr, nullptr);
  flux::Ingest in(t);
  ASSERT_TRUE(io::read_pcap_memory(p.bytes, in, 0));
  EXPECT_EQ(in.stats().frames, 7u);
  EXPECT_EQ(in.stats().responses, 3u);
  EXPECT_EQ(in.stats().packet_status[static_cast<int>(dns::PacketStatus::Fragment)], 1u);
  EXPECT_EQ(in.stats().packet_status[static_cast<int>(dns::PacketStatus::Truncated)], 1u);
  EXPECT_NE(t.find("a.example"), nullptr);
  EXPECT_NE(t.find("b.example"), nullptr);
  EXPECT_NE(t.find("c.example"), nullptr);
  EXPECT_EQ(t.find("frag.example"), nullptr);
  EXPECT_EQ(io::detect_format(p.bytes), io::CaptureFormat::Pcap);
}

TEST(FluxCapture, CorruptPcapIsAnErrorNotACrash) {
  const std::vector<std::uint8_t> junk = {1, 2, 3, 4, 5, 6, 7, 8};
  flux::Tracker t({}, nullptr, nullptr);
  flux::Ingest in(t);
  EXPECT_FALSE(io::read_pcap_memory(junk, in, 0));
  EXPECT_FALSE(io::read_dnstap_memory(junk, in, 0));
}

TEST(FluxCapture, ZeekTsvAndJson) {
  flux::Tracker t({}, nullptr, nullptr);
  flux::Ingest in(t);
  io::ZeekReader z(in, 0);
  z.feed_line("#separator \\x09");
  z.feed_line("#set_separator\t,");
  z.feed_line("#fields\tts\tuid\tquery\tqtype\trcode\tTC\tanswers\tTTLs");
  z.feed_line(
      "1800000000.5\tC1\tWWW.Flux.Test\t1\t0\tF\tedge.flux.test,10.0.0.1,10.1.0.1\t60.0,30.0,30.0");
  z.feed_line("1800000001.0\tC2\tbroken.test\t1");  // wrong column count
  z.feed_line(
      R"({"ts":1800000002.0,"query":"j.test","qtype":1,"rcode":0,"answers":["10.2.0.1"],"TTLs":[5.0]})");
  z.feed_line(
      R"({"ts":"2027-01-15T08:00:00.000000Z","query":"iso.test","qtype_name":"A","answers":["10.3.0.1"],"TTLs":[5.0]})");
  z.feed_line(R"({"ts": broken)");
  EXPECT_EQ(in.stats().observations, 3u);
  EXPECT_EQ(in.stats().bad_records, 2u);
  const auto* s = t.find("www.flux.test");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->ips.size(), 2u);
  EXPECT_EQ(s->cname_targets.at(0), "edge.flux.test");
  EXPECT_EQ(s->min_ttl_s, 30u);
  ASSERT_NE(t.find("iso.test"), nullptr);
  EXPECT_EQ(t.find("iso.test")->first_seen_s, 1800000000u);  // 2027-01-15T08:00:00Z
}

// Boost.JSON reads "0e310" as 0 x infinity, a NaN (fuzz_zeek, kept as
// fuzz/corpus/fuzz_zeek/regress-json-nan-ttl): a TTL that is not finite counts as no TTL (0, as
// a TTL that is not a number), a time that is not finite makes the line a bad record, and nothing
// is converted out of range.
TEST(FluxCapture, ZeekJsonNumbersThatAreNotFinite) {
  flux::Tracker t({}, nullptr, nullptr);
  flux::Ingest in(t);
  io::ZeekReader z(in, 0);
  z.feed_line(R"({"ts":1800000000,"query":"nan-ttl.test","answers":["10.0.0.1"],"TTLs":[0e310]})");
  z.feed_line(R"({"ts":1800000000,"query":"inf-ttl.test","answers":["10.0.0.2"],"TTLs":[1e310]})");
  z.feed_line(R"({"ts":0e310,"query":"nan-time.test","answers":["10.0.0.3"],"TTLs":[60]})");
  z.feed_line(R"({"ts":1e310,"query":"inf-time.test","answers":["10.0.0.4"],"TTLs":[60]})");
  EXPECT_EQ(in.stats().observations, 2u);
  EXPECT_EQ(in.stats().bad_records, 2u);
  ASSERT_NE(t.find("nan-ttl.test"), nullptr);
  EXPECT_EQ(t.find("nan-ttl.test")->min_ttl_s, 0u);
  ASSERT_NE(t.find("inf-ttl.test"), nullptr);
  EXPECT_EQ(t.find("inf-ttl.test")->min_ttl_s, 0u);
  EXPECT_EQ(t.find("nan-time.test"), nullptr);
  EXPECT_EQ(t.find("inf-time.test"), nullptr);
}

TEST(FluxCapture, DetectsFormats) {
  const std::string tsv = "#separator \\x09\n";
  const std::string json = "{\"ts\":1}";
  const std::uint8_t fstrm[12] = {0, 0, 0, 0, 0, 0, 0, 30, 0, 0, 0, 2};
  EXPECT_EQ(io::detect_format({reinterpret_cast<const std::uint8_t*>(tsv.data()), tsv.size()}),
            io::CaptureFormat::ZeekTsv);
  EXPECT_EQ(io::detect_format({reinterpret_cast<const std::uint8_t*>(json.data()), json.size()}),
            io::CaptureFormat::ZeekJson);
  EXPECT_EQ(io::detect_format(fstrm), io::CaptureFormat::Dnstap);
}

TEST(FluxAsn, MmdbTestDatabase) {
  auto db = io::MmdbAsn::open(GF_FLUX_TEST_DATA "/asn-test.mmdb");
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ((*db)->lookup(ip("198.51.100.7")).asn, 64498u);
  EXPECT_EQ((*db)->lookup(ip("192.0.2.200")).asn, 64497u);
  EXPECT_EQ((*db)->lookup(ip("10.0.3.4")).asn, 4200000000u);
  EXPECT_EQ((*db)->lookup(ip("8.8.8.8")).asn, 0u);
  EXPECT_EQ((*db)->lookup(ip("2001:db8::1")).asn, 0u);  // IPv4-only database
  EXPECT_NE((*db)->describe().find("GreyFlux-Test-ASN"), std::string::npos);
  auto tsv = io::open_asn_source(GF_FLUX_TEST_DATA "/asn-test.tsv");
  ASSERT_TRUE(tsv);
  EXPECT_EQ((*tsv)->lookup(ip("198.51.100.7")).asn, 64498u);
  EXPECT_FALSE(io::MmdbAsn::open(GF_FLUX_TEST_DATA "/asn-test.tsv"));
}

TEST(FluxFiles, AtomicWriteReplaces) {
  char dir[] = "/tmp/gf-flux-files-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/zone.rpz";
  ASSERT_TRUE(io::write_file_atomic(path, "one\n"));
  ASSERT_TRUE(io::write_file_atomic(path, "two\n"));
  EXPECT_EQ(*io::read_file(path), "two\n");
  ::unlink(path.c_str());
  ::rmdir(dir);
  EXPECT_FALSE(io::write_file_atomic("/nonexistent-dir/x", "y"));
}
