// The per-connection milter state: negotiation, which steps get a reply, message boundaries,
// aborts, quit-with-new-connection, and the limits that answer by themselves.
#include "core/milter/session.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gf::milter {
namespace {

constexpr std::uint32_t kAllActions = 0x1ff;
constexpr std::uint32_t kAllSteps = 0x1fffff;
const OptionNegotiation kPostfixOffer{6, kAllActions, kAllSteps};

OptionNegotiation wants_with(std::uint32_t steps) {
  return {6, action::kAddHeaders | action::kChangeHeaders | action::kQuarantine, steps};
}

Step feed(Session& s, const Command& c) {
  Result<Step> r = s.on_command(c);
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : Step{};
}

Session negotiated(std::uint32_t steps = 0, Limits limits = {}) {
  Session s(limits, wants_with(steps));
  feed(s, kPostfixOffer);
  return s;
}

TEST(MilterSession, CommandBeforeNegotiationIsAnError) {
  Session s(Limits{}, wants_with(0));
  auto r = s.on_command(Helo{"x"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "milter command before option negotiation");
}

TEST(MilterSession, NegotiationGrantsWhatBothSidesHave) {
  const std::uint32_t wanted = step::kNoReplyConnect | step::kNoReplyHeader | step::kNoUnknown |
                               step::kNoReplyBody | step::kSkip;
  Session s(Limits{}, wants_with(wanted));
  Step st = feed(s, kPostfixOffer);
  EXPECT_EQ(st.next, Next::Reply);
  EXPECT_EQ(st.reply, encode_negotiation({6, wants_with(0).actions, wanted}));
  EXPECT_TRUE(s.negotiated());
  EXPECT_FALSE(s.expects_reply(cmd::kConnect));
  EXPECT_FALSE(s.expects_reply(cmd::kHeader));
  EXPECT_FALSE(s.expects_reply(cmd::kBody));
  EXPECT_TRUE(s.expects_reply(cmd::kHelo));
  EXPECT_TRUE(s.expects_reply(cmd::kRcpt));
  EXPECT_TRUE(s.expects_reply(cmd::kEndOfMessage));
  EXPECT_FALSE(s.expects_reply(cmd::kMacro));
  EXPECT_FALSE(s.expects_reply(cmd::kAbort));
}

TEST(MilterSession, StepsAndActionsTheMtaDoesNotOfferAreNotGranted) {
  // An MTA of protocol version 2 offers neither no-reply steps nor quarantine.
  Session s(Limits{}, wants_with(step::kNoReplyConnect | step::kNoHelo));
  Step st = feed(s, OptionNegotiation{2, 0x3f & ~action::kQuarantine, 0x7f});
  EXPECT_EQ(s.agreed().version, 2u);
  EXPECT_EQ(s.agreed().actions, action::kAddHeaders | action::kChangeHeaders);
  EXPECT_EQ(s.agreed().steps, step::kNoHelo);
  EXPECT_EQ(st.reply, encode_negotiation(s.agreed()));
  EXPECT_TRUE(s.expects_reply(cmd::kConnect));  // it will wait for a connect reply
  EXPECT_EQ(feed(s, Connect{"h", Family::Inet, 25, "192.0.2.1"}).next, Next::Reply);
}

TEST(MilterSession, NewerMtaIsAnsweredWithVersionSix) {
  Session s(Limits{}, wants_with(0));
  feed(s, OptionNegotiation{7, kAllActions, kAllSteps});
  EXPECT_EQ(s.agreed().version, 6u);
}

TEST(MilterSession, ProtocolVersionOneIsRefused) {
  Session s(Limits{}, wants_with(0));
  auto r = s.on_command(OptionNegotiation{1, 0xf, 0x3f});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("version 1"), std::string::npos);
}

TEST(MilterSession, SecondNegotiationIsAnErrorUnlessAfterQuitNewConnection) {
  Session s = negotiated();
  EXPECT_FALSE(s.on_command(kPostfixOffer));
  Session t = negotiated();
  feed(t, QuitNewConnection{});
  EXPECT_EQ(feed(t, kPostfixOffer).next, Next::Reply);
  EXPECT_FALSE(t.on_command(kPostfixOffer));
}

TEST(MilterSession, EveryCallbackOfOneMessageWithReplies) {
  Session s = negotiated();
  EXPECT_EQ(feed(s, Macros{'C', {{"j", "mx.example"}}}).next, Next::NoReply);
  EXPECT_EQ(feed(s, Connect{"c.example", Family::Inet, 4242, "192.0.2.7"}).next, Next::Reply);
  EXPECT_EQ(s.connect().address, "192.0.2.7");
  EXPECT_EQ(feed(s, Helo{"c.example"}).next, Next::Reply);
  EXPECT_EQ(s.helo(), "c.example");
  EXPECT_EQ(feed(s, Unknown{"XFOO"}).next, Next::Reply);
  EXPECT_FALSE(s.in_message());
  EXPECT_EQ(feed(s, Macros{'M', {{"i", "Q1"}}}).next, Next::NoReply);
  EXPECT_EQ(feed(s, Mail{{"<a@example.org>", "SIZE=10"}}).next, Next::Reply);
  EXPECT_TRUE(s.in_message());
  EXPECT_EQ(feed(s, Rcpt{{"<b@example.net>"}}).next, Next::Reply);
  EXPECT_EQ(feed(s, Rcpt{{"<c@example.net>"}}).next, Next::Reply);
  EXPECT_EQ(feed(s, Data{}).next, Next::Reply);
  EXPECT_EQ(feed(s, Header{"Subject", "hi"}).next, Next::Reply);
  EXPECT_EQ(feed(s, EndOfHeaders{}).next, Next::Reply);
  Step body = feed(s, Body{"hello\r\n"});
  EXPECT_EQ(body.next, Next::Reply);
  EXPECT_TRUE(body.reply.empty());  // the verdict is the caller's
  Step eom = feed(s, EndOfMessage{});
  EXPECT_EQ(eom.next, Next::Reply);
  EXPECT_TRUE(eom.reply.empty());
  // The envelope is still readable while the caller decides.
  EXPECT_EQ(s.sender(), "<a@example.org>");
  EXPECT_EQ(s.recipients(), (std::vector<std::string>{"<b@example.net>", "<c@example.net>"}));
  EXPECT_EQ(s.macro("i"), "Q1");
  EXPECT_EQ(s.message_bytes(), 15u + 30u + 13u + 7u);
  EXPECT_EQ(s.messages_completed(), 1u);
  EXPECT_FALSE(s.in_message());
  EXPECT_EQ(feed(s, Quit{}).next, Next::Close);
}

TEST(MilterSession, NoReplyStepsAreSilent) {
  const std::uint32_t nr = step::kNoReplyConnect | step::kNoReplyHelo | step::kNoReplyMail |
                           step::kNoReplyRcpt | step::kNoReplyData | step::kNoReplyUnknown |
                           step::kNoReplyHeader | step::kNoReplyEndOfHeaders | step::kNoReplyBody;
  Session s = negotiated(nr);
  for (const Command& c : std::vector<Command>{Connect{"h", Family::Unknown, 0, ""}, Helo{"h"},
                                               Unknown{"X"}, Mail{{"<>"}}, Rcpt{{"<r@x>"}}, Data{},
                                               Header{"A", "b"}, EndOfHeaders{}, Body{"x"}}) {
    EXPECT_EQ(feed(s, c).next, Next::NoReply) << c.index();
  }
  EXPECT_EQ(feed(s, EndOfMessage{}).next, Next::Reply);  // always answered
}

TEST(MilterSession, SkippedMailStepStartsTheMessageAtTheFirstRecipient) {
  Session s = negotiated(step::kNoMail | step::kNoHelo | step::kNoConnect);
  EXPECT_FALSE(s.in_message());
  feed(s, Rcpt{{"<r@x>"}});
  EXPECT_TRUE(s.in_message());
  EXPECT_EQ(s.sender(), "");
  feed(s, EndOfMessage{});
  EXPECT_EQ(s.messages_completed(), 1u);
}

TEST(MilterSession, TwoMessagesOnOneConnection) {
  Session s = negotiated();
  feed(s, Macros{'C', {{"j", "mx"}}});
  feed(s, Connect{"h", Family::Inet, 25, "192.0.2.1"});
  feed(s, Helo{"h"});
  for (int i = 1; i <= 2; ++i) {
    const std::string n = std::to_string(i);
    feed(s, Macros{'M', {{"i", "Q" + n}}});
    feed(s, Mail{{"<s" + n + "@x>"}});
    feed(s, Rcpt{{"<r" + n + "@x>"}});
    feed(s, Header{"Subject", "m" + n});
    feed(s, EndOfHeaders{});
    feed(s, Body{"body " + n});
    feed(s, EndOfMessage{});
    EXPECT_EQ(s.sender(), "<s" + n + "@x>");
    EXPECT_EQ(s.recipients(), std::vector<std::string>{"<r" + n + "@x>"});
    EXPECT_EQ(s.macro("i"), "Q" + n);
    EXPECT_EQ(s.messages_completed(), static_cast<std::size_t>(i));
  }
  // The next command clears the finished message but keeps the connection.
  feed(s, Abort{});
  EXPECT_EQ(s.sender(), "");
  EXPECT_TRUE(s.recipients().empty());
  EXPECT_EQ(s.macro("i"), "");
  EXPECT_EQ(s.macro("j"), "mx");
  EXPECT_EQ(s.helo(), "h");
  EXPECT_EQ(s.messages_aborted(), 0u);
}

TEST(MilterSession, AbortMidMessageResetsTheMessageNotTheConnection) {
  Session s = negotiated();
  feed(s, Macros{'C', {{"{daemon_name}", "smtpd"}}});
  feed(s, Connect{"h", Family::Inet6, 25, "2001:db8::1"});
  feed(s, Helo{"h"});
  feed(s, Macros{'M', {{"{mail_addr}", "a@x"}}});
  feed(s, Mail{{"<a@x>"}});
  feed(s, Rcpt{{"<b@x>"}});
  feed(s, Header{"Subject", "x"});
  feed(s, Body{"partial"});
  EXPECT_EQ(feed(s, Abort{}).next, Next::NoReply);
  EXPECT_FALSE(s.in_message());
  EXPECT_EQ(s.messages_aborted(), 1u);
  EXPECT_EQ(s.messages_completed(), 0u);
  EXPECT_EQ(s.message_bytes(), 0u);
  EXPECT_TRUE(s.recipients().empty());
  EXPECT_EQ(s.macro("{mail_addr}"), "");
  EXPECT_EQ(s.macro("{daemon_name}"), "smtpd");
  EXPECT_EQ(s.connect().address, "2001:db8::1");
  // The connection goes on with the next message.
  feed(s, Mail{{"<c@x>"}});
  feed(s, Rcpt{{"<d@x>"}});
  EXPECT_EQ(feed(s, EndOfMessage{}).next, Next::Reply);
  EXPECT_EQ(s.sender(), "<c@x>");
  EXPECT_EQ(s.messages_completed(), 1u);
}

TEST(MilterSession, MailWithoutAbortGivesTheOldMessageUp) {
  Session s = negotiated();
  feed(s, Mail{{"<a@x>"}});
  feed(s, Rcpt{{"<b@x>"}});
  feed(s, Mail{{"<c@x>"}});
  EXPECT_EQ(s.messages_aborted(), 1u);
  EXPECT_TRUE(s.recipients().empty());
  EXPECT_EQ(s.sender(), "<c@x>");
}

TEST(MilterSession, TwentyMegabyteBodyInChunks) {
  Session s = negotiated(step::kNoReplyBody);
  feed(s, Mail{{"<>"}});
  feed(s, Rcpt{{"<r@x>"}});
  const std::string chunk(65535, 'a');
  const std::size_t chunks = 20 * 1024 * 1024 / chunk.size() + 1;
  for (std::size_t i = 0; i < chunks; ++i) {
    ASSERT_EQ(feed(s, Body{chunk}).next, Next::NoReply);
  }
  EXPECT_EQ(s.message_bytes(), 2u + 5u + chunks * chunk.size());
  EXPECT_FALSE(s.message_too_large());
  Step eom = feed(s, EndOfMessage{});
  EXPECT_EQ(eom.next, Next::Reply);
  EXPECT_TRUE(eom.reply.empty());
}

TEST(MilterSession, OversizedMessageIsRejectedBySessionAndNextMessageIsFine) {
  Limits limits;
  limits.max_message_bytes = 1000;
  Session s = negotiated(0, limits);
  const std::string too_large = *encode_reply_code(kTooLargeReply);
  feed(s, Mail{{"<a@x>"}});
  Step first = feed(s, Body{std::string(900, 'x')});
  EXPECT_TRUE(first.reply.empty());
  Step over = feed(s, Body{std::string(200, 'x')});
  EXPECT_EQ(over.next, Next::Reply);
  EXPECT_EQ(over.reply, too_large);
  EXPECT_TRUE(s.message_too_large());
  EXPECT_EQ(feed(s, EndOfMessage{}).reply, too_large);
  feed(s, Mail{{"<a@x>"}});
  EXPECT_FALSE(s.message_too_large());
  EXPECT_TRUE(feed(s, Body{"small"}).reply.empty());
}

TEST(MilterSession, OversizedMessageWithNoReplyBodyIsRejectedAtEndOfMessage) {
  Limits limits;
  limits.max_message_bytes = 100;
  Session s = negotiated(step::kNoReplyBody | step::kNoReplyHeader, limits);
  feed(s, Header{"X-Long", std::string(200, 'v')});
  EXPECT_TRUE(s.message_too_large());
  EXPECT_EQ(feed(s, Body{"more"}).next, Next::NoReply);
  Step eom = feed(s, EndOfMessage{});
  EXPECT_EQ(eom.reply, *encode_reply_code(kTooLargeReply));
}

TEST(MilterSession, RecipientsOverTheLimitAreRefusedOneByOne) {
  Limits limits;
  limits.max_recipients = 2;
  Session s = negotiated(0, limits);
  feed(s, Mail{{"<a@x>"}});
  EXPECT_TRUE(feed(s, Rcpt{{"<1@x>"}}).reply.empty());
  EXPECT_TRUE(feed(s, Rcpt{{"<2@x>"}}).reply.empty());
  EXPECT_EQ(feed(s, Rcpt{{"<3@x>"}}).reply, *encode_reply_code(kTooManyRcptsReply));
  EXPECT_EQ(s.recipients().size(), 2u);
}

TEST(MilterSession, MacroBytesAreBounded) {
  Limits limits;
  limits.max_macro_bytes = 64;
  Session s = negotiated(0, limits);
  // Re-sending a name replaces it, so a long connection does not grow.
  for (int i = 0; i < 100; ++i) {
    feed(s, Macros{'M', {{"i", std::string(30, 'q')}}});
  }
  EXPECT_EQ(s.macro_bytes(), 31u);
  auto r = s.on_command(Macros{'C', {{"big", std::string(40, 'v')}}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::TooLarge);
  EXPECT_EQ(r.error().message, "macros exceed the limit of 64 bytes");
}

TEST(MilterSession, QuitNewConnectionStartsTheConnectionOver) {
  Session s = negotiated();
  feed(s, Macros{'C', {{"j", "mx"}}});
  feed(s, Connect{"h", Family::Inet, 25, "192.0.2.1"});
  feed(s, Helo{"h"});
  feed(s, Mail{{"<a@x>"}});
  EXPECT_EQ(feed(s, QuitNewConnection{}).next, Next::NoReply);
  EXPECT_FALSE(s.in_message());
  EXPECT_EQ(s.helo(), "");
  EXPECT_EQ(s.connect().address, "");
  EXPECT_EQ(s.macro("j"), "");
  EXPECT_EQ(s.macro_bytes(), 0u);
  // The negotiation still holds, so a new connect may follow at once.
  EXPECT_EQ(feed(s, Connect{"h2", Family::Inet, 25, "192.0.2.2"}).next, Next::Reply);
  EXPECT_EQ(s.connect().hostname, "h2");
}

}  // namespace
}  // namespace gf::milter
