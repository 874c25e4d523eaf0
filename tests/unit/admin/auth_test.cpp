// The admin API's gate on simulated time: header parsing, bearer and cookie authentication,
// CSRF on state-changing calls, session expiry and logout, revocation ending sessions, the
// failed-attempt limiter per peer and global, and store failures.
#include "core/admin/auth.hpp"

#include <gtest/gtest.h>

#include "core/common/memory_kv.hpp"
#include "forwarding_kv.hpp"

namespace gf::admin {
namespace {

using namespace std::chrono_literals;

TEST(AdminAuthParse, FindCookie) {
  EXPECT_EQ(find_cookie("gf_session=abc", "gf_session"), "abc");
  EXPECT_EQ(find_cookie("a=1; gf_session=abc; b=2", "gf_session"), "abc");
  EXPECT_EQ(find_cookie("a=1;gf_session = \"q v\" ;b=2", "gf_session"), "q v");
  EXPECT_EQ(find_cookie("junk; ;=; gf_session=x=y", "gf_session"), "x=y");
  EXPECT_EQ(find_cookie("gf_session=", "gf_session"), "");
  EXPECT_EQ(find_cookie("gf_session=one; gf_session=two", "gf_session"), "one");
  EXPECT_EQ(find_cookie("xgf_session=abc", "gf_session"), std::nullopt);
  EXPECT_EQ(find_cookie("GF_SESSION=abc", "gf_session"), std::nullopt);  // names are exact
  EXPECT_EQ(find_cookie("", "gf_session"), std::nullopt);
  EXPECT_EQ(find_cookie("gf_session", "gf_session"), std::nullopt);
}

TEST(AdminAuthParse, BearerTokenMethodAndPeer) {
  EXPECT_EQ(bearer_token("Bearer gfa_x"), "gfa_x");
  EXPECT_EQ(bearer_token("bearer   gfa_x  "), "gfa_x");
  EXPECT_EQ(bearer_token("BEARER\tgfa_x"), "gfa_x");
  EXPECT_EQ(bearer_token("Bearer"), std::nullopt);
  EXPECT_EQ(bearer_token("Bearer "), std::nullopt);
  EXPECT_EQ(bearer_token("Basic dXNlcjpwdw=="), std::nullopt);
  EXPECT_EQ(bearer_token("Bearergfa_x"), std::nullopt);

  for (std::string_view m : {"POST", "PUT", "PATCH", "DELETE", "FOO"}) {
    EXPECT_TRUE(is_state_changing(m)) << m;
  }
  for (std::string_view m : {"GET", "HEAD", "OPTIONS"}) {
    EXPECT_FALSE(is_state_changing(m)) << m;
  }
  EXPECT_EQ(peer_address("127.0.0.1:40000"), "127.0.0.1");
  EXPECT_EQ(peer_address("[::1]:40000"), "::1");
  EXPECT_EQ(peer_address("::1"), "::1");
  EXPECT_EQ(peer_address("unix"), "unix");
}

TEST(FailureLimiter, PerPeerBurstThenOneMorePerLeakInterval) {
  FailureLimiter lim({3, 60s}, {1000, 1s}, 100);
  const TimePoint t0 = from_unix(1'000'000);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(lim.blocked("10.0.0.1", t0)) << i;
    lim.failed("10.0.0.1", t0);
  }
  auto wait = lim.blocked("10.0.0.1", t0);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 60s);
  EXPECT_FALSE(lim.blocked("10.0.0.2", t0));  // another peer is not affected
  EXPECT_EQ(lim.blocked("10.0.0.1", t0 + 30s), std::optional<Seconds>(30s));
  EXPECT_FALSE(lim.blocked("10.0.0.1", t0 + 60s));  // one more attempt after a minute
  lim.failed("10.0.0.1", t0 + 60s);
  EXPECT_EQ(lim.blocked("10.0.0.1", t0 + 60s), std::optional<Seconds>(60s));
  // Quiet long enough: the whole burst is back.
  const TimePoint later = t0 + 60s + 4 * 60s;
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(lim.blocked("10.0.0.1", later)) << i;
    lim.failed("10.0.0.1", later);
  }
  EXPECT_TRUE(lim.blocked("10.0.0.1", later));
}

TEST(FailureLimiter, GlobalBucketCoversEveryPeer) {
  FailureLimiter lim({100, 60s}, {5, 2s}, 100);
  const TimePoint t0 = from_unix(5000);
  for (int i = 0; i < 5; ++i) {
    lim.failed("10.0.0." + std::to_string(i), t0);
  }
  auto wait = lim.blocked("192.0.2.9", t0);  // never failed itself
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 2s);
  EXPECT_FALSE(lim.blocked("192.0.2.9", t0 + 2s));
}

TEST(FailureLimiter, PeerTableIsBounded) {
  FailureLimiter lim({2, 60s}, {1'000'000, 1s}, 4);
  const TimePoint t0 = from_unix(5000);
  for (int i = 0; i < 50; ++i) {
    lim.failed("10.0.1." + std::to_string(i), t0 + Seconds(i));
    EXPECT_LE(lim.peers(), 4u);
  }
  // The newest peers are the ones kept.
  lim.failed("10.0.1.49", t0 + 49s);
  EXPECT_TRUE(lim.blocked("10.0.1.49", t0 + 49s));
}

class AdminAuthTest : public ::testing::Test {
 protected:
  AdminAuthTest() : tokens_(kv_) { token_ = tokens_.create(setup_rng_, "ops", 1).value().token; }
  Auth make(AuthOptions o = {}) { return Auth(kv_, rng_, o); }
  static Credentials cred(std::string_view method, std::string_view authorization,
                          std::string_view cookie = "", std::string_view csrf = "",
                          std::string_view peer = "127.0.0.1:5000") {
    return Credentials{method, authorization, cookie, csrf, peer};
  }

  MemoryKv kv_;
  SplitMix64 setup_rng_{100};
  SplitMix64 rng_{200};
  TokenStore tokens_;
  std::string token_;
  TimePoint t0_ = from_unix(1'700'000'000);
};

TEST_F(AdminAuthTest, NoCredentialIsUnauthenticatedAndCountsNothing) {
  Auth auth = make({.per_peer = {1, 60s}});
  for (int i = 0; i < 5; ++i) {
    const GateResult r = auth.check(cred("GET", ""), t0_);
    EXPECT_EQ(r.outcome, Outcome::Unauthenticated);
    EXPECT_FALSE(r.stale_cookie);
  }
  EXPECT_EQ(auth.check(cred("GET", "Bearer " + token_), t0_).outcome, Outcome::Allowed);
}

TEST_F(AdminAuthTest, BearerWorksWithoutCsrfAndBadBearerIsRefused) {
  Auth auth = make();
  const GateResult ok = auth.check(cred("DELETE", "Bearer " + token_), t0_);
  EXPECT_EQ(ok.outcome, Outcome::Allowed);
  EXPECT_FALSE(ok.via_cookie);
  EXPECT_EQ(ok.token_id, sha256_hex(token_).substr(0, kTokenIdChars));
  EXPECT_EQ(auth.check(cred("GET", "Bearer gfa_nope"), t0_).outcome, Outcome::Unauthenticated);
  EXPECT_EQ(auth.check(cred("GET", "Basic abc"), t0_).outcome, Outcome::Unauthenticated);
  // An Authorization header decides even when a cookie comes too.
  auto login = auth.login(token_, "127.0.0.1:1", t0_);
  ASSERT_EQ(login.outcome, Outcome::Allowed);
  EXPECT_EQ(auth.check(cred("GET", "Bearer gfa_nope", "gf_session=" + login.session), t0_).outcome,
            Outcome::Unauthenticated);
}

TEST_F(AdminAuthTest, BadBearerTokensAreRateLimitedPerPeerThenLeak) {
  Auth auth = make({.per_peer = {3, 60s}, .global = {1000, 1s}});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(auth.check(cred("GET", "Bearer gfa_bad", "", "", "10.1.1.1:1"), t0_).outcome,
              Outcome::Unauthenticated);
  }
  // Now even the right token is refused from that address, before it is looked at.
  const GateResult limited = auth.check(cred("GET", "Bearer " + token_, "", "", "10.1.1.1:2"), t0_);
  EXPECT_EQ(limited.outcome, Outcome::RateLimited);
  EXPECT_EQ(limited.retry_after, 60s);
  EXPECT_EQ(auth.login(token_, "10.1.1.1:3", t0_).outcome, Outcome::RateLimited);
  // Another address is not limited; after the leak interval this one may try again.
  EXPECT_EQ(auth.check(cred("GET", "Bearer " + token_, "", "", "10.1.1.2:1"), t0_).outcome,
            Outcome::Allowed);
  EXPECT_EQ(auth.check(cred("GET", "Bearer " + token_, "", "", "10.1.1.1:2"), t0_ + 60s).outcome,
            Outcome::Allowed);
}

TEST_F(AdminAuthTest, LoginFailuresCountGloballyToo) {
  Auth auth = make({.per_peer = {100, 60s}, .global = {4, 5s}});
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(auth.login("gfa_bad", "10.2.0." + std::to_string(i) + ":1", t0_).outcome,
              Outcome::Unauthenticated);
  }
  const LoginResult r = auth.login(token_, "10.9.9.9:1", t0_);
  EXPECT_EQ(r.outcome, Outcome::RateLimited);
  EXPECT_EQ(r.retry_after, 5s);
  EXPECT_EQ(auth.login(token_, "10.9.9.9:1", t0_ + 5s).outcome, Outcome::Allowed);
}

TEST_F(AdminAuthTest, SessionCookieNeedsCsrfOnStateChangingCalls) {
  Auth auth = make();
  const LoginResult s = auth.login(token_, "127.0.0.1:1", t0_);
  ASSERT_EQ(s.outcome, Outcome::Allowed);
  EXPECT_TRUE(s.session.starts_with("gfs_"));
  EXPECT_NE(s.csrf, s.session);
  EXPECT_EQ(s.expires, t0_ + 12h);  // the default lifetime
  const std::string cookie = "theme=dark; gf_session=" + s.session;

  const GateResult get = auth.check(cred("GET", "", cookie), t0_ + 1s);
  EXPECT_EQ(get.outcome, Outcome::Allowed);
  EXPECT_TRUE(get.via_cookie);
  EXPECT_EQ(get.csrf, s.csrf);
  EXPECT_EQ(get.expires, s.expires);

  EXPECT_EQ(auth.check(cred("POST", "", cookie), t0_).outcome, Outcome::Csrf);
  EXPECT_EQ(auth.check(cred("DELETE", "", cookie, "wrong"), t0_).outcome, Outcome::Csrf);
  EXPECT_EQ(auth.check(cred("DELETE", "", cookie, s.csrf.substr(1)), t0_).outcome, Outcome::Csrf);
  EXPECT_EQ(auth.check(cred("DELETE", "", cookie, s.csrf), t0_).outcome, Outcome::Allowed);
  // The CSRF token of another session does not do.
  const LoginResult other = auth.login(token_, "127.0.0.1:1", t0_);
  EXPECT_EQ(auth.check(cred("POST", "", cookie, other.csrf), t0_).outcome, Outcome::Csrf);
  EXPECT_EQ(auth.sessions(), 2u);
}

TEST_F(AdminAuthTest, SessionsExpireAndLogoutEndsThem) {
  Auth auth = make({.session_lifetime = 3600s});
  const LoginResult s = auth.login(token_, "127.0.0.1:1", t0_);
  const std::string cookie = "gf_session=" + s.session;
  EXPECT_EQ(auth.check(cred("GET", "", cookie), t0_ + 3599s).outcome, Outcome::Allowed);
  const GateResult expired = auth.check(cred("GET", "", cookie), t0_ + 3600s);
  EXPECT_EQ(expired.outcome, Outcome::Unauthenticated);
  EXPECT_TRUE(expired.stale_cookie);
  EXPECT_EQ(auth.sessions(), 0u);

  const LoginResult s2 = auth.login(token_, "127.0.0.1:1", t0_);
  EXPECT_TRUE(auth.logout("a=b; gf_session=" + s2.session));
  EXPECT_FALSE(auth.logout("gf_session=" + s2.session));
  EXPECT_FALSE(auth.logout(""));
  EXPECT_EQ(auth.check(cred("GET", "", "gf_session=" + s2.session), t0_).outcome,
            Outcome::Unauthenticated);
}

TEST_F(AdminAuthTest, StaleCookiesDoNotCountAsFailures) {
  Auth auth = make({.per_peer = {2, 60s}, .global = {2, 60s}});
  for (int i = 0; i < 10; ++i) {
    const GateResult r = auth.check(cred("GET", "", "gf_session=gfs_old"), t0_);
    EXPECT_EQ(r.outcome, Outcome::Unauthenticated);
    EXPECT_TRUE(r.stale_cookie);
  }
  EXPECT_EQ(auth.login(token_, "127.0.0.1:1", t0_).outcome, Outcome::Allowed);
}

TEST_F(AdminAuthTest, RevokingTheTokenEndsItsSessionsAtOnce) {
  Auth auth = make();
  const LoginResult s = auth.login(token_, "127.0.0.1:1", t0_);
  const std::string cookie = "gf_session=" + s.session;
  ASSERT_EQ(auth.check(cred("GET", "", cookie), t0_).outcome, Outcome::Allowed);
  ASSERT_TRUE(tokens_.revoke("ops"));
  EXPECT_EQ(auth.check(cred("GET", "", cookie), t0_).outcome, Outcome::Unauthenticated);
  EXPECT_EQ(auth.check(cred("GET", "Bearer " + token_), t0_).outcome, Outcome::Unauthenticated);
  EXPECT_EQ(auth.sessions(), 0u);
}

TEST_F(AdminAuthTest, SessionTableIsBoundedOldestFirst) {
  Auth auth = make({.max_sessions = 3});
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(auth.login(token_, "127.0.0.1:1", t0_ + Seconds(i)).session);
    EXPECT_LE(auth.sessions(), 3u);
  }
  EXPECT_EQ(auth.check(cred("GET", "", "gf_session=" + ids[0]), t0_ + 5s).outcome,
            Outcome::Unauthenticated);
  EXPECT_EQ(auth.check(cred("GET", "", "gf_session=" + ids[4]), t0_ + 5s).outcome,
            Outcome::Allowed);
}

// A KvStore whose reads fail on demand (Redis down).
class FlakyKv final : public test::ForwardingKv {
 public:
  Result<std::optional<std::string>> get(std::string_view key) override {
    if (down) {
      return fail(Errc::StoreFailure, "store down");
    }
    return inner.get(key);
  }
  Result<void> flush() override { return {}; }

  bool down = false;
};

TEST(AdminAuthStore, StoreFailureIsNeitherAllowedNorCountedAsAFailure) {
  FlakyKv kv;
  SplitMix64 rng(5);
  TokenStore tokens(kv);
  const std::string token = tokens.create(rng, "", 1).value().token;
  Auth auth(kv, rng, AuthOptions{.per_peer = {1, 60s}});
  const TimePoint now = from_unix(100);
  const LoginResult s = auth.login(token, "127.0.0.1:1", now);
  ASSERT_EQ(s.outcome, Outcome::Allowed);
  kv.down = true;
  for (int i = 0; i < 3; ++i) {
    const GateResult r = auth.check({"GET", "Bearer " + token, "", "", "127.0.0.1:1"}, now);
    EXPECT_EQ(r.outcome, Outcome::StoreFailure);
    EXPECT_EQ(r.error, "store down");
  }
  EXPECT_EQ(auth.check({"GET", "", "gf_session=" + s.session, "", "127.0.0.1:1"}, now).outcome,
            Outcome::StoreFailure);
  EXPECT_EQ(auth.login(token, "127.0.0.1:1", now).outcome, Outcome::StoreFailure);
  kv.down = false;
  EXPECT_EQ(auth.check({"GET", "Bearer " + token, "", "", "127.0.0.1:1"}, now).outcome,
            Outcome::Allowed);
}

}  // namespace
}  // namespace gf::admin
