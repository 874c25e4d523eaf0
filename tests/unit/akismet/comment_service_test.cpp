// akismet::CommentService on MemoryKv with simulated time and injected ids: no LMDB, no
// sockets, no clock. The store layout (key::), the one-read/one-write check, feedback and the
// training-log replay, the failure policy, and reproducible ids.
#include "core/akismet/comment_service.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/akismet/ids.hpp"
#include "core/akismet/keys.hpp"
#include "core/akismet/records.hpp"
#include "core/common/memory_kv.hpp"
#include "forwarding_kv.hpp"

namespace gf::akismet {
namespace {

const WallTime kStart{std::chrono::milliseconds(1790000000123)};  // 2026-09-21, .123 s

// Counts the store calls a check makes (the hot path: one read, one write).
class CountingKv final : public test::ForwardingKv {
 public:
  Result<std::optional<std::string>> get(std::string_view k) override {
    ++gets;
    return inner.get(k);
  }
  Result<std::vector<std::optional<std::string>>> get_many(
      const std::vector<std::string>& keys) override {
    ++get_manys;
    return inner.get_many(keys);
  }
  Result<void> put(std::string_view k, std::string v) override {
    ++writes;
    return inner.put(k, std::move(v));
  }
  Result<void> erase(std::string_view k) override {
    ++writes;
    return inner.erase(k);
  }
  Result<void> update(std::string_view k, const UpdateFn& fn) override {
    ++writes;
    return inner.update(k, fn);
  }
  Result<void> put_and_update(std::string_view pk, std::string v, std::string_view uk,
                              const UpdateFn& fn) override {
    ++writes;
    return inner.put_and_update(pk, std::move(v), uk, fn);
  }
  void reset() { gets = get_manys = writes = 0; }

  int gets = 0;
  int get_manys = 0;
  int writes = 0;
};

// Keeps the Info and higher lines a service writes.
class RecordingLog final : public LogSink {
 public:
  bool enabled(LogLevel level) const override { return level >= LogLevel::Info; }
  void write(LogLevel level, std::string_view line) override {
    if (enabled(level)) {
      lines.emplace_back(line);
    }
  }
  std::vector<std::string> lines;
};

std::string header(const Reply& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) {
      return v;
    }
  }
  return {};
}

class CommentServiceTest : public ::testing::Test {
 protected:
  CommentServiceTest() { rebuild(); }
  void rebuild(std::uint64_t seed = 7) {
    ids_ = std::make_unique<SplitMix64>(seed);
    secrets_ = std::make_unique<SplitMix64>(seed + 1);
    svc_ = std::make_unique<CommentService>(opts_, kv_, *ids_, *secrets_, log_);
    ASSERT_TRUE(svc_->load().has_value());
  }
  std::string new_key() {
    auto k = svc_->add_key("https://blog.example", to_unix_s(now_));
    EXPECT_TRUE(k.has_value());
    return k.value_or("");
  }
  static std::int64_t to_unix_s(WallTime t) {
    return std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
  }
  Reply post(std::string_view path, const std::string& body) {
    body_ = body;
    return svc_->handle(ApiRequest{"POST", path, "", "localhost", body_}, now_);
  }
  std::string comment(const std::string& key, const std::string& ip, const std::string& text) {
    return "api_key=" + key + "&blog=https%3A%2F%2Fblog.example&user_ip=" + ip +
           "&user_agent=Mozilla%2F5.0&referrer=https%3A%2F%2Fblog.example%2Fp"
           "&comment_type=comment&comment_author=Sam&comment_content=" +
           text;
  }

  ServiceOptions opts_;
  CountingKv kv_;
  RecordingLog log_;
  std::unique_ptr<SplitMix64> ids_;
  std::unique_ptr<SplitMix64> secrets_;
  std::unique_ptr<CommentService> svc_;
  WallTime now_ = kStart;
  std::string body_;
};

TEST_F(CommentServiceTest, ACheckIsOneReadAndOneWriteAndIsStoredUnderItsGuid) {
  const std::string key = new_key();
  kv_.reset();
  const Reply r = post("/1.1/comment-check", comment(key, "192.0.2.1", "Lovely+bread+recipe"));
  EXPECT_EQ(r.body, "false");
  EXPECT_EQ(kv_.get_manys, 1);
  EXPECT_EQ(kv_.gets, 0);
  EXPECT_EQ(kv_.writes, 1);
  // The GUID carries the injected time (UUIDv7: the first 48 bits are Unix ms).
  const std::string guid = header(r, "X-akismet-guid");
  ASSERT_EQ(guid.size(), 36u);
  EXPECT_EQ(guid.substr(0, 13), guid_floor(1790000000123));
  auto stored = kv_.inner.get(key::check(guid)).value();
  ASSERT_TRUE(stored.has_value());
  const CheckRecord rec = decode_check(*stored).value();
  EXPECT_EQ(rec.time_s, 1790000000);
  EXPECT_FALSE(rec.spam);
  auto shown = svc_->show_check(guid);
  ASSERT_TRUE(shown.has_value());
  EXPECT_NE(shown->find("Lovely bread recipe"), std::string::npos);
  // Usage of this key, month and site went up by one.
  const auto usage = kv_.inner.get(key::usage(key, "2026-09", "https://blog.example")).value();
  ASSERT_TRUE(usage.has_value());
  EXPECT_EQ(decode_usage(*usage).value().api_calls, 1u);
}

TEST_F(CommentServiceTest, InjectedRandomnessMakesKeysAndGuidsReproducible) {
  const std::string key = new_key();
  const std::string guid =
      header(post("/1.1/comment-check", comment(key, "192.0.2.1", "Hello")), "X-akismet-guid");
  CountingKv other_kv;
  SplitMix64 ids(7);
  SplitMix64 secrets(8);
  CommentService other(opts_, other_kv, ids, secrets, log_);
  EXPECT_EQ(other.add_key("https://blog.example", 0).value(), key);
  const std::string b = comment(key, "192.0.2.1", "Hello");
  EXPECT_EQ(header(other.handle(ApiRequest{"POST", "/1.1/comment-check", "", "h", b}, kStart),
                   "X-akismet-guid"),
            guid);
  // A different seed: a different key.
  SplitMix64 s2(99);
  CommentService third(opts_, other_kv, ids, s2, log_);
  EXPECT_NE(third.add_key("https://blog.example", 0).value(), key);
}

TEST_F(CommentServiceTest, ListedKeysShowTheirCreationDateInUtc) {
  CountingKv kv;
  SplitMix64 ids(7);
  SplitMix64 secrets(8);
  CommentService svc(opts_, kv, ids, secrets, log_);
  const std::string key = svc.add_key("https://blog.example", 1796617561).value();
  EXPECT_EQ(svc.list_keys().value(), "key\tblog\tcreated\tstate\n" + key +
                                         "\thttps://blog.example\t2026-12-07T04:26:01Z\tactive\n");
}

TEST_F(CommentServiceTest, ReportedSpamIpAndTextFlagTheNextCheck) {
  const std::string key = new_key();
  const std::string spam = comment(key, "203.0.113.9", "Visit+my+shop+for+cheap+watches+today");
  EXPECT_EQ(post("/1.1/comment-check", spam).body, "false");
  EXPECT_EQ(post("/1.1/submit-spam", spam).body, std::string(kThanks));
  const Reply again = post("/1.1/comment-check", spam);
  EXPECT_EQ(again.body, "true");
  const std::string reasons = header(again, "X-Greyflux-Reasons");
  EXPECT_NE(reasons.find("IP_REPORTED_SPAM"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("TEXT_REPORTED_SPAM"), std::string::npos) << reasons;
  // The reputation records sit under the key:: layout.
  EXPECT_TRUE(kv_.inner.get(key::ip("203.0.113.9")).value().has_value());
  EXPECT_TRUE(kv_.inner.get(key::training(1)).value().has_value());
  EXPECT_EQ(svc_->counters().trained.load(), 1u);
}

TEST_F(CommentServiceTest, AStoreFailureAsksTheClientToRetryAndIsCounted) {
  const std::string key = new_key();
  kv_.inner.set_failing(true);
  const Reply r = post("/1.1/comment-check", comment(key, "192.0.2.1", "Hello"));
  EXPECT_EQ(r.body, "invalid");
  EXPECT_NE(header(r, "X-akismet-debug-help").find("retry"), std::string::npos);
  EXPECT_EQ(svc_->counters().store_errors.load(), 1u);
  EXPECT_EQ(post("/1.1/usage-limit", "api_key=" + key).body, "invalid");
  kv_.inner.set_failing(false);
  EXPECT_EQ(post("/1.1/comment-check", comment(key, "192.0.2.1", "Hello")).body, "false");
}

// OnStoreFailure::Heuristics (the daemon's default, for Redis outages): the check is decided
// from the comment alone, says so, and writes nothing; the service is normal once it is back.
TEST_F(CommentServiceTest, AStoreFailureFallsBackToHeuristicsWhenToldAndSaysSo) {
  opts_.on_store_failure = OnStoreFailure::Heuristics;
  rebuild();
  const std::string key = new_key();
  kv_.inner.set_failing(true);
  kv_.reset();
  const Reply r = post("/1.1/comment-check", comment(key, "192.0.2.1", "Hello"));
  EXPECT_EQ(r.body, "false");
  EXPECT_NE(header(r, "X-Greyflux-Reasons").find("STORE_UNAVAILABLE"), std::string::npos)
      << header(r, "X-Greyflux-Reasons");
  EXPECT_EQ(kv_.writes, 0);  // nothing stored while down
  EXPECT_EQ(svc_->counters().store_fallbacks.load(), 1u);
  EXPECT_EQ(svc_->counters().store_errors.load(), 1u);
  // Missing fields are still refused without the store.
  const Reply missing = post("/1.1/comment-check", "api_key=" + key + "&user_ip=192.0.2.1");
  EXPECT_NE(missing.body.find("Missing required field"), std::string::npos) << missing.body;
  kv_.inner.set_failing(false);
  const Reply back = post("/1.1/comment-check", comment(key, "192.0.2.1", "Hello"));
  EXPECT_EQ(back.body, "false");
  EXPECT_EQ(header(back, "X-Greyflux-Reasons").find("STORE_UNAVAILABLE"), std::string::npos);
  EXPECT_EQ(svc_->counters().store_fallbacks.load(), 2u);  // the missing-field one fell back too
}

TEST_F(CommentServiceTest, UsageStartsAgainInANewMonth) {
  const std::string key = new_key();
  for (int i = 0; i < 3; ++i) {
    (void)post("/1.1/comment-check", comment(key, "192.0.2.1", "Hello"));
  }
  EXPECT_NE(post("/1.1/usage-limit", "api_key=" + key).body.find("\"usage\":3"), std::string::npos);
  now_ += std::chrono::days(31);
  EXPECT_NE(post("/1.1/usage-limit", "api_key=" + key).body.find("\"usage\":0"), std::string::npos);
}

TEST_F(CommentServiceTest, ARestartReplaysTheTrainingLogWithoutASnapshot) {
  opts_.model.min_training = 2;
  rebuild();
  const std::string key = new_key();
  for (const char* t : {"cheap+pills+online+pharmacy", "discount+pharmacy+pills+shipped"}) {
    ASSERT_EQ(post("/1.1/submit-spam", comment(key, "198.51.100.1", t)).body, std::string(kThanks));
  }
  for (const char* t : {"sourdough+bread+rye+flour", "lovely+crumb+on+that+loaf"}) {
    ASSERT_EQ(post("/1.1/submit-ham", comment(key, "198.51.100.2", t)).body, std::string(kThanks));
  }
  const std::string probe = comment(key, "192.0.2.50", "pills+from+our+pharmacy");
  const std::string before = header(post("/1.1/comment-check", probe), "X-Greyflux-Reasons");
  ASSERT_NE(before.find("TEXT_CLASSIFIER"), std::string::npos) << before;
  EXPECT_FALSE(kv_.inner.get(key::kModel).value().has_value());  // never saved
  rebuild();  // a "kill -9": a new service over the same store
  const std::string after = header(post("/1.1/comment-check", probe), "X-Greyflux-Reasons");
  EXPECT_NE(after.find("TEXT_CLASSIFIER"), std::string::npos) << after;
  // And from a snapshot: the same opinion.
  ASSERT_TRUE(svc_->save_model().has_value());
  EXPECT_TRUE(kv_.inner.get(key::kModel).value().has_value());
  rebuild();
  EXPECT_EQ(header(post("/1.1/comment-check", probe), "X-Greyflux-Reasons"), after);
}

TEST_F(CommentServiceTest, DeactivateAnswersDeactivatedForAGoodKeyOnly) {
  const std::string key = new_key();
  const Reply r = post("/1.1/deactivate", "key=" + key + "&blog=https%3A%2F%2Fblog.example");
  EXPECT_EQ(r.body, "deactivated");
  ASSERT_FALSE(log_.lines.empty());
  EXPECT_NE(log_.lines.back().find("deactivate blog=https://blog.example"), std::string::npos)
      << log_.lines.back();
  EXPECT_EQ(log_.lines.back().find(key), std::string::npos);     // the key is not logged whole
  EXPECT_EQ(log_.lines.back().find("key="), std::string::npos);  // nor any part of it
  EXPECT_EQ(post("/1.1/deactivate", "key=0123456789ab&blog=b").body, "invalid");
  EXPECT_EQ(post("/1.1/deactivate", "blog=b").body, "invalid");
  // POST only, as the plugin sends it.
  body_.clear();
  EXPECT_EQ(svc_->handle(ApiRequest{"GET", "/1.1/deactivate", "key=" + key, "h", ""}, now_).status,
            405);
}

TEST_F(CommentServiceTest, OverTheUsageLimitEveryReplyToTheKeyCarriesAkismetsAlert) {
  opts_.usage_limit = 2;
  rebuild();
  const std::string key = new_key();
  const std::string blog = "&blog=https%3A%2F%2Fblog.example";
  Reply under = post("/1.1/comment-check", comment(key, "192.0.2.1", "Hello"));
  EXPECT_EQ(header(under, "X-akismet-alert-code"), "");
  (void)post("/1.1/comment-check", comment(key, "192.0.2.1", "Hello"));  // usage 2: at the limit
  EXPECT_EQ(header(post("/1.1/verify-key", "key=" + key + blog), "X-akismet-alert-code"), "");
  // The third call is over: it and every later reply to this key say so.
  const Reply over = post("/1.1/comment-check", comment(key, "192.0.2.1", "Hello"));
  EXPECT_EQ(over.body, "false");  // greyflux keeps answering
  EXPECT_EQ(header(over, "X-akismet-alert-code"), "10501");
  EXPECT_EQ(header(over, "X-akismet-alert-api-calls"), "3");
  EXPECT_EQ(header(over, "X-akismet-alert-usage-limit"), "2");
  EXPECT_NE(header(over, "X-akismet-alert-msg").find("over its limit of 2"), std::string::npos);
  for (const std::string path :
       {"/1.1/verify-key", "/1.1/get-subscription", "/1.1/get-stats", "/1.2/key-sites",
        "/1.2/usage-limit", "/1.1/submit-ham", "/1.1/deactivate"}) {
    const Reply r = post(
        path, path == "/1.1/submit-ham" ? comment(key, "192.0.2.1", "Hello") : "key=" + key + blog);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(header(r, "X-akismet-alert-code"), "10501") << path << " " << r.body;
  }
  // A refused key gets no alert; another key under the limit neither.
  EXPECT_EQ(header(post("/1.1/verify-key", "key=0123456789ab" + blog), "X-akismet-alert-code"), "");
  const std::string other = new_key();
  EXPECT_EQ(header(post("/1.1/verify-key", "key=" + other + blog), "X-akismet-alert-code"), "");
  // A new month starts under the limit again.
  now_ += std::chrono::days(31);
  EXPECT_EQ(header(post("/1.1/verify-key", "key=" + key + blog), "X-akismet-alert-code"), "");
}

TEST_F(CommentServiceTest, NoUsageLimitMeansNoAlertAndNoScan) {
  const std::string key = new_key();
  for (int i = 0; i < 5; ++i) {
    (void)post("/1.1/comment-check", comment(key, "192.0.2.1", "Hello"));
  }
  kv_.reset();
  const Reply r = post("/1.1/comment-check", comment(key, "192.0.2.1", "Hello"));
  EXPECT_EQ(header(r, "X-akismet-alert-code"), "");
  EXPECT_EQ(kv_.get_manys + kv_.gets, 1);  // still one read: the hot path did not grow
}

TEST_F(CommentServiceTest, ARevokedKeyHoldsTheCommentWithXAkismetError) {
  const std::string key = new_key();
  ASSERT_TRUE(svc_->revoke_key(key).has_value());
  const Reply r = post("/1.1/comment-check", comment(key, "192.0.2.1", "Hello"));
  EXPECT_EQ(r.body, "invalid");
  EXPECT_EQ(header(r, "X-akismet-error"), "revoked");
  EXPECT_EQ(header(r, "X-akismet-debug-help"), kRevokedKey);
  // An unknown key is not an error the owner acts on in WordPress: plain invalid.
  const Reply unknown = post("/1.1/comment-check", comment("0123456789ab", "192.0.2.1", "Hello"));
  EXPECT_EQ(unknown.body, "invalid");
  EXPECT_EQ(header(unknown, "X-akismet-error"), "");
  EXPECT_EQ(post("/1.1/verify-key", "key=" + key + "&blog=b").body, "invalid");
}

TEST_F(CommentServiceTest, ARecheckIsStoredWithItsReasonAndContextAndLogged) {
  const std::string key = new_key();
  const std::string body = comment(key, "192.0.2.1", "Hello+again") +
                           "&recheck_reason=recheck_queue&comment_context%5B%5D=bread"
                           "&comment_context%5B%5D=rye";
  const Reply r = post("/1.1/comment-check", body);
  EXPECT_EQ(r.body, "false");
  const std::string guid = header(r, "X-akismet-guid");
  const std::string shown = svc_->show_check(guid).value();
  EXPECT_NE(shown.find("\"recheck_reason\":\"recheck_queue\""), std::string::npos) << shown;
  EXPECT_NE(shown.find("rye"), std::string::npos) << shown;
  ASSERT_FALSE(log_.lines.empty());
  EXPECT_EQ(log_.lines.back(), "comment-check recheck_reason=recheck_queue guid=" + guid +
                                   " verdict=ham blog=https://blog.example");
  // An ordinary check writes no Info line.
  const std::size_t n = log_.lines.size();
  (void)post("/1.1/comment-check", comment(key, "192.0.2.1", "Hello"));
  EXPECT_EQ(log_.lines.size(), n);
}

TEST(CommentKeys, EveryKindHasItsPrefixAndTheTrainingSequenceRoundTrips) {
  EXPECT_EQ(key::api_key("abc"), "k:abc");
  EXPECT_EQ(key::ip("192.0.2.1"), "r:i:192.0.2.1");
  EXPECT_EQ(key::email("a@b.example"), "r:e:a@b.example");
  EXPECT_EQ(key::url_host("b.example"), "r:u:b.example");
  EXPECT_EQ(key::text(0xabc), "r:t:0000000000000abc");
  EXPECT_EQ(key::usage("k1", "2026-11", "site"),
            "u:k1\x1f"
            "2026-11\x1fsite");
  EXPECT_TRUE(key::usage("k1", "2026-11", "site").starts_with(key::usage_prefix("k1", "2026-11")));
  EXPECT_EQ(key::parse_training_seq(key::training(42)), 42u);
  EXPECT_EQ(key::parse_training_seq("t:zz"), std::nullopt);
  EXPECT_EQ(key::parse_training_seq("c:0000000000000001"), std::nullopt);
  EXPECT_LT(key::training(9), key::training(10));  // the log sorts numerically
}

}  // namespace
}  // namespace gf::akismet
