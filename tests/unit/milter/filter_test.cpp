// The milter decision layer on simulated time: the real greylist core over a MemoryStore, the
// real spamd scan path (a "X-Test-Score: N" header adds N points, so tests can place a message
// in the grey band), bytes in and replies out exactly as an MTA would see them.
#include "core/milter/filter.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include "core/greylist/memory_store.hpp"
#include "core/spamd/scanner.hpp"

namespace gf::milter {
namespace {

constexpr std::uint32_t kAllActions = 0x1ff;
constexpr std::uint32_t kAllSteps = 0x1fffff;
const std::string kGtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

struct Reply {
  char code;
  std::string payload;
};

std::vector<Reply> replies_of(std::string_view out) {
  std::vector<Reply> r;
  while (out.size() >= 5) {
    const auto* p = reinterpret_cast<const unsigned char*>(out.data());
    const std::size_t len = (std::size_t(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
    r.push_back(Reply{out[4], std::string(out.substr(5, len - 1))});
    out.remove_prefix(4 + len);
  }
  EXPECT_TRUE(out.empty()) << "a partial reply packet";
  return r;
}

std::string text_of(const Reply& r) {  // REPLYCODE payload without its NUL
  return r.payload.empty() ? "" : r.payload.substr(0, r.payload.size() - 1);
}

class MilterFilter : public ::testing::Test {
 protected:
  MilterFilter() {
    auto pol = std::make_shared<greylist::Policy>();
    pol->settings.delay = Seconds(300);
    pol->settings.auto_whitelist_after = 0;
    pol->settings.domain_auto_whitelist_after = 0;
    pol->settings.text = "Greylisted for %s seconds";
    policy_ = pol;
    greylist_ = std::make_unique<greylist::Greylist>(policy_, store_, nullptr);
    greylist_->set_flux_agents([](const IpAddress& ip) { return to_string(ip) == "192.0.2.66"; });
    config_ = std::make_shared<FilterConfig>();
    config_->version = "test";
    make_filter();
  }

  void make_filter(Limits limits = {}) {
    FilterPorts ports;
    ports.check_client = [this](std::string_view a, std::string_view n) {
      return greylist_->check_client(a, n);
    };
    ports.check_recipient = [this](const policy::Request& r, TimePoint now) {
      if (store_down_) {
        return greylist::Decision{greylist::Action::Dunno, greylist::Reason::StoreFailure, "DUNNO",
                                  0, "disk on fire"};
      }
      return greylist_->check(r, now);
    };
    ports.scan = [this](std::string_view raw) -> Result<spamd::Evaluation> {
      scanned_.emplace_back(raw);
      if (scanner_down_) {
        return fail(Errc::Io, "scanner gone");
      }
      const mime::Message m = mime::parse_message(raw);
      spamd::ActionPolicy ap;
      ap.reject_score = 15.0;
      spamd::Evaluation e = spamd::evaluate(scanner_, m, ap, false);
      if (const auto pos = raw.find("X-Test-Score: "); pos != std::string_view::npos) {
        double extra = 0;
        const char* b = raw.data() + pos + 14;
        std::from_chars(b, raw.data() + raw.size(), extra);
        e.analysis.symbols.push_back({"TEST_SCORE", extra, "test"});
        e.analysis.score += extra;
        e.analysis.is_spam = e.analysis.score >= e.analysis.required;
        e.action = spamd::action_for(e.analysis.score, e.analysis.is_spam, ap);
      }
      return e;
    };
    filter_ = std::make_unique<Filter>(ports, config_, limits);
  }

  void set_config(void (*edit)(FilterConfig&)) {
    auto c = std::make_shared<FilterConfig>(*config_);
    edit(*c);
    config_ = c;
    filter_->set_config(c);
  }

  // One MTA connection; each call sends commands and returns the replies.
  struct Mta {
    MilterFilter& t;
    Conversation conv;
    Mta(MilterFilter& test, std::string peer) : t(test), conv(*test.filter_, std::move(peer)) {}
    std::vector<Reply> send(const std::vector<Command>& cmds) {
      std::string in;
      for (const Command& c : cmds) {
        in += encode_command(c);
      }
      std::string out;
      const FeedResult r = conv.feed(in, out, t.now_);
      EXPECT_EQ(r.status, FeedStatus::Continue) << r.error;
      EXPECT_TRUE(in.empty());
      return replies_of(out);
    }
  };

  std::unique_ptr<Mta> connect(const std::string& ip, const std::string& peer = "mta:1") {
    auto m = std::make_unique<Mta>(*this, peer);
    auto r = m->send({OptionNegotiation{6, kAllActions, kAllSteps}});
    EXPECT_EQ(r.size(), 1u);
    last_connect_ = m->send({Connect{"mx.sender.test", Family::Inet, 25, ip}});
    return m;
  }

  // MAIL, RCPT(s): the RCPT replies.
  static std::vector<Reply> envelope(Mta& m, const std::string& from,
                                     const std::vector<std::string>& rcpts) {
    auto r = m.send({Helo{"mx.sender.test"}, Mail{{"<" + from + ">"}}});
    EXPECT_EQ(r.size(), 2u);
    std::vector<Reply> out;
    for (const auto& rc : rcpts) {
      auto one = m.send({Rcpt{{"<" + rc + ">"}}});
      EXPECT_EQ(one.size(), 1u);
      out.insert(out.end(), one.begin(), one.end());
    }
    return out;
  }

  // Headers, end of headers, body, end of message: the end-of-message replies.
  static std::vector<Reply> content(Mta& m, const std::vector<Header>& headers,
                                    const std::string& body) {
    std::vector<Command> cmds = {Data{}};
    for (const auto& h : headers) {
      cmds.push_back(h);
    }
    cmds.push_back(EndOfHeaders{});
    cmds.push_back(Body{body});
    cmds.push_back(EndOfMessage{});
    return m.send(cmds);
  }

  static std::vector<Header> plain_headers(const std::string& extra_name = "",
                                           const std::string& extra_value = "") {
    std::vector<Header> h = {{"From", "a@sender.test"},
                             {"To", "user@example.test"},
                             {"Subject", "lunch"},
                             {"Message-ID", "<1@sender.test>"}};
    if (!extra_name.empty()) {
      h.push_back({extra_name, extra_value});
    }
    return h;
  }

  static std::optional<std::string> added(const std::vector<Reply>& r, const std::string& name) {
    for (const Reply& x : r) {
      if (x.code == reply::kAddHeader && x.payload.starts_with(name + '\0')) {
        std::string v = x.payload.substr(name.size() + 1);
        return v.substr(0, v.size() - 1);
      }
    }
    return std::nullopt;
  }

  void time_passes(int s) { now_ += Seconds(s); }

  greylist::MemoryStore store_;
  std::shared_ptr<const greylist::Policy> policy_;
  std::unique_ptr<greylist::Greylist> greylist_;
  spamd::Scanner scanner_;
  std::shared_ptr<FilterConfig> config_;
  std::unique_ptr<Filter> filter_;
  TimePoint now_ = TimePoint(Seconds(1'800'000'000));
  std::vector<std::string> scanned_;
  std::vector<Reply> last_connect_;
  bool store_down_ = false;
  bool scanner_down_ = false;
};

TEST_F(MilterFilter, NegotiatesWhatGreyfluxWants) {
  Mta m(*this, "p");
  auto r = m.send({OptionNegotiation{6, kAllActions, kAllSteps}});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].code, reply::kOptionNegotiation);
  EXPECT_EQ(m.conv.session().agreed(), Filter::wants());
}

TEST_F(MilterFilter, FluxAgentIsTempfailedAtConnect) {
  auto m = connect("192.0.2.66");
  ASSERT_EQ(last_connect_.size(), 1u);
  EXPECT_EQ(last_connect_[0].code, reply::kReplyCode);
  EXPECT_EQ(text_of(last_connect_[0]), "451 4.7.1 Client host serves a fast-flux network");
  EXPECT_EQ(filter_->counters().connect_deferred.load(), 1u);
  auto other = connect("192.0.2.7");
  ASSERT_EQ(last_connect_.size(), 1u);
  EXPECT_EQ(last_connect_[0].code, reply::kContinue);
}

TEST_F(MilterFilter, FluxAgentIsRejectedWhenConfiguredSo) {
  auto pol = std::make_shared<greylist::Policy>(*policy_);
  pol->settings.flux_agents = greylist::Settings::FluxAgents::Reject;
  greylist_->set_policy(pol);
  auto m = connect("192.0.2.66");
  ASSERT_EQ(last_connect_.size(), 1u);
  EXPECT_EQ(text_of(last_connect_[0]), "550 5.7.1 Client host serves a fast-flux network");
  EXPECT_EQ(filter_->counters().connect_rejected.load(), 1u);
}

TEST_F(MilterFilter, FluxAgentOnTheClientWhitelistPasses) {
  auto pol = std::make_shared<greylist::Policy>(*policy_);
  ASSERT_TRUE(pol->clients.add_entry("192.0.2.66"));
  greylist_->set_policy(pol);
  auto m = connect("192.0.2.66");
  ASSERT_EQ(last_connect_.size(), 1u);
  EXPECT_EQ(last_connect_[0].code, reply::kContinue);
}

TEST_F(MilterFilter, AlwaysModeGreylistsAtRcptAsThePolicyServer) {
  auto m = connect("198.51.100.9");
  auto r = envelope(*m, "a@sender.test", {"user@example.test"});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].code, reply::kReplyCode);
  EXPECT_EQ(text_of(r[0]), "451 4.7.1 Greylisted for 300 seconds");
  EXPECT_EQ(filter_->counters().rcpt_greylisted.load(), 1u);

  time_passes(100);  // an early retry: still deferred, the clock is not restarted
  auto early = connect("198.51.100.9", "mta:2");
  r = envelope(*early, "a@sender.test", {"user@example.test"});
  EXPECT_EQ(text_of(r[0]), "451 4.7.1 Greylisted for 200 seconds");

  time_passes(200);
  auto retry = connect("198.51.100.9", "mta:3");
  r = envelope(*retry, "a@sender.test", {"user@example.test"});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].code, reply::kContinue);
  auto eom = content(*retry, plain_headers(), "hello\r\n");
  const auto header = added(eom, "X-Greylist");
  ASSERT_TRUE(header);
  EXPECT_TRUE(header->starts_with("delayed 300 seconds by greyflux-")) << *header;
  EXPECT_EQ(eom.back().code, reply::kContinue);
}

TEST_F(MilterFilter, AlwaysModeSharesTheStoreWithThePolicyServer) {
  // The policy server saw the triplet 300 s ago: the milter passes it.
  policy::Request req;
  req.protocol_state = "RCPT";
  req.client_address = "198.51.100.9";
  req.client_name = "unknown";
  req.sender = "a@sender.test";
  req.recipient = "user@example.test";
  EXPECT_EQ(greylist_->check(req, now_).action, greylist::Action::Defer);
  time_passes(300);
  auto m = connect("198.51.100.9");
  auto r = envelope(*m, "a@sender.test", {"user@example.test"});
  EXPECT_EQ(r[0].code, reply::kContinue);
}

TEST_F(MilterFilter, GtubeIsRejectedAtEndOfMessage) {
  set_config([](FilterConfig& c) { c.mode = GreylistMode::Off; });
  auto m = connect("198.51.100.9");
  envelope(*m, "a@sender.test", {"user@example.test"});
  auto r = content(*m, plain_headers(), "this is " + kGtube + "\r\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].code, reply::kReplyCode);
  EXPECT_EQ(text_of(r[0]), "550 5.7.1 Message rejected as spam (score 1000.0)");
  EXPECT_EQ(filter_->counters().rejected.load(), 1u);
}

TEST_F(MilterFilter, CleanMessageGetsTheSpamHeadersAndForgedOnesRemoved) {
  set_config([](FilterConfig& c) { c.mode = GreylistMode::Off; });
  auto m = connect("198.51.100.9");
  envelope(*m, "a@sender.test", {"user@example.test"});
  auto r = content(*m, plain_headers("X-Spam-Status", "No, forged"), "lunch at noon?\r\n");
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r.back().code, reply::kContinue);
  ASSERT_TRUE(added(r, "X-Spam-Status"));
  EXPECT_TRUE(added(r, "X-Spam-Status")->starts_with("No, score=0.0 required=5.0"))
      << *added(r, "X-Spam-Status");
  EXPECT_EQ(*added(r, "X-Spam-Score"), "0.0");
  EXPECT_TRUE(added(r, "X-Spam-Symbols"));
  // The incoming X-Spam-Status (occurrence 1) is deleted before ours is added.
  ASSERT_EQ(r[0].code, reply::kChangeHeader);
  EXPECT_EQ(r[0].payload, std::string("\0\0\0\1X-Spam-Status\0\0", 19));
  // What the scanner saw: the headers, a blank line, the body.
  ASSERT_EQ(scanned_.size(), 1u);
  EXPECT_NE(scanned_[0].find("Subject: lunch\r\n"), std::string::npos);
  EXPECT_NE(scanned_[0].find("\r\n\r\nlunch at noon?\r\n"), std::string::npos);
}

TEST_F(MilterFilter, OverRejectCanQuarantineOrDiscard) {
  set_config([](FilterConfig& c) {
    c.mode = GreylistMode::Off;
    c.over_reject = spamd::OverReject::Quarantine;
  });
  auto m = connect("198.51.100.9");
  envelope(*m, "a@sender.test", {"user@example.test"});
  auto r = content(*m, plain_headers(), kGtube);
  ASSERT_GE(r.size(), 2u);
  EXPECT_EQ(r[r.size() - 2].code, reply::kQuarantine);
  EXPECT_EQ(r.back().code, reply::kContinue);
  EXPECT_TRUE(added(r, "X-Spam-Flag"));
  set_config([](FilterConfig& c) { c.over_reject = spamd::OverReject::Discard; });
  envelope(*m, "a@sender.test", {"user@example.test"});
  r = content(*m, plain_headers(), kGtube);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].code, reply::kDiscard);
  EXPECT_EQ(filter_->counters().quarantined.load(), 1u);
  EXPECT_EQ(filter_->counters().discarded.load(), 1u);
}

TEST_F(MilterFilter, SuspiciousModeDefersOnlyTheGreyBand) {
  set_config([](FilterConfig& c) {
    c.mode = GreylistMode::Suspicious;
    c.grey_min = 3.0;
    c.grey_max = 15.0;
  });
  auto m = connect("198.51.100.9");
  // A new triplet is not deferred at RCPT.
  auto r = envelope(*m, "a@sender.test", {"user@example.test"});
  EXPECT_EQ(r[0].code, reply::kContinue);
  // A clean score passes at once.
  r = content(*m, plain_headers(), "lunch\r\n");
  EXPECT_EQ(r.back().code, reply::kContinue);
  // A grey-band score from an unknown triplet is tempfailed as greylisted at end of message.
  envelope(*m, "b@sender.test", {"user@example.test"});
  r = content(*m, plain_headers("X-Test-Score", "4.0"), "cheap pills\r\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(text_of(r[0]), "451 4.7.1 Greylisted for 300 seconds");
  EXPECT_EQ(filter_->counters().grey_deferred.load(), 1u);
  // Scores at the band's edges: grey_max itself is out of it (tagged spam, delivered).
  envelope(*m, "c@sender.test", {"user@example.test"});
  r = content(*m, plain_headers("X-Test-Score", "15.0"), "x\r\n");
  EXPECT_EQ(r[0].code, reply::kReplyCode);  // 15 is the reject score
  envelope(*m, "d@sender.test", {"user@example.test"});
  r = content(*m, plain_headers("X-Test-Score", "2.9"), "x\r\n");
  EXPECT_EQ(r.back().code, reply::kContinue);
  // The retry after the delay passes with X-Greylist.
  time_passes(300);
  envelope(*m, "b@sender.test", {"user@example.test"});
  r = content(*m, plain_headers("X-Test-Score", "4.0"), "cheap pills\r\n");
  EXPECT_EQ(r.back().code, reply::kContinue);
  EXPECT_TRUE(added(r, "X-Greylist"));
  EXPECT_EQ(filter_->counters().grey_passed.load(), 1u);
  // The triplet is known now: a grey-band message passes at once, no header.
  envelope(*m, "b@sender.test", {"user@example.test"});
  r = content(*m, plain_headers("X-Test-Score", "6.0"), "more pills\r\n");
  EXPECT_EQ(r.back().code, reply::kContinue);
  EXPECT_FALSE(added(r, "X-Greylist"));
  EXPECT_EQ(*added(r, "X-Spam-Flag"), "YES");
}

TEST_F(MilterFilter, SuspiciousModeDefersWhenAnyRecipientIsNew) {
  set_config([](FilterConfig& c) { c.mode = GreylistMode::Suspicious; });
  auto m = connect("198.51.100.9");
  envelope(*m, "a@sender.test", {"one@example.test"});
  auto r = content(*m, plain_headers("X-Test-Score", "4.0"), "x\r\n");
  EXPECT_EQ(r[0].code, reply::kReplyCode);
  time_passes(400);
  envelope(*m, "a@sender.test", {"one@example.test", "two@example.test"});
  r = content(*m, plain_headers("X-Test-Score", "4.0"), "x\r\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(text_of(r[0]), "451 4.7.1 Greylisted for 300 seconds");
}

TEST_F(MilterFilter, ScannerTroubleGivesTheFallback) {
  set_config([](FilterConfig& c) { c.mode = GreylistMode::Off; });
  scanner_down_ = true;
  auto m = connect("198.51.100.9");
  envelope(*m, "a@sender.test", {"user@example.test"});
  auto r = content(*m, plain_headers(), "x\r\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].code, reply::kContinue);
  set_config([](FilterConfig& c) { c.on_failure = Fallback::Tempfail; });
  envelope(*m, "a@sender.test", {"user@example.test"});
  r = content(*m, plain_headers(), "x\r\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(text_of(r[0]), kScanFailReply);
  EXPECT_EQ(filter_->counters().scan_failures.load(), 2u);
  EXPECT_EQ(filter_->counters().fallback_tempfails.load(), 1u);
}

TEST_F(MilterFilter, StoreTroubleGivesTheFallback) {
  store_down_ = true;
  auto m = connect("198.51.100.9");
  auto r = envelope(*m, "a@sender.test", {"user@example.test"});
  EXPECT_EQ(r[0].code, reply::kContinue);
  set_config([](FilterConfig& c) { c.on_failure = Fallback::Tempfail; });
  r = envelope(*m, "a@sender.test", {"user@example.test"});
  EXPECT_EQ(text_of(r[0]), kStoreFailReply);
  set_config([](FilterConfig& c) { c.mode = GreylistMode::Suspicious; });
  envelope(*m, "a@sender.test", {"user@example.test"});
  r = content(*m, plain_headers("X-Test-Score", "4.0"), "x\r\n");
  EXPECT_EQ(text_of(r[0]), kStoreFailReply);
  EXPECT_EQ(filter_->counters().store_failures.load(), 3u);
}

TEST_F(MilterFilter, AbortAndTwoMessagesKeepContentApart) {
  set_config([](FilterConfig& c) { c.mode = GreylistMode::Off; });
  auto m = connect("198.51.100.9");
  envelope(*m, "a@sender.test", {"user@example.test"});
  m->send({Data{}, Header{"Subject", "first"}, EndOfHeaders{}, Body{"aborted body\r\n"}, Abort{}});
  envelope(*m, "a@sender.test", {"user@example.test"});
  content(*m, {{"Subject", "second"}}, "second body\r\n");
  envelope(*m, "a@sender.test", {"user@example.test"});
  content(*m, {{"Subject", "third"}}, "third body\r\n");
  ASSERT_EQ(scanned_.size(), 2u);
  EXPECT_EQ(scanned_[0], "Subject: second\r\n\r\nsecond body\r\n");
  EXPECT_EQ(scanned_[1], "Subject: third\r\n\r\nthird body\r\n");
  EXPECT_EQ(filter_->counters().aborted.load(), 1u);
  EXPECT_EQ(filter_->counters().messages.load(), 2u);
}

TEST_F(MilterFilter, MessageOverTheScanLimitPassesUnscanned) {
  set_config([](FilterConfig& c) {
    c.mode = GreylistMode::Off;
    c.max_scan_bytes = 1000;
  });
  auto m = connect("198.51.100.9");
  envelope(*m, "a@sender.test", {"user@example.test"});
  auto r = content(*m, plain_headers(), std::string(2000, 'x') + kGtube);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].code, reply::kContinue);
  EXPECT_TRUE(scanned_.empty());
  EXPECT_EQ(filter_->counters().unscanned_large.load(), 1u);
}

TEST_F(MilterFilter, MessageOverTheSizeLimitGets552) {
  Limits l;
  l.max_message_bytes = 500;
  make_filter(l);
  set_config([](FilterConfig& c) { c.mode = GreylistMode::Off; });
  auto m = connect("198.51.100.9");
  envelope(*m, "a@sender.test", {"user@example.test"});
  auto r = content(*m, plain_headers(), std::string(600, 'x'));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(text_of(r[0]), "552 5.3.4 Message size exceeds fixed limit");
  EXPECT_EQ(filter_->counters().too_large.load(), 1u);
}

TEST_F(MilterFilter, BadPacketIsAnErrorAndPartialPacketWaits) {
  Conversation c(*filter_, "p");
  std::string in = encode_command(OptionNegotiation{6, kAllActions, kAllSteps});
  std::string out;
  in += std::string("\0\0\0\2Z", 5);  // the start of an unknown command: waits for its byte
  EXPECT_EQ(c.feed(in, out, now_).status, FeedStatus::Continue);
  EXPECT_EQ(in.size(), 5u);
  in += "z";
  const FeedResult r = c.feed(in, out, now_);
  EXPECT_EQ(r.status, FeedStatus::Error);
  EXPECT_FALSE(r.error.empty());
  EXPECT_EQ(filter_->counters().protocol_errors.load(), 1u);
}

TEST_F(MilterFilter, QuitCloses) {
  Conversation c(*filter_, "p");
  std::string in = encode_command(OptionNegotiation{6, kAllActions, kAllSteps}) +
                   encode_command(Quit{}) + encode_command(Helo{"after"});
  std::string out;
  EXPECT_EQ(c.feed(in, out, now_).status, FeedStatus::Close);
  EXPECT_EQ(replies_of(out).size(), 1u);
}

TEST(MilterFilterSettings, ParsersNameTheSetting) {
  EXPECT_EQ(*parse_greylist_mode("suspicious"), GreylistMode::Suspicious);
  EXPECT_EQ(*parse_fallback("tempfail"), Fallback::Tempfail);
  EXPECT_EQ(*parse_over_reject("discard"), spamd::OverReject::Discard);
  EXPECT_NE(parse_greylist_mode("sometimes").error().message.find("greylist.mode"),
            std::string::npos);
  EXPECT_FALSE(parse_fallback("shrug"));
  EXPECT_FALSE(parse_over_reject("bounce"));
}

}  // namespace
}  // namespace gf::milter
