// What each front door's history row says about its decision.
#include "core/history/rows.hpp"

#include <gtest/gtest.h>

#include "core/akismet/records.hpp"
#include "core/spamd/learn_record.hpp"

namespace gf::history {
namespace {

TEST(HistoryRows, GreylistVerdictNames) {
  using greylist::Action;
  using greylist::Reason;
  const auto v = [](Action a, Reason r) {
    return std::string(greylist_verdict(greylist::Decision{a, r, "", 0, ""}));
  };
  EXPECT_EQ(v(Action::Defer, Reason::New), "defer");
  EXPECT_EQ(v(Action::Defer, Reason::EarlyRetry), "defer");
  EXPECT_EQ(v(Action::Dunno, Reason::Passed), "pass");
  EXPECT_EQ(v(Action::Dunno, Reason::ClientAutoWhitelist), "whitelisted");
  EXPECT_EQ(v(Action::Defer, Reason::FluxAgent), "flux_agent");
  EXPECT_EQ(v(Action::Dunno, Reason::StoreFailure), "store_failure");
  EXPECT_EQ(v(Action::Dunno, Reason::NotRcpt), "");
}

TEST(HistoryRows, GreylistRow) {
  policy::Request r;
  r.client_address = "192.0.2.9";
  r.client_name = "mx.example.org";
  r.sender = "s@example.org";
  r.recipient = "r@example.net";
  const Row row = greylist_row(
      r, greylist::Decision{greylist::Action::Defer, greylist::Reason::New, "", 300, ""}, 1000,
      "policy");
  EXPECT_EQ(row.door, Door::Greylist);
  EXPECT_EQ(row.client, "mx.example.org[192.0.2.9]");
  EXPECT_EQ(row.verdict, "defer");
  ASSERT_EQ(row.reasons.size(), 1u);
  EXPECT_EQ(row.reasons[0].symbol, "new");
  EXPECT_FALSE(row.learnable());
}

TEST(HistoryRows, GreylistRowOfAnUnnamedClientIsItsAddress) {
  policy::Request r;
  r.client_address = "192.0.2.9";
  const greylist::Decision d{greylist::Action::Defer, greylist::Reason::New, "", 300, ""};
  EXPECT_EQ(greylist_row(r, d, 1000, "policy").client, "192.0.2.9");
  r.client_name = "unknown";  // what Postfix sends when the reverse lookup failed
  EXPECT_EQ(greylist_row(r, d, 1000, "policy").client, "192.0.2.9");
}

TEST(HistoryRows, CommentRowKeepsThePayloadUnlessTest) {
  akismet::CommentRequest r;
  r.user_ip = "198.51.100.4";
  r.comment_author_email = "a@example.com";
  r.comment_content = "Buy now";
  akismet::Decision d;
  d.spam = true;
  d.score = 2.5;
  d.symbols = {{"LINKS_MANY", 2.0, "x"}, {"TEXT_CLASSIFIER", 0.5, "y"}};
  akismet::CheckRecord rec;
  rec.fields = {{"comment_content", "Buy now"}};
  const Row row = comment_row(r, d, "blog.example", akismet::encode_check(rec), 5);
  EXPECT_EQ(row.verdict, "spam");
  EXPECT_EQ(row.site, "blog.example");
  EXPECT_EQ(row.summary, "Buy now");
  ASSERT_EQ(row.reasons.size(), 2u);
  EXPECT_EQ(row.reasons[0], (Reason{"LINKS_MANY", 2.0}));
  ASSERT_TRUE(row.learnable());
  auto back = akismet::decode_check(row.features);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->fields, rec.fields);
  r.is_test = true;
  EXPECT_FALSE(comment_row(r, d, "blog.example", "payload", 5).learnable());
}

TEST(HistoryRows, MailRowVerdicts) {
  const mime::Message m = mime::parse_message(
      "From: Spammer <x@spam.example>\nTo: u@example.org\nSubject: Win big\n\nhello\n");
  spamd::Evaluation e;
  e.analysis.score = 20;
  e.analysis.is_spam = true;
  e.analysis.symbols = {{"GTUBE", 1000.0, "gtube"}};
  e.action = spamd::Action::Reject;
  spamd::Scanner::Prepared p;
  p.fingerprint = 7;
  p.features = {{1, 1.0f}};
  const Row row = mail_row(m, e, &p, "spamd", "127.0.0.1", 9);
  EXPECT_EQ(row.verdict, "rejected");
  EXPECT_EQ(row.summary, "Win big");
  EXPECT_EQ(row.sender, "x@spam.example");
  EXPECT_EQ(row.recipient, "u@example.org");
  EXPECT_EQ(row.reasons[0].symbol, "GTUBE");
  auto back = spamd::decode_learn_record(row.features);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->fingerprint, 7u);
  e.action = spamd::Action::AddHeaders;
  EXPECT_EQ(mail_row(m, e, nullptr, "milter", "", 9).verdict, "spam");
  e.analysis.is_spam = false;
  e.action = spamd::Action::NoAction;
  EXPECT_EQ(mail_row(m, e, nullptr, "milter", "", 9).verdict, "ham");
  EXPECT_FALSE(mail_row(m, e, nullptr, "milter", "", 9).learnable());
}

TEST(HistoryRows, FluxRow) {
  flux::Verdict v;
  v.features.name = "flux.example";
  v.composite.score = 8.5;
  v.composite.fired = {{"asn_diversity", 3.0}, {"low_ttl", 1.5}};
  const Row row = flux_row(v, 77);
  EXPECT_EQ(row.door, Door::Flux);
  EXPECT_EQ(row.verdict, "flagged");
  EXPECT_EQ(row.summary, "flux.example");
  EXPECT_DOUBLE_EQ(row.score, 8.5);
  ASSERT_EQ(row.reasons.size(), 2u);
  EXPECT_EQ(row.reasons[1], (Reason{"low_ttl", 1.5}));
  EXPECT_FALSE(row.learnable());
}

}  // namespace
}  // namespace gf::history
