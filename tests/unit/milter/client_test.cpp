// The MTA's side of the milter codec: filter replies decoded from hand-built packets and from the
// filter-side encoders, partial and malformed replies, which steps are skipped or answered, and
// how a stored message becomes the header fields and CRLF body chunks an MTA sends.
#include "core/milter/client.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/milter/session.hpp"
#include "milter_packets.hpp"

namespace gf::milter {
namespace {

using namespace std::string_literals;

// A packet built by hand, independent of the encoders.
std::string raw(char code, const std::string& payload) {
  return test::milter_packet(code, payload);
}

Reply complete(const std::string& bytes) {
  const ReplyOutcome out = decode_reply(bytes, Limits{});
  EXPECT_EQ(out.status, DecodeStatus::Complete) << out.error;
  EXPECT_EQ(out.consumed, bytes.size());
  return out.reply;
}

std::string error_of(const std::string& bytes, Limits limits = {}) {
  const ReplyOutcome out = decode_reply(bytes, limits);
  EXPECT_EQ(out.status, DecodeStatus::Error);
  EXPECT_EQ(out.consumed, 0u);
  return out.error;
}

TEST(MilterClient, DecodesBareReplies) {
  const std::vector<std::pair<char, ReplyKind>> bare = {
      {'c', ReplyKind::Continue}, {'a', ReplyKind::Accept},   {'r', ReplyKind::Reject},
      {'t', ReplyKind::Tempfail}, {'d', ReplyKind::Discard},  {'s', ReplyKind::Skip},
      {'p', ReplyKind::Progress}, {'4', ReplyKind::Shutdown}, {'f', ReplyKind::ConnectionFail}};
  for (const auto& [code, kind] : bare) {
    EXPECT_EQ(complete(raw(code, "")).kind, kind) << code;
  }
}

TEST(MilterClient, DecodesNegotiationWithMacroLists) {
  const Reply plain = complete(raw('O', "\0\0\0\x06\0\0\0\x31\0\x1f\x00\x10"s));
  EXPECT_EQ(plain.kind, ReplyKind::Negotiation);
  EXPECT_EQ(plain.negotiation, (OptionNegotiation{6, 0x31, 0x1f0010}));
  EXPECT_TRUE(plain.macro_lists.empty());

  const Reply lists = complete(raw('O',
                                   "\0\0\0\x06\0\0\0\x01\0\0\0\0"
                                   "\0\0\0\x00{client_addr} j\0"
                                   "\0\0\0\x04i {rcpt_addr}\0"s));
  ASSERT_EQ(lists.macro_lists.size(), 2u);
  EXPECT_EQ(lists.macro_lists[0], (std::pair<std::uint32_t, std::string>{0, "{client_addr} j"}));
  EXPECT_EQ(lists.macro_lists[1], (std::pair<std::uint32_t, std::string>{4, "i {rcpt_addr}"}));
}

TEST(MilterClient, DecodesStringReplies) {
  Reply r = complete(raw('y', "554 5.7.1 Spam message rejected\0"s));
  EXPECT_EQ(r.kind, ReplyKind::ReplyCode);
  EXPECT_EQ(r.text, "554 5.7.1 Spam message rejected");
  EXPECT_EQ(complete(raw('y', "451-4.7.1 first\r\n451 4.7.1 second\0"s)).text,
            "451-4.7.1 first\r\n451 4.7.1 second");

  r = complete(raw('h', "X-Spam\0Yes\0"s));
  EXPECT_EQ(r.kind, ReplyKind::AddHeader);
  EXPECT_EQ(r.name, "X-Spam");
  EXPECT_EQ(r.value, "Yes");

  r = complete(raw('i', "\0\0\0\x02X-Spamd-Result\0default: False\0"s));
  EXPECT_EQ(r.kind, ReplyKind::InsertHeader);
  EXPECT_EQ(r.index, 2u);
  EXPECT_EQ(r.name, "X-Spamd-Result");

  r = complete(raw('m', "\0\0\0\x01Subject\0\0"s));
  EXPECT_EQ(r.kind, ReplyKind::ChangeHeader);
  EXPECT_EQ(r.index, 1u);
  EXPECT_EQ(r.value, "");

  EXPECT_EQ(complete(raw('q', "held for review\0"s)).text, "held for review");
  EXPECT_EQ(complete(raw('+', "<new@example.org>\0"s)).text, "<new@example.org>");
  EXPECT_EQ(complete(raw('-', "<old@example.org>\0"s)).kind, ReplyKind::DeleteRcpt);
  r = complete(raw('e', "<bounce@example.org>\0SIZE=10\0"s));
  EXPECT_EQ(r.kind, ReplyKind::ChangeFrom);
  EXPECT_EQ(r.text, "<bounce@example.org>");
  EXPECT_EQ(r.args, std::vector<std::string>{"SIZE=10"});
  EXPECT_EQ(complete(raw('2', "<x@example.org>\0"s)).kind, ReplyKind::AddRcptWithArgs);
  EXPECT_EQ(complete(raw('b', "new body\r\n")).text, "new body\r\n");
}

TEST(MilterClient, DecodesWhatTheFilterSideEncodes) {
  EXPECT_EQ(complete(encode_negotiation({6, 0x31, 0x1f0000})).negotiation,
            (OptionNegotiation{6, 0x31, 0x1f0000}));
  for (char code : {'c', 'a', 'r', 't', 'd', 'p', 's'}) {
    EXPECT_EQ(static_cast<char>(complete(encode_simple(code)).kind), code);
  }
  EXPECT_EQ(complete(*encode_reply_code("451 4.7.1 Greylisted")).text, "451 4.7.1 Greylisted");
  const Reply add = complete(*encode_add_header("X-Spam-Score", "3.2"));
  EXPECT_EQ(add.name + "=" + add.value, "X-Spam-Score=3.2");
  const Reply ins = complete(*encode_insert_header(0, "X-Spam-Status", "No"));
  EXPECT_EQ(ins.kind, ReplyKind::InsertHeader);
  EXPECT_EQ(ins.index, 0u);
  EXPECT_EQ(complete(*encode_change_header(3, "Subject", "x")).index, 3u);
  EXPECT_EQ(complete(*encode_quarantine("spam")).text, "spam");
}

TEST(MilterClient, EveryPrefixNeedsMore) {
  const std::string bytes = raw('i', "\0\0\0\x02X-A\0b\0"s);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const ReplyOutcome out = decode_reply(bytes.substr(0, n), Limits{});
    EXPECT_EQ(out.status, DecodeStatus::NeedMore) << n;
    EXPECT_EQ(out.consumed, 0u);
  }
}

TEST(MilterClient, DecodesOneReplyOfAStream) {
  const std::string stream = raw('h', "X-A\0b\0"s) + raw('a', "");
  ReplyOutcome out = decode_reply(stream, Limits{});
  ASSERT_EQ(out.status, DecodeStatus::Complete);
  EXPECT_EQ(out.reply.kind, ReplyKind::AddHeader);
  out = decode_reply(std::string_view(stream).substr(out.consumed), Limits{});
  ASSERT_EQ(out.status, DecodeStatus::Complete);
  EXPECT_EQ(out.reply.kind, ReplyKind::Accept);
}

TEST(MilterClient, RefusesMalformedReplies) {
  EXPECT_EQ(error_of("\0\0\0\0"s), "milter reply of length 0 has no reply code");
  Limits small;
  small.max_packet_bytes = 100;
  EXPECT_EQ(error_of("\0\0\0\x65"s, small),
            "milter reply of 101 bytes exceeds the limit of 100 bytes");
  EXPECT_EQ(error_of(raw('Z', "")), "unknown milter reply 0x5a");
  EXPECT_EQ(error_of(raw('c', "x")), "reply 'c' carries 1 unexpected payload bytes");
  EXPECT_EQ(error_of(raw('O', "\0\0\0\x06"s)),
            "negotiation reply payload is 4 bytes, expected at least 12");
  EXPECT_EQ(error_of(raw('O', "\0\0\0\x06\0\0\0\0\0\0\0\0\0\0\0\x01j"s)),
            "negotiation reply carries a malformed macro list");
  for (const std::string& text :
       {"250 ok\0"s, "554 no NUL"s, "55 short\0"s, "554 a\0b\0"s, "554x\0"s}) {
    EXPECT_EQ(error_of(raw('y', text)),
              "reply code is not one NUL-terminated 4xx or 5xx SMTP reply");
  }
  EXPECT_EQ(error_of(raw('h', "X-A\0b"s)),
            "header reply 'h' is not a NUL-terminated name and value");
  EXPECT_EQ(error_of(raw('h', "X-A\0b\0extra"s)),
            "header reply 'h' is not a NUL-terminated name and value");
  EXPECT_EQ(error_of(raw('i', "\0\0"s)), "header reply 'i' without an index");
  EXPECT_EQ(error_of(raw('q', "reason"s)), "reply 'q' is not one NUL-terminated string");
  EXPECT_EQ(error_of(raw('e', "<a@b>"s)), "reply 'e' without a NUL-terminated address");
  EXPECT_EQ(error_of(raw('2', "<a@b>\0ARG"s)), "reply '2' arguments not NUL-terminated");
}

TEST(MilterClient, FinalAndModificationReplies) {
  for (ReplyKind k : {ReplyKind::Continue, ReplyKind::Accept, ReplyKind::Reject,
                      ReplyKind::Tempfail, ReplyKind::Discard, ReplyKind::ReplyCode,
                      ReplyKind::Skip, ReplyKind::Shutdown, ReplyKind::ConnectionFail}) {
    EXPECT_TRUE(is_final(k)) << static_cast<char>(k);
    EXPECT_FALSE(is_modification(k)) << static_cast<char>(k);
  }
  for (ReplyKind k : {ReplyKind::AddHeader, ReplyKind::InsertHeader, ReplyKind::ChangeHeader,
                      ReplyKind::Quarantine, ReplyKind::AddRcpt, ReplyKind::AddRcptWithArgs,
                      ReplyKind::DeleteRcpt, ReplyKind::ChangeFrom, ReplyKind::ReplaceBody}) {
    EXPECT_FALSE(is_final(k)) << static_cast<char>(k);
    EXPECT_TRUE(is_modification(k)) << static_cast<char>(k);
  }
  EXPECT_FALSE(is_final(ReplyKind::Progress));
  EXPECT_FALSE(is_modification(ReplyKind::Progress));
}

TEST(MilterClient, SkippedSteps) {
  const std::vector<std::pair<char, std::uint32_t>> table = {
      {cmd::kConnect, step::kNoConnect},
      {cmd::kHelo, step::kNoHelo},
      {cmd::kMail, step::kNoMail},
      {cmd::kRcpt, step::kNoRcpt},
      {cmd::kData, step::kNoData},
      {cmd::kHeader, step::kNoHeaders},
      {cmd::kEndOfHeaders, step::kNoEndOfHeaders},
      {cmd::kBody, step::kNoBody},
      {cmd::kUnknown, step::kNoUnknown}};
  for (const auto& [code, flag] : table) {
    EXPECT_FALSE(step_skipped(code, 0)) << code;
    EXPECT_TRUE(step_skipped(code, flag)) << code;
    EXPECT_FALSE(step_skipped(code, 0x1fffff & ~flag)) << code;
  }
  for (char code : {cmd::kOptionNegotiation, cmd::kMacro, cmd::kEndOfMessage, cmd::kAbort,
                    cmd::kQuit, cmd::kQuitNewConnection}) {
    EXPECT_FALSE(step_skipped(code, 0x1fffff)) << code;
  }
}

// The MTA's view of which commands get a reply agrees with the filter-side Session's, for every
// combination of no-reply flags.
TEST(MilterClient, ReplyExpectedAgreesWithTheSession) {
  const std::uint32_t no_reply_flags[] = {
      step::kNoReplyConnect,      step::kNoReplyHelo, step::kNoReplyMail,
      step::kNoReplyRcpt,         step::kNoReplyData, step::kNoReplyUnknown,
      step::kNoReplyEndOfHeaders, step::kNoReplyBody, step::kNoReplyHeader};
  const char codes[] = {cmd::kOptionNegotiation,
                        cmd::kConnect,
                        cmd::kHelo,
                        cmd::kMail,
                        cmd::kRcpt,
                        cmd::kData,
                        cmd::kHeader,
                        cmd::kEndOfHeaders,
                        cmd::kBody,
                        cmd::kEndOfMessage,
                        cmd::kUnknown,
                        cmd::kMacro,
                        cmd::kAbort,
                        cmd::kQuit,
                        cmd::kQuitNewConnection};
  for (std::uint32_t mask = 0; mask < (1u << 9); ++mask) {
    std::uint32_t steps = 0;
    for (int b = 0; b < 9; ++b) {
      if (mask & (1u << b)) {
        steps |= no_reply_flags[b];
      }
    }
    Session session(Limits{}, OptionNegotiation{6, 0, steps});
    ASSERT_TRUE(session.on_command(OptionNegotiation{6, 0x1ff, 0x1fffff}).has_value());
    ASSERT_EQ(session.agreed().steps, steps);
    for (char code : codes) {
      EXPECT_EQ(reply_expected(code, steps), session.expects_reply(code))
          << code << " steps 0x" << std::hex << steps;
    }
  }
  EXPECT_TRUE(reply_expected(cmd::kEndOfMessage, 0x1fffff));
  EXPECT_FALSE(reply_expected(cmd::kAbort, 0));
}

TEST(MilterClient, SplitsAStoredMessage) {
  const std::string stored =
      "From sender@example.org Mon Sep  9 10:00:00 2002\n"
      "Subject:  a folded\n"
      "\tsubject line\n"
      "X-Empty:\n"
      "To: user@example.test\n"
      "\n"
      "first line\n"
      "\n"
      "last line without a newline";
  const Result<MessageParts> parts = split_message(stored);
  ASSERT_TRUE(parts.has_value()) << parts.error().message;
  ASSERT_EQ(parts->headers.size(), 3u);
  EXPECT_EQ(parts->headers[0], (Header{"Subject", "a folded\n\tsubject line"}));
  EXPECT_EQ(parts->headers[1], (Header{"X-Empty", ""}));
  EXPECT_EQ(parts->headers[2], (Header{"To", "user@example.test"}));
  EXPECT_EQ(parts->body, "first line\r\n\r\nlast line without a newline\r\n");
}

TEST(MilterClient, SplitsCrlfMessagesAndOddHeaderSections) {
  Result<MessageParts> parts = split_message("A: 1\r\nB:2\r\n\r\nbody\r\n");
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->headers, (std::vector<Header>{{"A", "1"}, {"B", "2"}}));
  EXPECT_EQ(parts->body, "body\r\n");

  // A line that is not a header field starts the body; nothing is lost.
  parts = split_message("A: 1\nnot a header\nmore\n");
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->headers, (std::vector<Header>{{"A", "1"}}));
  EXPECT_EQ(parts->body, "not a header\r\nmore\r\n");

  parts = split_message("Only: headers\n");
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->headers.size(), 1u);
  EXPECT_EQ(parts->body, "");

  parts = split_message("");
  ASSERT_TRUE(parts.has_value());
  EXPECT_TRUE(parts->headers.empty());
  EXPECT_EQ(parts->body, "");

  parts = split_message("Bad Name: x\n\nb\n");
  ASSERT_TRUE(parts.has_value());
  EXPECT_TRUE(parts->headers.empty());
  EXPECT_EQ(parts->body, "Bad Name: x\r\n\r\nb\r\n");
}

TEST(MilterClient, RefusesANulInAHeader) {
  const Result<MessageParts> parts = split_message("Subject: a\0b\n\nbody\n"s);
  ASSERT_FALSE(parts.has_value());
  EXPECT_EQ(parts.error().message, "header Subject contains a NUL byte");
}

TEST(MilterClient, CutsTheBodyIntoChunks) {
  const std::string body(3 * 65535 + 3395, 'x');
  const auto chunks = body_chunks(body);
  ASSERT_EQ(chunks.size(), 4u);
  std::string joined;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i].size(), i < 3 ? 65535u : 3395u);
    joined += chunks[i];
  }
  EXPECT_EQ(joined, body);
  EXPECT_TRUE(body_chunks("").empty());
  EXPECT_EQ(body_chunks("abcde", 2), (std::vector<std::string_view>{"ab", "cd", "e"}));
}

}  // namespace
}  // namespace gf::milter
