#include "app/admin_api.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <charconv>

#include "app/engine.hpp"
#include "app/settings.hpp"
#include "core/akismet/form.hpp"
#include "core/common/strings.hpp"
#include "io/sys/random.hpp"

namespace gf::app {
namespace json = boost::json;
namespace {

constexpr std::size_t kMaxListLimit = 10000;

std::optional<json::object> parse_object(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    return std::nullopt;
  }
  return std::move(v.as_object());
}

// The string member `name`, or nullopt when absent or not a string.
std::optional<std::string> member(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) {
    return std::nullopt;
  }
  return std::string(v->as_string());
}

json::object entry_json(const admin::GreylistEntry& e) {
  json::object o;
  o["key"] = e.key;
  o["kind"] = e.kind;
  o["network"] = e.network;
  o["sender"] = e.sender;
  o["recipient"] = e.recipient;
  o["domain"] = e.domain;
  o["first_seen"] = e.record.first_s;
  o["last_seen"] = e.record.last_s;
  o["count"] = e.record.count;
  if (e.kind == "triplet") {
    o["state"] = e.record.count > 0 ? "passed" : "waiting";
  }
  return o;
}

io::HttpResponse method_not_allowed(std::string_view allow) {
  io::HttpResponse r = json_error(405, "method_not_allowed", "allowed: " + std::string(allow));
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

io::HttpResponse store_failure(std::string_view message) {
  return json_error(503, "store", message);
}

}  // namespace

io::HttpResponse json_answer(int status, const json::value& body) {
  io::HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.headers.emplace_back("Cache-Control", "no-store");
  r.body = json::serialize(body) + "\n";
  return r;
}

io::HttpResponse json_error(int status, std::string_view code, std::string_view message) {
  return json_answer(status, json::object{{"error", code}, {"message", message}});
}

AdminApiOptions admin_api_options(const Values& v) {
  AdminApiOptions o;
  o.auth.session_lifetime =
      std::chrono::duration_cast<Seconds>(v.duration("admin.session_lifetime"));
  o.auth.per_peer = {static_cast<int>(v.integer("admin.login_burst")), Seconds(60)};
  o.auth.global = {static_cast<int>(v.integer("admin.login_global_burst")), Seconds(1)};
  o.secure_cookie = v.boolean("admin.secure_cookie");
  return o;
}

AdminApi::AdminApi(KvStore& kv, Engine& engine, AdminApiOptions opts)
    : engine_(engine),
      opts_(opts),
      rng_(std::make_unique<io::SecureRandom>()),
      auth_(kv, *rng_, opts.auth) {}

AdminApi::~AdminApi() = default;

std::string AdminApi::cookie(std::string_view value, std::int64_t max_age_s,
                             const io::HttpRequest& r) {
  const bool secure = opts_.secure_cookie || iequals(r.header("x-forwarded-proto"), "https");
  return fmt::format("{}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
                     admin::kSessionCookie, value, max_age_s, secure ? "; Secure" : "");
}

std::optional<io::HttpResponse> AdminApi::session_route(const io::HttpRequest& r, TimePoint now) {
  if (r.path == "/api/v1/login") {
    return r.method == "POST" ? login(r, now) : method_not_allowed("POST");
  }
  if (r.path == "/api/v1/logout") {
    if (r.method != "POST") {
      return method_not_allowed("POST");
    }
    if (auto refused = gate(r, now)) {
      return refused;
    }
    auth_.logout(r.header("cookie"));
    io::HttpResponse out = json_answer(200, json::object{{"ok", true}});
    out.headers.emplace_back("Set-Cookie", cookie("", 0, r));
    return out;
  }
  if (r.path == "/api/v1/session") {
    if (r.method != "GET") {
      return method_not_allowed("GET");
    }
    const admin::GateResult g = auth_.check(
        {r.method, r.header("authorization"), r.header("cookie"), r.header("x-csrf-token"), r.peer},
        now);
    if (g.outcome != admin::Outcome::Allowed) {
      return refusal(g, !r.header("cookie").empty());
    }
    json::object o{{"token_id", g.token_id}, {"via", g.via_cookie ? "cookie" : "bearer"}};
    o["csrf"] = g.via_cookie ? json::value(g.csrf) : json::value(nullptr);
    o["expires"] = g.via_cookie ? json::value(to_unix(g.expires)) : json::value(nullptr);
    return json_answer(200, o);
  }
  return std::nullopt;
}

io::HttpResponse AdminApi::login(const io::HttpRequest& r, TimePoint now) {
  const auto body = parse_object(r.body);
  const auto token = body ? member(*body, "token") : std::nullopt;
  if (!token) {
    return json_error(400, "bad_request", "the body must be JSON {\"token\": \"gfa_...\"}");
  }
  const admin::LoginResult l = auth_.login(*token, r.peer, now);
  if (l.outcome != admin::Outcome::Allowed) {
    admin::GateResult g;
    g.outcome = l.outcome;
    g.retry_after = l.retry_after;
    g.error = l.error;
    return refusal(g, false);
  }
  spdlog::info("api: login by token {} from {}", l.token_id, sanitize_line(r.peer, 64));
  io::HttpResponse out =
      json_answer(200, json::object{{"csrf", l.csrf}, {"expires", to_unix(l.expires)}});
  out.headers.emplace_back("Set-Cookie", cookie(l.session, (l.expires - now).count(), r));
  return out;
}

std::optional<io::HttpResponse> AdminApi::gate(const io::HttpRequest& r, TimePoint now) {
  const admin::GateResult g = auth_.check(
      {r.method, r.header("authorization"), r.header("cookie"), r.header("x-csrf-token"), r.peer},
      now);
  if (g.outcome == admin::Outcome::Allowed) {
    if (admin::is_state_changing(r.method)) {
      spdlog::info("api: {} {} by token {} from {}", sanitize_line(r.method, 16),
                   sanitize_line(r.path, 200), g.token_id, sanitize_line(r.peer, 64));
    }
    return std::nullopt;
  }
  return refusal(g, !r.header("cookie").empty());
}

io::HttpResponse AdminApi::refusal(const admin::GateResult& g, bool cookie_sent) {
  switch (g.outcome) {
    case admin::Outcome::Csrf:
      return json_error(403, "csrf", "a cookie-authenticated change needs X-CSRF-Token");
    case admin::Outcome::RateLimited: {
      failures_log_.warn("api: too many failed admin-token attempts; answering 429");
      io::HttpResponse out = json_error(429, "rate_limited", "too many failed attempts");
      out.headers.emplace_back("Retry-After", std::to_string(g.retry_after.count()));
      return out;
    }
    case admin::Outcome::StoreFailure:
      return store_failure(g.error);
    case admin::Outcome::Allowed:
    case admin::Outcome::Unauthenticated:
      break;
  }
  io::HttpResponse out =
      json_error(401, "unauthenticated", "send Authorization: Bearer TOKEN or log in");
  out.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"greyflux\"");
  if (g.stale_cookie && cookie_sent) {
    io::HttpRequest none;
    out.headers.emplace_back("Set-Cookie", cookie("", 0, none));
  }
  return out;
}

// --- greylist and whitelist ---------------------------------------------------------------------

std::optional<io::HttpResponse> AdminApi::greylist_route(const io::HttpRequest& r) {
  if (r.path == "/api/v1/greylist") {
    if (r.method == "GET") {
      return greylist_get(r);
    }
    if (r.method == "DELETE") {
      return greylist_delete(r);
    }
    return method_not_allowed("GET, DELETE");
  }
  if (r.path == "/api/v1/whitelist") {
    return whitelist(r);
  }
  return std::nullopt;
}

io::HttpResponse AdminApi::greylist_get(const io::HttpRequest& r) {
  auto q = akismet::decode_form(r.query);
  if (!q) {
    return json_error(400, "bad_request", q.error().message);
  }
  admin::GreylistFilter f;
  f.client = std::string(q->get("client"));
  f.sender = std::string(q->get("sender"));
  f.recipient = std::string(q->get("recipient"));
  if (const std::string_view limit = q->get("limit"); !limit.empty()) {
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(limit.data(), limit.data() + limit.size(), n);
    if (ec != std::errc() || end != limit.data() + limit.size() || n < 1 || n > kMaxListLimit) {
      return json_error(400, "bad_request",
                        fmt::format("limit must be a number from 1 to {}", kMaxListLimit));
    }
    f.limit = n;
  }
  auto page = engine_.greylist_search(f);
  if (!page) {
    return store_failure(page.error().message);
  }
  json::array entries;
  for (const admin::GreylistEntry& e : page->entries) {
    entries.push_back(entry_json(e));
  }
  return json_answer(200,
                     json::object{{"entries", std::move(entries)}, {"truncated", page->truncated}});
}

io::HttpResponse AdminApi::greylist_delete(const io::HttpRequest& r) {
  const auto body = parse_object(r.body);
  const auto key = body ? member(*body, "key") : std::nullopt;
  if (!key) {
    return json_error(400, "bad_request",
                      "the body must be JSON {\"key\": KEY} with a key from GET /api/v1/greylist");
  }
  auto erased = engine_.greylist_erase(*key);
  if (!erased) {
    return erased.error().code == Errc::InvalidInput
               ? json_error(400, "bad_request", erased.error().message)
               : store_failure(erased.error().message);
  }
  if (!*erased) {
    return json_error(404, "not_found", "no such greylist entry");
  }
  return json_answer(200, json::object{{"deleted", 1}});
}

io::HttpResponse AdminApi::whitelist(const io::HttpRequest& r) {
  if (r.method == "GET") {
    json::array entries;
    for (const Engine::WhitelistEntry& e : engine_.whitelist_entries()) {
      entries.push_back(json::object{{"list", e.list}, {"source", e.source}, {"entry", e.entry}});
    }
    return json_answer(200, json::object{{"entries", std::move(entries)}});
  }
  if (r.method != "POST" && r.method != "DELETE") {
    return method_not_allowed("GET, POST, DELETE");
  }
  const auto body = parse_object(r.body);
  const auto list = body ? member(*body, "list") : std::nullopt;
  const auto entry = body ? member(*body, "entry") : std::nullopt;
  if (!list || !entry || (*list != "client" && *list != "recipient") || entry->empty()) {
    return json_error(400, "bad_request",
                      "the body must be JSON {\"list\": \"client\"|\"recipient\", \"entry\": E}");
  }
  const bool add = r.method == "POST";
  const auto kind = *list == "client" ? admin::ListKind::Client : admin::ListKind::Recipient;
  auto done = engine_.whitelist_apply(add, kind, *entry);
  if (!done) {
    return done.error().code == Errc::InvalidInput
               ? json_error(400, "bad_request", done.error().message)
               : store_failure(done.error().message);
  }
  if (!*done) {
    return json_error(404, "not_found", "not an admin whitelist entry");
  }
  return json_answer(200, json::object{{add ? "added" : "removed",
                                        json::object{{"list", *list}, {"entry", *entry}}}});
}

}  // namespace gf::app
