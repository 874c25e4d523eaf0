#pragma once
// The admin REST API's wiring on the [http] listener (docs/api.md): the login, logout and
// session routes, the gate every other /api/v1 route passes (admin::Auth: bearer token or
// session cookie + CSRF), the greylist and whitelist routes (Engine's structured operations,
// the same the admin socket's commands use), JSON in and out, and `greyflux admin-token`.
//
// Flow: HttpDoor::route hands every /api/v1 request here: session_route() first (login needs
// no session), then gate() (a refusal is the answer), then the routes of each area. Tokens and
// session ids are never logged: a token is named by its id (12 hex digits of its hash).
// Threading: every method is safe from any thread. Errors: bad input is a 400 JSON answer
// {"error":"bad_request","message":...}; a store failure a 503 {"error":"store",...}.
#include <boost/json/value.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/admin/auth.hpp"
#include "core/common/kv_store.hpp"
#include "core/common/time.hpp"
#include "io/net/http_server.hpp"
#include "io/sys/rate_limited_log.hpp"

namespace gf::io {
class SecureRandom;
}

namespace gf::app {

class Engine;
class Values;

// A JSON answer; errors are {"error": code, "message": message}.
[[nodiscard]] io::HttpResponse json_answer(int status, const boost::json::value& body);
[[nodiscard]] io::HttpResponse json_error(int status, std::string_view code,
                                          std::string_view message);

struct AdminApiOptions {
  admin::AuthOptions auth;
  bool secure_cookie = false;
};
[[nodiscard]] AdminApiOptions admin_api_options(const Values& v);

class AdminApi {
 public:
  // `kv` (the comment API's store) and `engine` must outlive the API.
  AdminApi(KvStore& kv, Engine& engine, AdminApiOptions opts);
  ~AdminApi();

  // POST /api/v1/login, POST /api/v1/logout, GET /api/v1/session; nullopt for other paths.
  [[nodiscard]] std::optional<io::HttpResponse> session_route(const io::HttpRequest& r,
                                                              TimePoint now);
  // nullopt when the request may pass (the caller then routes it), else the refusal.
  [[nodiscard]] std::optional<io::HttpResponse> gate(const io::HttpRequest& r, TimePoint now);
  // /api/v1/greylist and /api/v1/whitelist (after the gate); nullopt for other paths.
  [[nodiscard]] std::optional<io::HttpResponse> greylist_route(const io::HttpRequest& r);

 private:
  io::HttpResponse login(const io::HttpRequest& r, TimePoint now);
  io::HttpResponse refusal(const admin::GateResult& g, bool cookie_sent);
  std::string cookie(std::string_view value, std::int64_t max_age_s, const io::HttpRequest& r);
  io::HttpResponse greylist_get(const io::HttpRequest& r);
  io::HttpResponse greylist_delete(const io::HttpRequest& r);
  io::HttpResponse whitelist(const io::HttpRequest& r);

  Engine& engine_;
  AdminApiOptions opts_;
  std::unique_ptr<io::SecureRandom> rng_;
  admin::Auth auth_;
  io::RateLimitedLog failures_log_;
};

// `greyflux admin-token create [--name N] | list | revoke ID|NAME`.
int admin_token_cli(const std::string& config_path, const std::vector<std::string>& overrides,
                    const std::vector<std::string>& args, const std::string& name);

}  // namespace gf::app
