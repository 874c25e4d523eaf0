#include "core/spamd/evaluate.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gf::spamd {
namespace {

const std::string kGtubeMail = "Subject: test\n\nThis is the GTUBE\n" + std::string(kGtube) + "\n";
const std::string kHtmlOnly = "Subject: hi\nContent-Type: text/html\n\n<p>hello there</p>\n";
const std::string kNote = "Subject: lunch\n\nLunch at noon?\n";

Evaluation eval(const Scanner& s, const std::string& raw, ActionPolicy policy = {}) {
  return evaluate(s, mime::parse_message(raw), policy, false);
}

const Header* find(const std::vector<Header>& hs, std::string_view name) {
  for (const Header& h : hs) {
    if (h.name == name) {
      return &h;
    }
  }
  return nullptr;
}

TEST(Evaluate, PlainNoteIsNoAction) {
  const Scanner s;
  const Evaluation e = eval(s, kNote);
  EXPECT_EQ(e.action, Action::NoAction);
  EXPECT_EQ(e.analysis.action, "no action");
  EXPECT_FALSE(e.is_spam());
  EXPECT_TRUE(e.symbol_names().empty());
  EXPECT_EQ(e.required(), 5.0);
}

TEST(Evaluate, SpamBelowRejectScoreAddsHeaders) {
  ScannerOptions o = default_scanner_options();
  o.required_score = 0.4;  // MIME_HTML_ONLY alone (0.5) makes it spam
  const Scanner s(o);
  const Evaluation e = eval(s, kHtmlOnly);
  EXPECT_TRUE(e.is_spam());
  EXPECT_DOUBLE_EQ(e.score(), 0.5);
  EXPECT_EQ(e.action, Action::AddHeaders);
  EXPECT_EQ(e.analysis.action, "add header");
  EXPECT_EQ(e.symbol_names(), std::vector<std::string>{"MIME_HTML_ONLY"});
}

TEST(Evaluate, GtubeRejectsOrWhatTheFrontDoorConfigured) {
  const Scanner s;
  ActionPolicy p;
  EXPECT_EQ(eval(s, kGtubeMail, p).action, Action::Reject);
  p.over_reject = OverReject::Quarantine;
  const Evaluation q = eval(s, kGtubeMail, p);
  EXPECT_EQ(q.action, Action::Quarantine);
  EXPECT_EQ(q.analysis.action, "quarantine");
  p.over_reject = OverReject::Discard;
  EXPECT_EQ(eval(s, kGtubeMail, p).action, Action::Discard);
  // Above the reject score nothing changes for a message under it.
  EXPECT_EQ(eval(s, kNote, p).action, Action::NoAction);
}

TEST(Evaluate, ActionThresholdsAreInclusive) {
  ActionPolicy p;
  p.reject_score = 15.0;
  EXPECT_EQ(action_for(15.0, true, p), Action::Reject);
  EXPECT_EQ(action_for(14.99, true, p), Action::AddHeaders);
  EXPECT_EQ(action_for(4.99, false, p), Action::NoAction);
  // reject_score equal to required_score: spam at the threshold is rejected at once.
  p.reject_score = 5.0;
  EXPECT_EQ(action_for(5.0, true, p), Action::Reject);
  EXPECT_EQ(to_string(Action::AddHeaders), "add header");
  EXPECT_EQ(to_string(Action::Discard), "discard");
}

TEST(Evaluate, EvaluationIsTheScanPlusTheAction) {
  const Scanner s;
  const mime::Message m = mime::parse_message(kGtubeMail);
  const Analysis a = s.scan(m, true);
  ActionPolicy p;
  p.reject_score = 2000.0;
  const Evaluation e = evaluate(s, m, p, true);
  EXPECT_EQ(e.score(), a.score);
  EXPECT_EQ(e.analysis.evidence, a.evidence);
  EXPECT_EQ(e.action, Action::AddHeaders);
  EXPECT_EQ(e.reject_score, 2000.0);
}

TEST(Evaluate, HeadersToAddCarryScoreSymbolsAndAction) {
  const Scanner s;
  const Evaluation e = eval(s, kGtubeMail);
  const std::vector<Header> hs = headers_to_add(e, "greyflux 1 on test", "1", "\r\n");
  ASSERT_NE(find(hs, "X-Spam-Flag"), nullptr);
  EXPECT_EQ(find(hs, "X-Spam-Flag")->value, "YES");
  ASSERT_NE(find(hs, "X-Spam-Status"), nullptr);
  EXPECT_EQ(find(hs, "X-Spam-Status")->value.rfind("Yes, score=1000.0 required=5.0 tests=GTUBE", 0),
            0U);
  ASSERT_NE(find(hs, "X-Spam-Score"), nullptr);
  EXPECT_EQ(find(hs, "X-Spam-Score")->value, "1000.0");
  ASSERT_NE(find(hs, "X-Spam-Symbols"), nullptr);
  EXPECT_EQ(find(hs, "X-Spam-Symbols")->value, "GTUBE");
  ASSERT_NE(find(hs, "X-Spam-Level"), nullptr);
  EXPECT_EQ(find(hs, "X-Spam-Level")->value, std::string(50, '*'));
  ASSERT_NE(find(hs, "X-Spam-Action"), nullptr);
  EXPECT_EQ(find(hs, "X-Spam-Action")->value, "reject");
  // A ham carries no flag; the spamd markup (PROCESS) has no Score/Symbols fields.
  const Evaluation ham = eval(s, kNote);
  EXPECT_EQ(find(headers_to_add(ham, "v", "1"), "X-Spam-Flag"), nullptr);
  EXPECT_EQ(find(markup_headers(ham.analysis, "v", "1", "\n"), "X-Spam-Score"), nullptr);
}

TEST(Evaluate, VerdictPerSpamdMethod) {
  const Scanner s;
  const mime::Message m = mime::parse_message(kGtubeMail);
  Request req;
  req.message = kGtubeMail;
  req.method = Method::Check;
  const Evaluation e = evaluate(s, m, {}, false);
  const Verdict check = make_verdict(req, e, m, "v", "1");
  EXPECT_TRUE(check.is_spam);
  EXPECT_EQ(check.symbols, std::vector<std::string>{"GTUBE"});
  EXPECT_TRUE(check.report.empty());
  EXPECT_TRUE(check.rewritten.empty());
  req.method = Method::Report;
  EXPECT_TRUE(wants_report(req.method));
  const Verdict report = make_verdict(req, evaluate(s, m, {}, true), m, "v", "1");
  EXPECT_NE(report.report.find("GTUBE"), std::string::npos);
  EXPECT_NE(report.report.find("This is the GTUBE"), std::string::npos);  // the preview
  req.method = Method::Process;
  const Verdict process = make_verdict(req, e, m, "v", "1");
  EXPECT_EQ(process.rewritten.rfind("X-Spam-Checker-Version: v\n", 0), 0U);
  EXPECT_NE(process.rewritten.find("X-Spam-Action: reject\n"), std::string::npos);
  EXPECT_TRUE(process.rewritten.ends_with(std::string(kGtube) + "\n"));
}

TEST(Evaluate, PreviewIsOneBoundedLine) {
  const mime::Message m =
      mime::parse_message("Subject: x\n\n  first\n\n\tsecond   third\n" + std::string(500, 'a'));
  const std::string p = text_preview(m);
  EXPECT_EQ(p.rfind("first second third a", 0), 0U);
  EXPECT_LE(p.size(), 200U);
  EXPECT_EQ(p.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace gf::spamd
