// greyflux command line: serve, check-config, dump-config, and the admin commands.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "app/admin_api.hpp"
#include "app/admin_cli.hpp"
#include "app/akismet_service.hpp"
#include "app/config.hpp"
#include "app/daemon.hpp"
#include "app/flux_cli.hpp"
#include "app/mail_cli.hpp"
#include "app/paths.hpp"
#include "app/store_cli.hpp"
#include "gf_version.hpp"

namespace {

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    out += (out.empty() ? "" : " ") + w;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"greyflux: greylisting, comment and mail spam filtering, fast-flux detection"};
  app.set_version_flag("--version", std::string("greyflux ") + gf::kVersion);
  app.require_subcommand(1);

  std::string config = gf::app::default_config_path();
  std::vector<std::string> overrides;
  auto add_config = [&](CLI::App* sub) {
    sub->add_option("--config,-c", config, "config file (TOML)")->capture_default_str();
    sub->add_option("--set", overrides, "override a setting: section.key=value (repeatable)")
        ->allow_extra_args(false);
  };

  CLI::App* serve = app.add_subcommand("serve", "run the daemon");
  add_config(serve);

  CLI::App* check = app.add_subcommand("check-config", "validate a config file and exit");
  std::string check_file;
  check->add_option("file", check_file, "config file")->required();
  check->add_option("--set", overrides, "override a setting: section.key=value")
      ->allow_extra_args(false);

  CLI::App* dump = app.add_subcommand("dump-config", "print every setting, default and doc");
  std::string dump_file;
  dump->add_option("--config,-c", dump_file,
                   "show this file's values, paths resolved, instead of the defaults");
  dump->add_option("--set", overrides, "override a setting: section.key=value (repeatable)")
      ->allow_extra_args(false);

  std::vector<std::string> args;
  CLI::App* gl = app.add_subcommand("greylist", "list|show|delete greylist entries");
  add_config(gl);
  gl->add_option("args", args, "list [PATTERN] | show PATTERN | delete PATTERN")->required();
  CLI::App* wl = app.add_subcommand("whitelist", "add|remove|list admin whitelist entries");
  add_config(wl);
  wl->add_option("args", args, "add|remove client|recipient ENTRY | list")->required();
  CLI::App* stats = app.add_subcommand("stats", "print the daemon's counters");
  add_config(stats);

  gf::app::FluxCli flux_cli(app, config);

  CLI::App* keys = app.add_subcommand("keys", "add|list|revoke comment API keys");
  add_config(keys);
  std::string blog;
  keys->add_option("args", args, "add --blog URL | list | revoke KEY")->required();
  keys->add_option("--blog", blog, "the site a new key is for");
  CLI::App* admin_token =
      app.add_subcommand("admin-token", "create|list|revoke admin API tokens (docs/api.md)");
  add_config(admin_token);
  std::string token_name;
  admin_token->add_option("args", args, "create [--name N] | list | revoke ID|NAME")->required();
  admin_token->add_option("--name", token_name, "a name for a new token (who or what uses it)");
  CLI::App* akismet = app.add_subcommand("akismet", "show a stored comment check");
  add_config(akismet);
  akismet->add_option("args", args, "show GUID")->required();

  std::vector<std::string> learn_spam;
  std::vector<std::string> learn_ham;
  CLI::App* learn = app.add_subcommand(
      "learn", "train the mail model (spamd.model) from files, directories or mbox files");
  add_config(learn);
  learn->add_option("--spam", learn_spam, "spam messages: FILE|DIR|MBOX (repeatable)");
  learn->add_option("--ham", learn_ham, "ham messages: FILE|DIR|MBOX (repeatable)");
  std::vector<std::string> classify_files;
  bool classify_explain = false;
  CLI::App* classify = app.add_subcommand(
      "classify",
      "score messages with the mail model: one line each; for one message exit 0 spam, 1 ham");
  add_config(classify);
  classify->add_option("files", classify_files, "FILE|DIR|MBOX, or - for standard input")
      ->required();
  classify->add_flag("--explain", classify_explain, "print each symbol and the model evidence");

  CLI::App* store = app.add_subcommand("store", "copy state between LMDB, Redis and Redis Cluster");
  store->require_subcommand(1);
  CLI::App* copy = store->add_subcommand(
      "copy", "copy greylist and comment state: --from SPEC --to SPEC (lmdb:DIR | redis://...)");
  gf::app::StoreCopyArgs copy_args;
  std::string copy_config;
  copy->add_option("--config,-c", copy_config,
                   "config file for store.redis_prefix, greylist expiry and map sizes (default: "
                   "the built-in defaults)");
  copy->add_option("--set", overrides, "override a setting: section.key=value (repeatable)")
      ->allow_extra_args(false);
  copy->add_option("--from", copy_args.from, "source: lmdb:DATA_DIR or redis://... or unix:...")
      ->required();
  copy->add_option("--to", copy_args.to, "destination, empty: lmdb:DATA_DIR or redis://...")
      ->required();
  copy->add_flag("--from-cluster", copy_args.from_cluster, "the source URL is a cluster node");
  copy->add_flag("--to-cluster", copy_args.to_cluster, "the destination URL is a cluster node");
  copy->add_option("--prefix", copy_args.prefix, "Redis key prefix (default store.redis_prefix)");
  copy->add_option("--margin", copy_args.margin,
                   "greylist records that expire within this are not copied")
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);

  if (copy->parsed()) {
    return gf::app::store_copy_command(copy_config, overrides, copy_args);
  }

  if (flux_cli.parsed()) {
    return flux_cli.run();
  }

  if (keys->parsed()) {
    args.insert(args.begin(), "keys");
    return gf::app::akismet_cli(config, overrides, args, blog);
  }
  if (admin_token->parsed()) {
    return gf::app::admin_token_cli(config, overrides, args, token_name);
  }
  if (akismet->parsed()) {
    args.insert(args.begin(), "akismet");
    return gf::app::akismet_cli(config, overrides, args, blog);
  }

  if (learn->parsed() || classify->parsed()) {
    auto values = gf::app::load_config(config, overrides);
    if (!values) {
      std::fprintf(stderr, "greyflux: %s\n", values.error().message.c_str());
      return learn->parsed() ? 2 : 3;
    }
    if (learn->parsed()) {
      if (learn_spam.empty() && learn_ham.empty()) {
        std::fprintf(stderr, "greyflux learn: give --spam and/or --ham\n");
        return 2;
      }
      return gf::app::learn_command(*values, learn_spam, learn_ham);
    }
    return gf::app::classify_command(*values, classify_files, classify_explain);
  }

  if (serve->parsed()) {
    return gf::app::serve(config, overrides);
  }
  if (check->parsed()) {
    auto values = gf::app::load_config(check_file, overrides);
    if (!values) {
      std::fprintf(stderr, "%s\n", values.error().message.c_str());
      return 1;
    }
    std::vector<std::string> warnings;
    auto policy = gf::app::build_policy(*values, warnings);
    for (const auto& w : warnings) {
      std::fprintf(stderr, "warning: %s\n", w.c_str());
    }
    if (!policy) {
      std::fprintf(stderr, "%s\n", policy.error().message.c_str());
      return 1;
    }
    std::printf("%s: ok (%zu client and %zu recipient whitelist entries)\n", check_file.c_str(),
                (*policy)->clients.size(), (*policy)->recipients.size());
    return 0;
  }
  if (dump->parsed()) {
    if (dump_file.empty() && overrides.empty()) {
      std::fputs(gf::app::dump_config(nullptr).c_str(), stdout);
      return 0;
    }
    auto values = gf::app::load_config(dump_file, overrides);
    if (!values) {
      std::fprintf(stderr, "%s\n", values.error().message.c_str());
      return 1;
    }
    std::fputs(gf::app::dump_config(&*values).c_str(), stdout);
    return 0;
  }
  if (gl->parsed()) {
    return gf::app::admin_command(config, overrides, "greylist " + join(args));
  }
  if (wl->parsed()) {
    return gf::app::admin_command(config, overrides, "whitelist " + join(args));
  }
  if (stats->parsed()) {
    return gf::app::admin_command(config, overrides, "stats");
  }
  return 1;
}
