#pragma once
// The one Redis client of a greyflux process ([store] backend = "redis"): the greylist engine
// and the comment API share it (one Redis thread, one connection pool), so whichever opens
// first starts it and the other gets the same object.
#include <memory>
#include <string>

#include "core/common/result.hpp"
#include "io/store/redis_client.hpp"

namespace gf::app {

class Values;

// The client options from store.redis_* (validated with the config).
[[nodiscard]] Result<io::RedisOptions> redis_options(const Values& v);
// How the ready line and `store copy` name a Redis store: its URL with the password as ***, and
// " (cluster)" for a cluster.
std::string redis_store_name(const io::RedisOptions& o);
// The process's client for these options, started on first use (waiting until Redis answers,
// at most connect_timeout + 1 s: a startup error otherwise); alive while a holder is.
[[nodiscard]] Result<std::shared_ptr<io::RedisClient>> shared_redis_client(
    const io::RedisOptions& opts);
// The key prefixes of the two stores under store.redis_prefix.
std::string redis_greylist_prefix(const Values& v);
std::string redis_comment_prefix(const Values& v);
// `greyflux stats` lines: "redis.connected\t1\n" ... (state, round trips, failures).
std::string redis_stats_lines(const io::RedisStats& s);

}  // namespace gf::app
