#include <gtest/gtest.h>

#include "core/policy/request.hpp"

namespace gf::policy {
namespace {

const char* kPostfixRequest =
    "request=smtpd_access_policy\n"
    "protocol_state=RCPT\n"
    "protocol_name=ESMTP\n"
    "client_address=192.0.2.1\n"
    "client_name=mail.example.com\n"
    "reverse_client_name=mail.example.com\n"
    "helo_name=mail.example.com\n"
    "sender=alice@example.com\n"
    "recipient=bob@example.org\n"
    "recipient_count=0\n"
    "queue_id=\n"
    "instance=123.456.7\n"
    "size=0\n"
    "etrn_domain=\n"
    "stress=\n"
    "sasl_method=\n"
    "ccert_subject=\n"
    "policy_context=\n"
    "server_address=127.0.0.1\n"
    "server_port=25\n"
    "\n";

TEST(PolicyRequest, ParsesAPostfixRequest) {
  const std::string buf = kPostfixRequest;
  ParseOutcome r = parse_request(buf, Limits{});
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.consumed, buf.size());
  EXPECT_EQ(r.request.client_address, "192.0.2.1");
  EXPECT_EQ(r.request.sender, "alice@example.com");
  EXPECT_EQ(r.request.recipient, "bob@example.org");
  EXPECT_EQ(r.request.instance, "123.456.7");
  EXPECT_TRUE(r.request.has_etrn_domain);
  EXPECT_EQ(r.request.attribute_count, 20u);
}

TEST(PolicyRequest, NeedsMoreUntilTheBlankLine) {
  std::string buf = kPostfixRequest;
  buf.pop_back();
  EXPECT_EQ(parse_request(buf, Limits{}).status, ParseStatus::NeedMore);
  EXPECT_EQ(parse_request("", Limits{}).status, ParseStatus::NeedMore);
}

TEST(PolicyRequest, ParsesPipelinedRequestsOneAtATime) {
  const std::string buf = std::string(kPostfixRequest) + kPostfixRequest;
  ParseOutcome first = parse_request(buf, Limits{});
  ASSERT_EQ(first.status, ParseStatus::Complete);
  ParseOutcome second = parse_request(std::string_view(buf).substr(first.consumed), Limits{});
  ASSERT_EQ(second.status, ParseStatus::Complete);
  EXPECT_EQ(first.consumed + second.consumed, buf.size());
}

TEST(PolicyRequest, AttributeOrderIsFreeAndUnknownAttributesAreIgnored) {
  ParseOutcome r = parse_request(
      "x_custom=1\nrecipient=r@x\nrequest=smtpd_access_policy\nprotocol_state=RCPT\n\n", Limits{});
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.request.recipient, "r@x");
  EXPECT_FALSE(r.request.has_etrn_domain);
}

TEST(PolicyRequest, ValuesMayContainEqualsSigns) {
  ParseOutcome r =
      parse_request("request=smtpd_access_policy\nsender=prvs=0123456789=a@b\n\n", Limits{});
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.request.sender, "prvs=0123456789=a@b");
}

TEST(PolicyRequest, AcceptsCrlfLines) {
  ParseOutcome r = parse_request("request=smtpd_access_policy\r\nrecipient=a@b\r\n\r\n", Limits{});
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.request.recipient, "a@b");
}

TEST(PolicyRequest, RequiresTheRequestAttribute) {
  EXPECT_EQ(parse_request("recipient=a@b\n\n", Limits{}).status, ParseStatus::Error);
  EXPECT_EQ(parse_request("request=junk\n\n", Limits{}).status, ParseStatus::Error);
}

TEST(PolicyRequest, RejectsGarbageLines) {
  ParseOutcome r = parse_request("request=smtpd_access_policy\n\x01\x02garbage\n\n", Limits{});
  EXPECT_EQ(r.status, ParseStatus::Error);
  EXPECT_NE(r.error.find("malformed"), std::string::npos);
  EXPECT_EQ(parse_request("=value\n\n", Limits{}).status, ParseStatus::Error);
  static constexpr char kNul[] = "request=smtpd_access_policy\nx=a\0b\n\n";
  EXPECT_EQ(parse_request(std::string(kNul, sizeof kNul - 1), Limits{}).status,
            ParseStatus::Error);
}

TEST(PolicyRequest, EnforcesTheSizeLimitBeforeTheBlankLineArrives) {
  Limits limits;
  limits.max_request_bytes = 1024;
  std::string buf = "request=smtpd_access_policy\nsender=" + std::string(2000, 'a');
  EXPECT_EQ(parse_request(buf, limits).status, ParseStatus::Error);
}

TEST(PolicyRequest, EnforcesTheAttributeLimit) {
  Limits limits;
  limits.max_attributes = 10;
  std::string buf = "request=smtpd_access_policy\n";
  for (int i = 0; i < 20; ++i) {
    buf += "a" + std::to_string(i) + "=1\n";
  }
  buf += "\n";
  EXPECT_EQ(parse_request(buf, limits).status, ParseStatus::Error);
}

TEST(PolicyReply, FormatsAndNeutralisesLineBreaks) {
  EXPECT_EQ(format_reply("DUNNO"), "action=DUNNO\n\n");
  EXPECT_EQ(format_reply("PREPEND X: a\nb"), "action=PREPEND X: a b\n\n");
}

}  // namespace
}  // namespace gf::policy
