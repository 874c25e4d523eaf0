#include "core/admin/auth.hpp"

#include <algorithm>

#include "core/common/strings.hpp"

namespace gf::admin {
namespace {

constexpr std::string_view kSessionPrefix = "gfs_";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

std::optional<std::string_view> find_cookie(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const std::size_t semi = header.find(';');
    const std::string_view pair = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos || trim(pair.substr(0, eq)) != name) {
      continue;
    }
    std::string_view value = trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return std::nullopt;
}

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  authorization = trim(authorization);
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() ||
      !iequals(authorization.substr(0, kScheme.size()), kScheme) ||
      (authorization[kScheme.size()] != ' ' && authorization[kScheme.size()] != '\t')) {
    return std::nullopt;
  }
  const std::string_view token = trim(authorization.substr(kScheme.size()));
  if (token.empty()) {
    return std::nullopt;
  }
  return token;
}

bool is_state_changing(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

std::string_view peer_address(std::string_view peer) {
  if (peer.starts_with('[')) {
    const std::size_t close = peer.find(']');
    return close == std::string_view::npos ? peer : peer.substr(1, close - 1);
  }
  const std::size_t colon = peer.rfind(':');
  if (colon == std::string_view::npos || peer.find(':') != colon) {
    return peer;  // no port, or a bare IPv6 address
  }
  return peer.substr(0, colon);
}

// --- FailureLimiter ---------------------------------------------------------------------------

FailureLimiter::FailureLimiter(LeakyBucketLimits per_peer, LeakyBucketLimits global,
                               std::size_t max_peers)
    : per_peer_(per_peer),
      global_limits_(global),
      max_peers_(std::max<std::size_t>(1, max_peers)) {}

std::optional<Seconds> FailureLimiter::wait_of(const Bucket& b, const LeakyBucketLimits& l,
                                               TimePoint now) {
  // Full when `burst` failures' worth of leak is still pending.
  const Seconds allowance = l.leak * std::max(0, l.burst - 1);
  const Seconds pending = b.tat > now ? b.tat - now : Seconds(0);
  if (l.burst <= 0 || pending > allowance) {
    return std::max(Seconds(1), pending - allowance);
  }
  return std::nullopt;
}

void FailureLimiter::add_failure(Bucket& b, const LeakyBucketLimits& l, TimePoint now) {
  b.tat = std::max(b.tat, now) + l.leak;
}

std::optional<Seconds> FailureLimiter::blocked(std::string_view peer, TimePoint now) {
  std::optional<Seconds> wait = wait_of(global_, global_limits_, now);
  if (auto it = peers_.find(std::string(peer)); it != peers_.end()) {
    if (auto w = wait_of(it->second, per_peer_, now)) {
      wait = std::max(wait.value_or(Seconds(0)), *w);
    }
  }
  return wait;
}

void FailureLimiter::failed(std::string_view peer, TimePoint now) {
  add_failure(global_, global_limits_, now);
  auto it = peers_.find(std::string(peer));
  if (it == peers_.end()) {
    make_room(now);
    it = peers_.emplace(std::string(peer), Bucket{}).first;
  }
  add_failure(it->second, per_peer_, now);
}

void FailureLimiter::make_room(TimePoint now) {
  if (peers_.size() < max_peers_) {
    return;
  }
  std::erase_if(peers_, [now](const auto& kv) { return kv.second.tat <= now; });
  while (peers_.size() >= max_peers_) {
    auto oldest = std::min_element(peers_.begin(), peers_.end(), [](const auto& a, const auto& b) {
      return a.second.tat < b.second.tat;
    });
    peers_.erase(oldest);
  }
}

// --- Auth -------------------------------------------------------------------------------------

Auth::Auth(KvStore& kv, RandomSource& rng, AuthOptions opts)
    : tokens_(kv), rng_(rng), opts_(opts), limiter_(opts.per_peer, opts.global, opts.max_peers) {}

void Auth::fail_attempt(std::string_view peer, TimePoint now) {
  std::lock_guard lock(mu_);
  limiter_.failed(peer_address(peer), now);
}

GateResult Auth::check(const Credentials& c, TimePoint now) {
  if (!c.authorization.empty()) {
    const auto token = bearer_token(c.authorization);
    return check_bearer(token.value_or(std::string_view()), c.peer, now);
  }
  if (const auto session = find_cookie(c.cookie, kSessionCookie); session && !session->empty()) {
    return check_cookie(c, *session, now);
  }
  return GateResult{};
}

Auth::TokenCheck Auth::verify_limited(std::string_view token, std::string_view peer,
                                      TimePoint now) {
  TokenCheck c;
  {
    std::lock_guard lock(mu_);
    if (auto wait = limiter_.blocked(peer_address(peer), now)) {
      c.outcome = Outcome::RateLimited;
      c.retry_after = *wait;
      return c;
    }
  }
  auto info = tokens_.verify(token);
  if (!info) {
    c.outcome = Outcome::StoreFailure;
    c.error = info.error().message;
    return c;
  }
  if (!info->has_value()) {
    fail_attempt(peer, now);
    return c;
  }
  c.outcome = Outcome::Allowed;
  c.info = std::move(*info);
  return c;
}

GateResult Auth::check_bearer(std::string_view token, std::string_view peer, TimePoint now) {
  TokenCheck c = verify_limited(token, peer, now);
  GateResult r;
  r.outcome = c.outcome;
  r.retry_after = c.retry_after;
  r.error = std::move(c.error);
  if (c.info) {
    r.token_id = c.info->id;
  }
  return r;
}

GateResult Auth::check_cookie(const Credentials& c, std::string_view session, TimePoint now) {
  // Unknown or expired session ids do not count as failures: they are 256-bit secrets nobody
  // guesses, and a browser that kept a stale cookie (a restart ended its session) would
  // otherwise lock its own address out with the dashboard's first few requests.
  GateResult r;
  r.stale_cookie = true;  // until the session is found good
  const std::string key = sha256_hex(session);
  Session s;
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(key);
    if (it == sessions_.end()) {
      return r;
    }
    if (it->second.expires <= now) {
      sessions_.erase(it);
      return r;
    }
    s = it->second;
  }
  auto exists = tokens_.exists(s.token_hash);
  if (!exists) {
    r.outcome = Outcome::StoreFailure;
    r.error = exists.error().message;
    return r;
  }
  if (!*exists) {  // its token was revoked
    std::lock_guard lock(mu_);
    sessions_.erase(key);
    return r;
  }
  if (is_state_changing(c.method) && !constant_time_equal(c.csrf, s.csrf)) {
    r.stale_cookie = false;
    r.outcome = Outcome::Csrf;
    return r;
  }
  r.stale_cookie = false;
  r.outcome = Outcome::Allowed;
  r.via_cookie = true;
  r.token_id = s.token_id;
  r.csrf = s.csrf;
  r.expires = s.expires;
  return r;
}

LoginResult Auth::login(std::string_view token, std::string_view peer, TimePoint now) {
  TokenCheck c = verify_limited(token, peer, now);
  LoginResult r;
  if (!c.info) {
    r.outcome = c.outcome;
    r.retry_after = c.retry_after;
    r.error = std::move(c.error);
    return r;
  }
  Session s;
  s.token_hash = c.info->hash;
  s.token_id = c.info->id;
  s.csrf = random_secret(rng_, "");
  s.created = now;
  s.expires = now + opts_.session_lifetime;
  r.session = random_secret(rng_, kSessionPrefix);
  r.outcome = Outcome::Allowed;
  r.csrf = s.csrf;
  r.expires = s.expires;
  r.token_id = s.token_id;
  std::lock_guard lock(mu_);
  make_room(now);
  sessions_.emplace(sha256_hex(r.session), std::move(s));
  return r;
}

bool Auth::logout(std::string_view cookie_header) {
  const auto session = find_cookie(cookie_header, kSessionCookie);
  if (!session || session->empty()) {
    return false;
  }
  const std::string key = sha256_hex(*session);
  std::lock_guard lock(mu_);
  return sessions_.erase(key) > 0;
}

std::size_t Auth::sessions() {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

void Auth::make_room(TimePoint now) {
  if (sessions_.size() < std::max<std::size_t>(1, opts_.max_sessions)) {
    return;
  }
  std::erase_if(sessions_, [now](const auto& kv) { return kv.second.expires <= now; });
  while (sessions_.size() >= std::max<std::size_t>(1, opts_.max_sessions)) {
    auto oldest = std::min_element(
        sessions_.begin(), sessions_.end(),
        [](const auto& a, const auto& b) { return a.second.created < b.second.created; });
    sessions_.erase(oldest);
  }
}

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::Allowed:
      return "allowed";
    case Outcome::Unauthenticated:
      return "unauthenticated";
    case Outcome::Csrf:
      return "csrf";
    case Outcome::RateLimited:
      return "rate_limited";
    case Outcome::StoreFailure:
      return "store";
  }
  return "unauthenticated";
}

}  // namespace gf::admin
