// `greyflux admin-token create [--name N] | list | revoke ID|NAME`: admin tokens in the comment
// API's store (LMDB, shared safely with a running daemon, or Redis), so a new token works and a
// revoked one stops at once, sessions included. The token is printed once and never stored.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>

#include "app/admin_api.hpp"
#include "app/akismet_service.hpp"
#include "core/admin/tokens.hpp"
#include "core/common/time.hpp"
#include "io/sys/random.hpp"

namespace gf::app {

int admin_token_cli(const std::string& config_path, const std::vector<std::string>& overrides,
                    const std::vector<std::string>& args, const std::string& name) {
  auto svc = open_comment_store_for_cli(config_path, overrides);
  if (!svc) {
    return 2;
  }
  admin::TokenStore tokens(svc->store());
  const std::string verb = args.empty() ? "" : args[0];
  if (verb == "create" && args.size() == 1) {
    io::SecureRandom rng;
    const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
    auto t = tokens.create(rng, name, now_s);
    if (!t) {
      std::fprintf(stderr, "greyflux: %s\n", t.error().message.c_str());
      return 1;
    }
    std::printf("%s\n", t->token.c_str());
    std::fprintf(stderr, "admin token %s%s%s created; it is shown only this once\n",
                 t->info.id.c_str(), name.empty() ? "" : " ", name.c_str());
    return 0;
  }
  if (verb == "list" && args.size() == 1) {
    auto all = tokens.list();
    if (!all) {
      std::fprintf(stderr, "greyflux: %s\n", all.error().message.c_str());
      return 1;
    }
    std::printf("id\tcreated\tname\n");
    for (const admin::TokenInfo& t : *all) {
      const std::string created = format_iso8601_utc(from_unix(t.created_s));
      std::printf("%s\t%s\t%s\n", t.id.c_str(), created.c_str(), t.name.c_str());
    }
    return 0;
  }
  if (verb == "revoke" && args.size() == 2) {
    auto gone = tokens.revoke(args[1]);
    if (!gone) {
      std::fprintf(stderr, "greyflux: %s\n", gone.error().message.c_str());
      return 1;
    }
    std::printf("revoked %s %s\n", gone->id.c_str(), gone->name.c_str());
    return 0;
  }
  std::fprintf(stderr, "greyflux: usage: admin-token create [--name N] | list | revoke ID|NAME\n");
  return 2;
}

}  // namespace gf::app
