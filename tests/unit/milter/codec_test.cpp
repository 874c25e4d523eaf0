// The milter codec against hand-built packets: every command decodes to its typed form and
// encodes back to the same bytes, partial packets ask for more, and every malformed packet gives
// an error that names the problem.
#include "core/milter/codec.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "milter_packets.hpp"

namespace gf::milter {
namespace {

using namespace std::string_literals;

// A packet built by hand, independent of the encoders.
std::string raw(char code, const std::string& payload) {
  return test::milter_packet(code, payload);
}

DecodeOutcome decode(const std::string& bytes, Limits limits = {}) {
  return decode_command(bytes, limits);
}

struct Case {
  std::string bytes;
  Command command;
};

std::vector<Case> every_command() {
  return {
      {raw('O', "\0\0\0\x06\0\0\x01\xff\0\x1f\xff\xff"s), OptionNegotiation{6, 0x1ff, 0x1fffff}},
      {raw('D', "C{daemon_name}\0smtpd\0j\0mx.example\0"s),
       Macros{'C', {{"{daemon_name}", "smtpd"}, {"j", "mx.example"}}}},
      {raw('D', "M"s), Macros{'M', {}}},
      {raw('C',
           "mail.example.org\0004\x00\x19"
           "192.0.2.1\0"s),
       Connect{"mail.example.org", Family::Inet, 25, "192.0.2.1"}},
      {raw('C',
           "[2001:db8::1]\0006\xc3\x50"
           "2001:db8::1\0"s),
       Connect{"[2001:db8::1]", Family::Inet6, 50000, "2001:db8::1"}},
      {raw('C', "localhost\0L\0\0/run/sock\0"s),
       Connect{"localhost", Family::Unix, 0, "/run/sock"}},
      {raw('C', "unknown\0U"s), Connect{"unknown", Family::Unknown, 0, ""}},
      {raw('H', "client.example\0"s), Helo{"client.example"}},
      {raw('M', "<a@example.org>\0SIZE=100\0BODY=8BITMIME\0"s),
       Mail{{"<a@example.org>", "SIZE=100", "BODY=8BITMIME"}}},
      {raw('M', "<>\0"s), Mail{{"<>"}}},
      {raw('R', "<b@example.net>\0"s), Rcpt{{"<b@example.net>"}}},
      {raw('L', "Subject\0hello world\0"s), Header{"Subject", "hello world"}},
      {raw('L', "X-Empty\0\0"s), Header{"X-Empty", ""}},
      {raw('N', ""), EndOfHeaders{}},
      {raw('B', "line one\r\nline\0two\r\n"s), Body{"line one\r\nline\0two\r\n"s}},
      {raw('E', ""), EndOfMessage{""}},
      {raw('E', "tail\r\n"), EndOfMessage{"tail\r\n"}},
      {raw('A', ""), Abort{}},
      {raw('Q', ""), Quit{}},
      {raw('K', ""), QuitNewConnection{}},
      {raw('T', ""), Data{}},
      {raw('U', "XFOO bar\0"s), Unknown{"XFOO bar"}},
  };
}

TEST(MilterCodec, DecodesEveryCommand) {
  for (const Case& c : every_command()) {
    SCOPED_TRACE(c.bytes.substr(4, 1));
    DecodeOutcome out = decode(c.bytes);
    ASSERT_EQ(out.status, DecodeStatus::Complete) << out.error;
    EXPECT_EQ(out.consumed, c.bytes.size());
    EXPECT_EQ(out.command, c.command);
  }
}

TEST(MilterCodec, EncodesEveryCommandToTheSameBytes) {
  for (const Case& c : every_command()) {
    EXPECT_EQ(encode_command(c.command), c.bytes);
  }
}

TEST(MilterCodec, EveryPrefixNeedsMoreAndConsumesNothing) {
  for (const Case& c : every_command()) {
    for (std::size_t n = 0; n < c.bytes.size(); ++n) {
      DecodeOutcome out = decode(c.bytes.substr(0, n));
      ASSERT_EQ(out.status, DecodeStatus::NeedMore) << "prefix " << n;
      EXPECT_EQ(out.consumed, 0u);
    }
  }
}

TEST(MilterCodec, DecodesAStreamOfPacketsOneAtATime) {
  std::string stream;
  std::vector<Command> expected;
  for (const Case& c : every_command()) {
    stream += c.bytes;
    expected.push_back(c.command);
  }
  std::string_view rest = stream;
  std::vector<Command> got;
  while (!rest.empty()) {
    DecodeOutcome out = decode_command(rest, Limits{});
    ASSERT_EQ(out.status, DecodeStatus::Complete) << out.error;
    got.push_back(out.command);
    rest.remove_prefix(out.consumed);
  }
  EXPECT_EQ(got, expected);
}

TEST(MilterCodec, AcceptsAPacketExactlyAtTheLimit) {
  Limits limits;
  limits.max_packet_bytes = 11;  // command byte + 10 payload bytes
  EXPECT_EQ(decode(raw('B', "0123456789"), limits).status, DecodeStatus::Complete);
}

struct BadCase {
  std::string name;
  std::string bytes;
  std::string error_part;
};

TEST(MilterCodec, RejectsMalformedPacketsWithAClearMessage) {
  const std::vector<BadCase> cases = {
      {"zero length", "\0\0\0\0"s, "length 0"},
      {"oversized, seen from the length alone", "\x00\x10\x00\x01"s, "exceeds the limit"},
      {"unknown command", raw('z', ""), "unknown milter command 0x7a"},
      {"control byte command", raw('\x01', "x"), "unknown milter command 0x01"},
      {"short negotiation", raw('O', "\0\0\0\x06\0\0\0\0"s), "8 bytes, expected 12"},
      {"long negotiation", raw('O', std::string(13, '\0')), "13 bytes, expected 12"},
      {"macro without code", raw('D', ""), "without a command code"},
      {"macro without value", raw('D', "Cj\0"s), "terminating NUL"},
      {"macro value unterminated", raw('D', "Cj\0mx"s), "terminating NUL"},
      {"connect hostname unterminated", raw('C', "host"), "hostname"},
      {"connect without family", raw('C', "host\0"s), "address family"},
      {"connect bad family", raw('C', "host\0X\0\0a\0"s), "unknown address family 0x58"},
      {"connect without port", raw('C', "host\0004\0"s), "without a port"},
      {"connect address unterminated",
       raw('C',
           "host\0004\0\x19"
           "1.2.3.4"s),
       "address"},
      {"connect trailing bytes",
       raw('C',
           "host\0004\0\x19"
           "1.2.3.4\0x"s),
       "trailing"},
      {"connect U with trailing bytes", raw('C', "host\0U\0\0"s), "family U"},
      {"helo unterminated", raw('H', "client"), "HELO"},
      {"helo with two strings", raw('H', "a\0b\0"s), "HELO"},
      {"mail empty", raw('M', ""), "MAIL"},
      {"mail last arg unterminated", raw('M', "<a@b>\0SIZE=1"s), "MAIL"},
      {"rcpt empty", raw('R', ""), "RCPT"},
      {"rcpt unterminated", raw('R', "<b@c>"), "RCPT"},
      {"header name only", raw('L', "Subject\0"s), "header"},
      {"header value unterminated", raw('L', "Subject\0hi"s), "header"},
      {"header three strings", raw('L', "a\0b\0c\0"s), "header"},
      {"eoh with payload", raw('N', "x"), "unexpected payload"},
      {"abort with payload", raw('A', "x"), "unexpected payload"},
      {"quit with payload", raw('Q', "x"), "unexpected payload"},
      {"quit_nc with payload", raw('K', "x"), "unexpected payload"},
      {"data with payload", raw('T', "x"), "unexpected payload"},
      {"unknown unterminated", raw('U', "XFOO"), "unknown-command"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    DecodeOutcome out = decode(c.bytes);
    ASSERT_EQ(out.status, DecodeStatus::Error);
    EXPECT_NE(out.error.find(c.error_part), std::string::npos) << out.error;
    EXPECT_EQ(out.error.find('\n'), std::string::npos);
  }
}

TEST(MilterCodec, OversizedPacketFailsBeforeItsPayloadArrives) {
  Limits limits;
  limits.max_packet_bytes = 100;
  DecodeOutcome out = decode("\0\0\0\x65"s, limits);  // 101 announced, nothing else sent
  ASSERT_EQ(out.status, DecodeStatus::Error);
  EXPECT_EQ(out.error, "milter packet of 101 bytes exceeds the limit of 100 bytes");
}

TEST(MilterReplies, SimpleRepliesAreABareCode) {
  for (char code : {reply::kContinue, reply::kAccept, reply::kReject, reply::kTempfail,
                    reply::kDiscard, reply::kProgress, reply::kSkip}) {
    EXPECT_EQ(encode_simple(code), raw(code, ""));
  }
}

TEST(MilterReplies, NegotiationAnswer) {
  EXPECT_EQ(encode_negotiation({6, action::kAddHeaders | action::kQuarantine,
                                step::kNoReplyConnect | step::kNoUnknown}),
            raw('O', "\0\0\0\x06\0\0\0\x21\0\0\x11\0"s));
}

TEST(MilterReplies, ReplyCode) {
  auto r = encode_reply_code("451 4.7.1 Greylisted, try again in 300 seconds");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, raw('y', "451 4.7.1 Greylisted, try again in 300 seconds\0"s));
  EXPECT_TRUE(encode_reply_code("550 5.7.1 spam"));
  for (std::string bad :
       {"250 ok"s, "45"s, "451"s, "451-more"s, "4x1 no"s, "451 a\r\nb"s, "451 a\0b"s, ""s}) {
    SCOPED_TRACE(bad);
    auto e = encode_reply_code(bad);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, Errc::InvalidInput);
  }
}

TEST(MilterReplies, HeaderEdits) {
  auto add = encode_add_header("X-Spam-Score", "7.5");
  ASSERT_TRUE(add);
  EXPECT_EQ(*add, raw('h',
                      "X-Spam-Score\0"
                      "7.5\0"s));
  auto ins = encode_insert_header(0, "X-Spam-Status", "Yes, score=7.5");
  ASSERT_TRUE(ins);
  EXPECT_EQ(*ins, raw('i', "\0\0\0\0X-Spam-Status\0Yes, score=7.5\0"s));
  auto chg = encode_change_header(2, "X-Spam-Flag", "");
  ASSERT_TRUE(chg);
  EXPECT_EQ(*chg, raw('m', "\0\0\0\x02X-Spam-Flag\0\0"s));
  // A folded value is legal; the MTA writes it as it is.
  EXPECT_TRUE(encode_add_header("X-Spam-Symbols", "A,\r\n\tB"));
}

TEST(MilterReplies, HeaderEditsRefuseBadNamesAndValues) {
  for (std::string name : {""s, "Bad Name"s, "Bad:Name"s, "Bad\nName"s, "Caf\xc3\xa9"s}) {
    SCOPED_TRACE(name);
    EXPECT_FALSE(encode_add_header(name, "v"));
    EXPECT_FALSE(encode_insert_header(1, name, "v"));
    EXPECT_FALSE(encode_change_header(1, name, "v"));
  }
  EXPECT_FALSE(encode_add_header("X-A", "a\0b"s));
}

TEST(MilterReplies, Quarantine) {
  auto q = encode_quarantine("greyflux: score 9.1");
  ASSERT_TRUE(q);
  EXPECT_EQ(*q, raw('q', "greyflux: score 9.1\0"s));
  EXPECT_FALSE(encode_quarantine("a\0b"s));
}

}  // namespace
}  // namespace gf::milter
