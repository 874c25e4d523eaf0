#include <gtest/gtest.h>

#include <vector>

#include "core/dns/builder.hpp"
#include "core/dns/message.hpp"

using namespace gf;
using namespace gf::dns;

namespace {

IpAddress ip(const char* s) { return *parse_ip(s); }

std::vector<std::uint8_t> header(std::uint16_t qd, std::uint16_t an) {
  return {
      0x12, 0x34, 0x81, 0x80, 0, static_cast<std::uint8_t>(qd), 0, static_cast<std::uint8_t>(an),
      0,    0,    0,    0};
}

ParseError parse(const std::vector<std::uint8_t>& b) {
  Message m;
  return parse_message_into(b, m);
}

}  // namespace

TEST(DnsMessage, BuilderRoundTrip) {
  Builder b(7, "WWW.Flux.Example", kTypeA);
  b.add_name(Section::Answer, "www.flux.example", kTypeCname, "edge.cdn.example", 60);
  b.add_address(Section::Answer, "edge.cdn.example", ip("192.0.2.1"), 20);
  b.add_address(Section::Answer, "edge.cdn.example", ip("2001:db8::1"), 20);
  b.add_name(Section::Authority, "flux.example", kTypeNs, "ns1.flux.example", 300);
  b.add_address(Section::Additional, "ns1.flux.example", ip("198.51.100.7"), 300);
  auto m = parse_message(b.finish());
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_TRUE(m->qr);
  EXPECT_EQ(m->id, 7);
  EXPECT_EQ(m->qname, "www.flux.example");
  EXPECT_EQ(m->qtype, kTypeA);
  ASSERT_EQ(m->records().size(), 5u);
  EXPECT_EQ(m->records()[0].target, "edge.cdn.example");
  EXPECT_EQ(m->records()[1].address, ip("192.0.2.1"));
  EXPECT_EQ(m->records()[2].type, kTypeAaaa);
  EXPECT_EQ(m->records()[3].section, Section::Authority);
  EXPECT_EQ(m->records()[4].owner, "ns1.flux.example");
}

TEST(DnsMessage, TooShortIsTruncated) { EXPECT_EQ(parse({1, 2, 3}), ParseError::Truncated); }

TEST(DnsMessage, TruncatedRecordIsReported) {
  Builder b(1, "a.example", kTypeA);
  b.add_address(Section::Answer, "a.example", ip("192.0.2.1"), 60);
  auto bytes = b.finish();
  for (std::size_t cut = 12; cut < bytes.size(); ++cut) {
    std::vector<std::uint8_t> part(bytes.begin(), bytes.begin() + static_cast<long>(cut));
    EXPECT_NE(parse(part), ParseError::None) << cut;
  }
}

TEST(DnsMessage, SelfPointerIsALoop) {
  auto b = header(1, 0);
  b.push_back(0xC0);
  b.push_back(12);  // points at itself
  b.insert(b.end(), {0, 1, 0, 1});
  EXPECT_EQ(parse(b), ParseError::CompressionLoop);
}

TEST(DnsMessage, TwoPointerLoop) {
  auto b = header(1, 0);
  // offset 12: label "a" then pointer to 17; offset 17: pointer back to 12.
  b.insert(b.end(), {1, 'a', 0xC0, 17, 0, 0xC0, 12});
  b.insert(b.end(), {0, 1, 0, 1});
  EXPECT_NE(parse(b), ParseError::None);
}

TEST(DnsMessage, PointerPastEnd) {
  auto b = header(1, 0);
  b.insert(b.end(), {0xC0, 0xFF, 0, 1, 0, 1});
  EXPECT_EQ(parse(b), ParseError::BadPointer);
}

TEST(DnsMessage, LabelTypeOver63) {
  auto b = header(1, 0);
  b.insert(b.end(), {0x41, 'a', 0, 0, 1, 0, 1});
  EXPECT_EQ(parse(b), ParseError::LabelTooLong);
}

TEST(DnsMessage, NameOver255) {
  auto b = header(1, 0);
  for (int i = 0; i < 5; ++i) {
    b.push_back(63);
    b.insert(b.end(), 63, 'x');
  }
  b.push_back(0);
  b.insert(b.end(), {0, 1, 0, 1});
  EXPECT_EQ(parse(b), ParseError::NameTooLong);
}

TEST(DnsMessage, ARecordWithWrongLength) {
  auto b = header(1, 1);
  b.insert(b.end(), {1, 'a', 0, 0, 1, 0, 1});
  b.insert(b.end(), {0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 3, 1, 2, 3});
  EXPECT_EQ(parse(b), ParseError::BadRdata);
}

TEST(DnsMessage, OddOctetsAreEscaped) {
  auto b = header(1, 0);
  b.insert(b.end(), {3, 'A', '.', 0x01, 0, 0, 1, 0, 1});
  Message m;
  ASSERT_EQ(parse_message_into(b, m), ParseError::None);
  EXPECT_EQ(m.qname, "a\\046\\001");
  auto wire = name_from_text(m.qname);
  ASSERT_TRUE(wire);
  EXPECT_EQ(*name_to_text(*wire), m.qname);
}

TEST(DnsMessage, HugeTtlReadsAsZero) {
  Builder b(1, "a.example", kTypeA);
  b.add_address(Section::Answer, "a.example", ip("192.0.2.1"), 0x80000001u);
  auto m = parse_message(b.finish());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->records()[0].ttl_s, 0u);
}

TEST(DnsName, TextToWireLimits) {
  EXPECT_TRUE(name_from_text("example.com."));
  EXPECT_FALSE(name_from_text("a..b"));
  EXPECT_FALSE(name_from_text(std::string(64, 'a')));
  EXPECT_TRUE(name_from_text(std::string(63, 'a')));
  std::string longname;
  for (int i = 0; i < 4; ++i) {
    longname += std::string(63, 'a') + ".";
  }
  EXPECT_FALSE(name_from_text(longname));
  EXPECT_EQ(*canonical_name("WWW.Example.COM."), "www.example.com");
  EXPECT_EQ(*canonical_name("a\\.b"), "a\\046b");
  EXPECT_FALSE(name_from_text("a\\2"));
  EXPECT_FALSE(name_from_text("a\\999"));
}

TEST(DnsMessage, ReusedMessageKeepsNoStaleRecords) {
  Message m;
  Builder b1(1, "a.example", kTypeA);
  b1.add_address(Section::Answer, "a.example", ip("192.0.2.1"), 60);
  b1.add_address(Section::Answer, "a.example", ip("192.0.2.2"), 60);
  ASSERT_EQ(parse_message_into(b1.finish(), m), ParseError::None);
  Builder b2(2, "b.example", kTypeA);
  ASSERT_EQ(parse_message_into(b2.finish(), m), ParseError::None);
  EXPECT_EQ(m.records().size(), 0u);
  EXPECT_EQ(m.qname, "b.example");
}
