#include "core/spamd/protocol.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gf::spamd {
namespace {

ParseOutcome parse(std::string_view buf, bool eof = false, Limits limits = {}) {
  return parse_request(buf, eof, limits);
}

TEST(SpamdProtocol, CheckWithContentLength) {
  const std::string req = "CHECK SPAMC/1.5\r\nContent-length: 5\r\nUser: bob\r\n\r\nhello";
  ParseOutcome o = parse(req);
  ASSERT_EQ(o.status, ParseStatus::Ready) << o.error;
  EXPECT_EQ(o.request.method, Method::Check);
  EXPECT_EQ(o.request.version_milli, 1500);
  EXPECT_EQ(o.request.user, "bob");
  EXPECT_EQ(o.request.message, "hello");
  EXPECT_EQ(o.request.wire_bytes, req.size());
}

TEST(SpamdProtocol, EveryPrefixNeedsMore) {
  const std::string req = "SYMBOLS SPAMC/1.5\r\nContent-length: 5\r\n\r\nhello";
  for (std::size_t i = 0; i < req.size(); ++i) {
    EXPECT_EQ(parse(req.substr(0, i)).status, ParseStatus::NeedMore) << i;
  }
  EXPECT_EQ(parse(req).status, ParseStatus::Ready);
}

TEST(SpamdProtocol, NoContentLengthReadsToEof) {
  const std::string req = "PROCESS SPAMC/1.5\r\n\r\nSubject: x\r\n\r\nbody\r\n";
  EXPECT_EQ(parse(req).status, ParseStatus::NeedMore);
  ParseOutcome o = parse(req, true);
  ASSERT_EQ(o.status, ParseStatus::Ready);
  EXPECT_EQ(o.request.message, "Subject: x\r\n\r\nbody\r\n");
}

TEST(SpamdProtocol, ShortBodyAtEofIsMismatch) {
  ParseOutcome o = parse("CHECK SPAMC/1.5\r\nContent-length: 10\r\n\r\nabc", true);
  ASSERT_EQ(o.status, ParseStatus::Error);
  EXPECT_EQ(o.error,
            "SPAMD/1.0 76 Bad header line: (Content-Length mismatch: Expected 10 bytes, got 3 "
            "bytes)\r\n");
}

TEST(SpamdProtocol, BadContentLength) {
  ParseOutcome o = parse("CHECK SPAMC/1.5\r\nContent-length: 1x\r\n\r\n");
  ASSERT_EQ(o.status, ParseStatus::Error);
  EXPECT_EQ(o.error, "SPAMD/1.0 76 Bad header line: (Content-Length contains non-numeric bytes)\r\n");
}

TEST(SpamdProtocol, UnknownMethodEchoesTheLine) {
  ParseOutcome o = parse("FROB SPAMC/1.5\r\n");
  ASSERT_EQ(o.status, ParseStatus::Error);
  EXPECT_EQ(o.error, "SPAMD/1.0 76 Bad header line: FROB SPAMC/1.5\r\n");
  EXPECT_EQ(parse("GET / HTTP/1.0\r\n").status, ParseStatus::Error);
  EXPECT_EQ(parse("CHECK SPAMC/x\r\n").status, ParseStatus::Error);
}

TEST(SpamdProtocol, HeaderWithoutColon) {
  ParseOutcome o = parse("CHECK SPAMC/1.5\r\nnonsense\r\n\r\n");
  ASSERT_EQ(o.status, ParseStatus::Error);
  EXPECT_NE(o.error.find("(header not in 'Name: value' format)"), std::string::npos);
}

TEST(SpamdProtocol, EofDuringHeadersAndBeforeHeaders) {
  EXPECT_NE(parse("CHECK SPAMC/1.5\r\nUser: x\r\n", true).error.find("(EOF during headers)"),
            std::string::npos);
  EXPECT_NE(parse("", true).error.find("(closed before headers)"), std::string::npos);
}

TEST(SpamdProtocol, TooManyHeaders) {
  std::string req = "CHECK SPAMC/1.5\r\n";
  for (int i = 0; i < 300; ++i) {
    req += "X-Junk: 1\r\n";
  }
  ParseOutcome o = parse(req);
  ASSERT_EQ(o.status, ParseStatus::Error);
  EXPECT_NE(o.error.find("(too many headers)"), std::string::npos);
}

TEST(SpamdProtocol, LongLineWithoutBreakIsAnError) {
  Limits l;
  l.max_line_bytes = 100;
  EXPECT_EQ(parse(std::string(200, 'A'), false, l).status, ParseStatus::Error);
  EXPECT_EQ(parse("CHECK SPAMC/1.5\r\nUser: " + std::string(200, 'a'), false, l).status,
            ParseStatus::Error);
}

TEST(SpamdProtocol, UserControlChars) {
  ParseOutcome o = parse(std::string("CHECK SPAMC/1.5\r\nUser: a\x01b\r\n\r\n"));
  ASSERT_EQ(o.status, ParseStatus::Error);
  EXPECT_NE(o.error.find("control chars"), std::string::npos);
}

TEST(SpamdProtocol, OverLimitIsDataErr) {
  Limits l;
  l.max_message_bytes = 100;
  ParseOutcome o = parse("CHECK SPAMC/1.5\r\nContent-length: 104857600\r\n\r\n", false, l);
  ASSERT_EQ(o.status, ParseStatus::Error);
  EXPECT_EQ(o.error.rfind("SPAMD/1.0 65 ", 0), 0U) << o.error;
  // Without Content-length the limit applies to what has been buffered.
  o = parse("CHECK SPAMC/1.5\r\n\r\n" + std::string(101, 'x'), false, l);
  EXPECT_EQ(o.status, ParseStatus::Error);
}

TEST(SpamdProtocol, OldProtocolHasNoHeaders) {
  ParseOutcome o = parse("CHECK SPAMC/1.0\r\nSubject: hi\r\n\r\nbody", true);
  ASSERT_EQ(o.status, ParseStatus::Ready);
  EXPECT_EQ(o.request.message, "Subject: hi\r\n\r\nbody");
}

TEST(SpamdProtocol, PingAndSkip) {
  ParseOutcome o = parse("PING SPAMC/1.5\r\n");
  EXPECT_EQ(o.status, ParseStatus::NeedMore);  // 1.5 sends a (blank) header block
  o = parse("PING SPAMC/1.5\r\n\r\n");
  ASSERT_EQ(o.status, ParseStatus::Ready);
  EXPECT_EQ(o.request.method, Method::Ping);
  o = parse("PING SPAMC/1.2\r\n");
  ASSERT_EQ(o.status, ParseStatus::Ready);
  EXPECT_EQ(parse("SKIP SPAMC/1.5\r\n\r\n").request.method, Method::Skip);
  EXPECT_EQ(format_pong(), "SPAMD/1.5 0 PONG\r\n");
}

TEST(SpamdProtocol, Tell) {
  ParseOutcome o = parse(
      "TELL SPAMC/1.5\r\nMessage-class: spam\r\nSet: local\r\nContent-length: 2\r\n\r\nhi");
  ASSERT_EQ(o.status, ParseStatus::Ready) << o.error;
  EXPECT_TRUE(o.request.set_local);
  EXPECT_FALSE(o.request.remove_local);
  EXPECT_EQ(o.request.message_class, "spam");
  EXPECT_EQ(parse("TELL SPAMC/1.5\r\nMessage-class: eggs\r\n\r\n").status, ParseStatus::Error);
  EXPECT_EQ(parse("TELL SPAMC/1.5\r\nMessage-class: ham\r\nSet: local\r\nRemove: local\r\n\r\n")
                .status,
            ParseStatus::Error);
  EXPECT_EQ(format_tell_reply(true, false), "SPAMD/1.1 0 EX_OK\r\nDidSet: local\r\n\r\n\r\n");
  EXPECT_EQ(format_tell_reply(false, true), "SPAMD/1.1 0 EX_OK\r\nDidRemove: local\r\n\r\n\r\n");
}

TEST(SpamdProtocol, Zlib) {
  const std::string msg = "Subject: zipped\r\n\r\n" + std::string(5000, 'z');
  const std::string z = deflate_zlib(msg);
  ASSERT_LT(z.size(), msg.size());
  ParseOutcome o =
      parse(build_request(Method::Check, z, "Compress: zlib\r\n"));
  ASSERT_EQ(o.status, ParseStatus::Ready) << o.error;
  EXPECT_EQ(o.request.message, msg);
  // Without Content-length, zlib is refused as spamd refuses it.
  o = parse("CHECK SPAMC/1.5\r\nCompress: zlib\r\n\r\n" + z, true);
  ASSERT_EQ(o.status, ParseStatus::Error);
  EXPECT_EQ(o.error.rfind("SPAMD/1.0 69 ", 0), 0U);
  // Corrupt data and a zlib bomb.
  std::string broken = z;
  broken[broken.size() / 2] ^= 0x55;
  EXPECT_EQ(parse(build_request(Method::Check, broken, "Compress: zlib\r\n")).status,
            ParseStatus::Error);
  Limits l;
  l.max_message_bytes = 1000;
  o = parse(build_request(Method::Check, z, "Compress: zlib\r\n"), false, l);
  ASSERT_EQ(o.status, ParseStatus::Error);
  EXPECT_EQ(o.error.rfind("SPAMD/1.0 65 ", 0), 0U);
  EXPECT_EQ(parse("CHECK SPAMC/1.5\r\nCompress: gzip\r\n\r\n").status, ParseStatus::Error);
}

TEST(SpamdProtocol, ScoreText) {
  EXPECT_EQ(score_text(7.3, 5.0, true), "7.3");
  EXPECT_EQ(score_text(1.04, 5.0, false), "1.0");
  EXPECT_EQ(score_text(4.96, 5.0, false), "4.9");  // never shows the threshold for a ham
  EXPECT_EQ(score_text(-2.0, 5.0, false), "-2.0");
}

Verdict spam_verdict() {
  Verdict v;
  v.is_spam = true;
  v.score = 7.31;
  v.symbols = {"GTUBE", "BAYES_99"};
  v.report = "report text\r\n";
  v.rewritten = "X-Spam-Flag: YES\r\nSubject: x\r\n\r\nbody\r\n";
  return v;
}

TEST(SpamdProtocol, ReplyFraming) {
  Request r;
  r.version_milli = 1500;
  const Verdict v = spam_verdict();
  r.method = Method::Check;
  EXPECT_EQ(format_reply(r, v), "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 7.3 / 5.0\r\n\r\n");
  r.method = Method::Symbols;
  EXPECT_EQ(format_reply(r, v),
            "SPAMD/1.1 0 EX_OK\r\nContent-length: 14\r\nSpam: True ; 7.3 / 5.0\r\n\r\n"
            "GTUBE,BAYES_99");
  r.method = Method::ReportIfSpam;
  EXPECT_EQ(format_reply(r, v),
            "SPAMD/1.1 0 EX_OK\r\nContent-length: 13\r\nSpam: Yes ; 7.3 / 5.0\r\n\r\n"
            "report text\r\n");
  Verdict ham = v;
  ham.is_spam = false;
  ham.score = 0.2;
  EXPECT_EQ(format_reply(r, ham),
            "SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: No ; 0.2 / 5.0\r\n\r\n");
  r.method = Method::Process;
  EXPECT_EQ(format_reply(r, v), "SPAMD/1.1 0 EX_OK\r\nContent-length: " +
                                    std::to_string(v.rewritten.size()) +
                                    "\r\nSpam: True ; 7.3 / 5.0\r\n\r\n" + v.rewritten);
  r.method = Method::Headers;
  EXPECT_EQ(format_reply(r, v),
            "SPAMD/1.1 0 EX_OK\r\nContent-length: 32\r\nSpam: True ; 7.3 / 5.0\r\n\r\n"
            "X-Spam-Flag: YES\r\nSubject: x\r\n\r\n");
  // Older clients get older framing.
  r.version_milli = 1200;
  r.method = Method::Process;
  EXPECT_EQ(format_reply(r, v).rfind("SPAMD/1.1 0 EX_OK\r\nContent-length: ", 0), 0U);
  EXPECT_EQ(format_reply(r, v).find("Spam:"), std::string::npos);
  r.method = Method::Symbols;
  EXPECT_EQ(format_reply(r, v),
            "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 7.3 / 5.0\r\n\r\nGTUBE,BAYES_99\r\n");
  r.version_milli = 1000;
  r.method = Method::Process;
  EXPECT_EQ(format_reply(r, v), "SPAMD/1.0 0 EX_OK\r\n" + v.rewritten);
}

TEST(SpamdProtocol, LenientLineEndings) {
  ParseOutcome o = parse("CHECK SPAMC/1.5\nContent-length: 1\n\nx");
  ASSERT_EQ(o.status, ParseStatus::Ready);
  EXPECT_EQ(o.request.message, "x");
}

}  // namespace
}  // namespace gf::spamd
