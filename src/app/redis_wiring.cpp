#include "app/redis_wiring.hpp"

#include <fmt/format.h>

#include <mutex>

#include "app/settings.hpp"
#include "core/common/redis_url.hpp"

namespace gf::app {

Result<io::RedisOptions> redis_options(const Values& v) {
  auto url = parse_redis_url(v.str("store.redis_url"));
  if (!url) {
    return fail(Errc::Config, "store.redis_url: " + url.error().message);
  }
  io::RedisOptions o;
  o.url = *url;
  o.timeout = v.duration("store.redis_timeout");
  o.connect_timeout = v.duration("store.redis_connect_timeout");
  o.pool_size = static_cast<int>(v.integer("store.redis_pool_size"));
  o.cluster = v.boolean("store.cluster");
  return o;
}

std::string redis_store_name(const io::RedisOptions& o) {
  return format_redis_url(o.url) + (o.cluster ? " (cluster)" : "");
}

Result<std::shared_ptr<io::RedisClient>> shared_redis_client(const io::RedisOptions& opts) {
  static std::mutex mu;
  static std::weak_ptr<io::RedisClient> current;
  std::lock_guard lock(mu);
  if (auto c = current.lock();
      c && c->options().url == opts.url && c->options().cluster == opts.cluster) {
    return c;
  }
  auto started = io::RedisClient::start(opts);
  if (!started) {
    return tl::unexpected(started.error());
  }
  std::shared_ptr<io::RedisClient> c(std::move(*started));
  // Start-up reads the admin whitelist entries and the comment model: Redis must answer now
  // (later outages are served fail-open). A clear startup error otherwise.
  const Millis wait = opts.connect_timeout + Millis(1000);
  if (!c->wait_connected(wait)) {
    return fail(Errc::Config, fmt::format("store.redis_url: no answer from {} within {}ms",
                                          format_redis_url(opts.url), wait.count()));
  }
  current = c;
  return c;
}

std::string redis_greylist_prefix(const Values& v) { return v.str("store.redis_prefix") + "g:"; }
std::string redis_comment_prefix(const Values& v) { return v.str("store.redis_prefix") + "a:"; }

std::string redis_stats_lines(const io::RedisStats& s) {
  std::string out;
  auto line = [&out](std::string_view name, auto value) {
    out += fmt::format("redis.{}\t{}\n", name, value);
  };
  line("connected", s.connected);
  line("pool_size", s.pool_size);
  line("round_trips", s.round_trips);
  line("commands", s.commands);
  line("bytes_out", s.bytes_out);
  line("failures", s.failures);
  line("timeouts", s.timeouts);
  line("write_failures", s.write_failures);
  line("loops", s.loops);
  line("loops_ready", s.loops_ready);
  line("loop_calls", s.loop_calls);
  line("connects", s.connects);
  line("disconnects", s.disconnects);
  if (s.cluster) {
    line("cluster_redirects", s.redirects);
    line("cluster_ask_redirects", s.ask_redirects);
    line("cluster_map_refreshes", s.map_refreshes);
  }
  return out;
}

}  // namespace gf::app
