#pragma once
// The admin API's gate: who may call /api/v1 (docs/api.md, "Authentication").
//
// A request is authenticated either by `Authorization: Bearer <admin token>` (scripts; exempt
// from CSRF, as no browser attaches it by itself) or by the session cookie `gf_session` that
// POST /api/v1/login hands out in exchange for a token (the dashboard). A cookie-authenticated
// POST/PUT/PATCH/DELETE must also carry `X-CSRF-Token` equal to its session's CSRF token.
// Sessions live in this process's memory (a restart logs everyone out) and end at their
// absolute expiry, at logout, or as soon as the token they came from is revoked (checked on
// every request: one store get). Session ids and CSRF tokens are 256-bit secrets from the
// injected RandomSource; the table is keyed by the SHA-256 of the session id.
//
// Failed token attempts (a bad bearer token, a bad login token) fill a leaky bucket per peer
// address and one for everybody: `burst` failures are allowed, then one more per `leak`
// interval. While a bucket is full every token attempt it covers is answered RateLimited with
// the seconds until the next one is allowed, before any token is looked at. A request with no
// credential, or with an unknown or expired session cookie (a 256-bit secret nobody guesses;
// a stale cookie after a restart must not lock its browser out), is Unauthenticated and
// counts nothing; the adapter then clears the stale cookie.
//
// Flow: the HTTP adapter passes the headers and the peer address to check()/login()/logout()
// with the wall clock, and turns the Outcome into 401/403/429/503. Time is always an argument.
// Threading: every method is safe from any thread (one mutex guards the sessions and buckets;
// it is not held across store calls). Errors: a store failure is Outcome::StoreFailure with the
// store's message; nothing throws.
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/admin/tokens.hpp"
#include "core/common/kv_store.hpp"
#include "core/common/random.hpp"
#include "core/common/time.hpp"

namespace gf::admin {

inline constexpr std::string_view kSessionCookie = "gf_session";

// The value of cookie `name` in a Cookie header ("a=1; gf_session=xyz"), nullopt if absent.
// Tolerates spaces around ';' and '=', quoted values, and junk between pairs.
[[nodiscard]] std::optional<std::string_view> find_cookie(std::string_view header,
                                                          std::string_view name);
// The token of an "Authorization: Bearer <token>" value (scheme case-insensitive), else nullopt.
[[nodiscard]] std::optional<std::string_view> bearer_token(std::string_view authorization);
// POST, PUT, PATCH, DELETE (anything but GET, HEAD, OPTIONS): needs the CSRF header.
[[nodiscard]] bool is_state_changing(std::string_view method);
// "127.0.0.1:40000" -> "127.0.0.1", "[::1]:40000" -> "::1"; anything else as given.
[[nodiscard]] std::string_view peer_address(std::string_view peer);

struct LeakyBucketLimits {
  int burst = 10;    // failures allowed at once
  Seconds leak{60};  // then one more per this interval
};

// Failure buckets per key and one global; bounded (the oldest-updated key goes first).
class FailureLimiter {
 public:
  FailureLimiter(LeakyBucketLimits per_peer, LeakyBucketLimits global, std::size_t max_peers);
  // Seconds until `peer` may try again; nullopt when it may now.
  [[nodiscard]] std::optional<Seconds> blocked(std::string_view peer, TimePoint now);
  void failed(std::string_view peer, TimePoint now);
  [[nodiscard]] std::size_t peers() const { return peers_.size(); }

 private:
  // GCRA: `tat` is when the bucket is empty again; each failure adds one `leak` to it.
  struct Bucket {
    TimePoint tat{};
  };
  static std::optional<Seconds> wait_of(const Bucket& b, const LeakyBucketLimits& l, TimePoint now);
  static void add_failure(Bucket& b, const LeakyBucketLimits& l, TimePoint now);
  void make_room(TimePoint now);

  LeakyBucketLimits per_peer_;
  LeakyBucketLimits global_limits_;
  std::size_t max_peers_;
  Bucket global_;
  std::unordered_map<std::string, Bucket> peers_;
};

struct AuthOptions {
  Seconds session_lifetime{std::chrono::hours(12)};
  std::size_t max_sessions = 1000;  // the oldest session is dropped to make room
  LeakyBucketLimits per_peer{10, Seconds(60)};
  LeakyBucketLimits global{100, Seconds(1)};
  std::size_t max_peers = 10000;
};

enum class Outcome { Allowed, Unauthenticated, Csrf, RateLimited, StoreFailure };

struct GateResult {
  Outcome outcome = Outcome::Unauthenticated;
  bool via_cookie = false;    // Allowed: by session cookie (else bearer)
  std::string token_id;       // Allowed: the token's id (safe to log)
  std::string csrf;           // Allowed via cookie: the session's CSRF token
  TimePoint expires{};        // Allowed via cookie: the session's end
  Seconds retry_after{0};     // RateLimited
  std::string error;          // StoreFailure: the store's message
  bool stale_cookie = false;  // Unauthenticated: a session cookie came that is no (more) good
};

// What check() reads from a request: header values as sent (empty when absent).
struct Credentials {
  std::string_view method;
  std::string_view authorization;
  std::string_view cookie;
  std::string_view csrf;
  std::string_view peer;  // "ADDR:PORT" as the server gives it
};

struct LoginResult {
  Outcome outcome = Outcome::Unauthenticated;
  std::string session;  // Allowed: the cookie value (shown once)
  std::string csrf;
  TimePoint expires{};
  std::string token_id;
  Seconds retry_after{0};
  std::string error;
};

class Auth {
 public:
  Auth(KvStore& kv, RandomSource& rng, AuthOptions opts);

  // The gate of every /api/v1 request other than login.
  [[nodiscard]] GateResult check(const Credentials& c, TimePoint now);
  // POST /api/v1/login: a token for a new session.
  [[nodiscard]] LoginResult login(std::string_view token, std::string_view peer, TimePoint now);
  // Ends the session of this Cookie header, if any; true when one ended.
  bool logout(std::string_view cookie_header);
  [[nodiscard]] std::size_t sessions();
  [[nodiscard]] TokenStore& tokens() { return tokens_; }

 private:
  struct Session {
    std::string token_hash;
    std::string token_id;
    std::string csrf;
    TimePoint created{};
    TimePoint expires{};
  };
  // A token presented by `peer`, rate limited per address: the outcome (Allowed with the
  // token's info; RateLimited, StoreFailure or Unauthenticated, a failure counted) for
  // check_bearer() and login() alike.
  struct TokenCheck {
    Outcome outcome = Outcome::Unauthenticated;
    std::optional<TokenInfo> info;
    Seconds retry_after{0};
    std::string error;
  };
  TokenCheck verify_limited(std::string_view token, std::string_view peer, TimePoint now);
  GateResult check_bearer(std::string_view token, std::string_view peer, TimePoint now);
  GateResult check_cookie(const Credentials& c, std::string_view session, TimePoint now);
  void fail_attempt(std::string_view peer, TimePoint now);
  // Must hold mu_.
  void make_room(TimePoint now);

  TokenStore tokens_;
  RandomSource& rng_;
  AuthOptions opts_;
  std::mutex mu_;  // guards limiter_ and sessions_
  FailureLimiter limiter_;
  std::unordered_map<std::string, Session> sessions_;  // by SHA-256 of the session id
};

[[nodiscard]] std::string_view to_string(Outcome o);

}  // namespace gf::admin
