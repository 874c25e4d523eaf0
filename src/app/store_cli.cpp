#include "app/store_cli.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "app/config.hpp"
#include "app/greylist_settings.hpp"
#include "app/redis_wiring.hpp"
#include "core/akismet/keys.hpp"
#include "core/common/redis_url.hpp"
#include "core/common/store_copy.hpp"
#include "io/store/lmdb_kv.hpp"
#include "io/store/lmdb_store.hpp"
#include "io/store/redis_kv.hpp"
#include "io/store/redis_store.hpp"

namespace gf::app {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

// One side of the copy, opened: either store may be absent (an LMDB source without it).
struct Side {
  std::string name;  // as the user wrote it, password redacted
  std::unique_ptr<greylist::Store> greylist;
  std::unique_ptr<KvStore> kv;
};

struct CopyContext {
  const Values& values;
  greylist::Settings settings;
  std::string prefix;
};

Result<Side> open_lmdb(const std::string& dir, bool source, const CopyContext& ctx) {
  Side side;
  side.name = "lmdb:" + dir;
  if (source && !fs::is_directory(dir)) {
    return fail(Errc::Config, "store copy: " + dir + " is not a directory");
  }
  const std::string gl_path = dir + "/greyflux.lmdb";
  if (!source || fs::exists(gl_path)) {
    io::LmdbOptions o;
    o.path = gl_path;
    o.map_size = ctx.values.size("store.map_size");
    o.background_writer = false;
    auto s = io::LmdbStore::open(o, {});  // no sweep: every record is copied as it is
    if (!s) {
      return tl::unexpected(s.error());
    }
    side.greylist = std::move(*s);
  }
  const std::string kv_path = dir + "/akismet.lmdb";
  if (!source || fs::exists(kv_path)) {
    io::KvOptions o;
    o.path = kv_path;
    o.map_size = ctx.values.size("akismet.map_size");
    o.writer_thread = false;
    auto kv = io::LmdbKv::open(o);
    if (!kv) {
      return tl::unexpected(kv.error());
    }
    side.kv = std::move(*kv);
  }
  return side;
}

Result<Side> open_redis(const std::string& spec, bool cluster, const CopyContext& ctx) {
  auto url = parse_redis_url(spec);
  if (!url) {
    return fail(Errc::Config, "store copy: " + spec + ": " + url.error().message);
  }
  io::RedisOptions o;
  o.url = *url;
  o.cluster = cluster;
  o.connect_timeout = ctx.values.duration("store.redis_connect_timeout");
  // A copy pipelines batches of hundreds of commands: a longer wait than a decision's.
  o.timeout = std::max(ctx.values.duration("store.redis_timeout"), Millis(10000));
  auto started = io::RedisClient::start(o);
  if (!started) {
    return tl::unexpected(started.error());
  }
  std::shared_ptr<io::RedisClient> client(std::move(*started));
  const Millis wait = o.connect_timeout + Millis(cluster ? 10000 : 1000);
  if (!client->wait_connected(wait)) {
    return fail(Errc::StoreFailure, fmt::format("store copy: no answer from {}{} within {}ms",
                                                cluster ? "the cluster at " : "",
                                                format_redis_url(*url), wait.count()));
  }
  Side side;
  side.name = redis_store_name(o);
  const greylist::Settings settings = ctx.settings;
  side.greylist = std::make_unique<io::RedisStore>(
      client, ctx.prefix + "g:", [settings](std::string_view key, const greylist::Record& r) {
        return greylist::expires_at(key, r, settings);
      });
  auto kv = std::make_unique<io::RedisKv>(client, ctx.prefix + "a:");
  // The daemon's layout of stored checks (bucketed, capped at akismet.max_checks: the source,
  // LMDB or Redis with the same settings, holds no more).
  kv->set_capped(
      std::string(akismet::key::kCheckPrefix),
      static_cast<std::size_t>(ctx.values.integer("akismet.max_checks")),
      std::chrono::duration_cast<Seconds>(ctx.values.duration("akismet.check_retention")));
  side.kv = std::move(kv);
  return side;
}

Result<Side> open_side(const std::string& spec, bool cluster, bool source, const CopyContext& ctx) {
  if (spec.starts_with("lmdb:")) {
    if (cluster) {
      return fail(Errc::Config, "store copy: --from-cluster/--to-cluster go with a Redis URL");
    }
    return open_lmdb(spec.substr(5), source, ctx);
  }
  return open_redis(spec, cluster, ctx);
}

// "store copy: greylist 120000 read, 119990 copied (45000/s)"
CopyProgress progress_printer(std::string what) {
  const auto t0 = SteadyClock::now();
  return [what = std::move(what), t0](std::uint64_t read, std::uint64_t copied) {
    const double s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
    std::printf("store copy: %s %llu read, %llu copied (%.0f/s)\n", what.c_str(),
                static_cast<unsigned long long>(read), static_cast<unsigned long long>(copied),
                s > 0 ? static_cast<double>(read) / s : 0.0);
    std::fflush(stdout);
  };
}

void print_report(const char* what, const CopyReport& r) {
  std::printf(
      "store copy: %s done: %llu read, %llu copied, %llu skipped (expiring), verified %llu "
      "entries, digest %s\n",
      what, static_cast<unsigned long long>(r.read),
      static_cast<unsigned long long>(r.copied.count()), static_cast<unsigned long long>(r.skipped),
      static_cast<unsigned long long>(r.verified.count()), r.verified.hex().c_str());
}

int copy_both(Side& from, Side& to, const CopyContext& ctx, Millis margin) {
  std::printf("store copy: from %s to %s\n", from.name.c_str(), to.name.c_str());
  if (from.greylist && to.greylist) {
    const auto now = std::chrono::floor<Seconds>(std::chrono::system_clock::now()) +
                     std::chrono::duration_cast<Seconds>(margin);
    const greylist::Settings settings = ctx.settings;
    auto r = copy_greylist(
        *from.greylist, *to.greylist,
        [&](std::string_view key, const greylist::Record& rec) {
          return greylist::is_expired(key, rec, now, settings);
        },
        progress_printer("greylist"));
    if (!r) {
      std::fprintf(stderr, "greyflux: %s\n", r.error().message.c_str());
      return 1;
    }
    print_report("greylist", *r);
  } else {
    std::printf("store copy: greylist: no greylist store in %s, skipped\n", from.name.c_str());
  }
  if (from.kv && to.kv) {
    auto r = copy_kv(*from.kv, *to.kv, progress_printer("comment API"));
    if (!r) {
      std::fprintf(stderr, "greyflux: %s\n", r.error().message.c_str());
      return 1;
    }
    print_report("comment API", *r);
  } else {
    std::printf("store copy: comment API: no comment store in %s, skipped\n", from.name.c_str());
  }
  return 0;
}

}  // namespace

int store_copy_command(const std::string& config, const std::vector<std::string>& overrides,
                       const StoreCopyArgs& args) {
  auto values = load_config(config, overrides);
  if (!values) {
    std::fprintf(stderr, "greyflux: %s\n", values.error().message.c_str());
    return 2;
  }
  auto margin = parse_duration(args.margin);
  if (!margin) {
    std::fprintf(stderr, "greyflux store copy: --margin: %s\n", margin.error().message.c_str());
    return 2;
  }
  CopyContext ctx{
      *values, {}, args.prefix.empty() ? values->str("store.redis_prefix") : args.prefix};
  if (auto ok = apply_greylist_settings(*values, ctx.settings); !ok) {
    std::fprintf(stderr, "greyflux: %s\n", ok.error().message.c_str());
    return 2;
  }
  if (args.from == args.to && args.from_cluster == args.to_cluster) {
    std::fprintf(stderr, "greyflux store copy: --from and --to are the same store\n");
    return 2;
  }
  auto from = open_side(args.from, args.from_cluster, true, ctx);
  if (!from) {
    std::fprintf(stderr, "greyflux: %s\n", from.error().message.c_str());
    return 1;
  }
  auto to = open_side(args.to, args.to_cluster, false, ctx);
  if (!to) {
    std::fprintf(stderr, "greyflux: %s\n", to.error().message.c_str());
    return 1;
  }
  return copy_both(*from, *to, ctx, *margin);
}

}  // namespace gf::app
