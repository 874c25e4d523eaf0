// `greyflux keys add --blog URL | list | revoke KEY` and `greyflux akismet show GUID`: work on
// the comment API's LMDB store directly (LMDB is safe to share with a running daemon, which
// reads keys from the store on every request, so a new or revoked key takes effect at once).
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>

#include "app/akismet_service.hpp"
#include "app/config.hpp"
#include "app/paths.hpp"

namespace gf::app {

std::unique_ptr<AkismetService> open_comment_store_for_cli(
    const std::string& config_path, const std::vector<std::string>& overrides) {
  auto values = load_config(config_path, overrides);
  if (!values) {
    std::fprintf(stderr, "greyflux: %s\n", values.error().message.c_str());
    return nullptr;
  }
  spdlog::set_level(spdlog::level::warn);
  if (auto dirs = prepare_state_dirs(*values); !dirs) {
    std::fprintf(stderr, "greyflux: %s\n", dirs.error().message.c_str());
    return nullptr;
  }
  AkismetConfig cfg = akismet_config(*values);
  cfg.writer_thread = false;
  auto svc = AkismetService::open(cfg);
  if (!svc) {
    std::fprintf(stderr, "greyflux: %s\n", svc.error().message.c_str());
    return nullptr;
  }
  return std::move(*svc);
}

int akismet_cli(const std::string& config_path, const std::vector<std::string>& overrides,
                const std::vector<std::string>& args, const std::string& blog) {
  auto svc = open_comment_store_for_cli(config_path, overrides);
  if (!svc) {
    return 2;
  }
  auto word = [&](std::size_t i) { return i < args.size() ? args[i] : std::string(); };
  const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
  if (word(0) == "keys" && word(1) == "add" && args.size() == 2) {
    auto key = svc->add_key(blog, now_s);
    if (!key) {
      std::fprintf(stderr, "greyflux: %s\n", key.error().message.c_str());
      return 1;
    }
    std::printf("%s\n", key->c_str());
    return 0;
  }
  if (word(0) == "keys" && word(1) == "list" && args.size() == 2) {
    auto out = svc->list_keys();
    if (!out) {
      std::fprintf(stderr, "greyflux: %s\n", out.error().message.c_str());
      return 1;
    }
    std::fputs(out->c_str(), stdout);
    return 0;
  }
  if (word(0) == "keys" && word(1) == "revoke" && args.size() == 3) {
    auto ok = svc->revoke_key(word(2));
    if (!ok) {
      std::fprintf(stderr, "greyflux: %s\n", ok.error().message.c_str());
      return 1;
    }
    std::printf("revoked %s\n", word(2).c_str());
    return 0;
  }
  if (word(0) == "akismet" && word(1) == "show" && args.size() == 3) {
    auto out = svc->show_check(word(2));
    if (!out) {
      std::fprintf(stderr, "greyflux: %s\n", out.error().message.c_str());
      return 1;
    }
    std::fputs(out->c_str(), stdout);
    return 0;
  }
  std::fprintf(stderr,
               "greyflux: usage: keys add --blog URL | keys list | keys revoke KEY | "
               "akismet show GUID\n");
  return 2;
}

}  // namespace gf::app
