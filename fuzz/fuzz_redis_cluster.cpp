// Fuzzes what greyflux reads from a Redis Cluster node: the input is one RESP2 reply (decoded
// here by a small test-only reader; hiredis does it in the daemon). An error reply goes to
// parse_redis_redirect(), anything else to parse_cluster_slots() and parse_cluster_shards().
// Asserted: no throw, every refusal says why, an accepted map routes every slot it claims to a
// shard that lists the slot, an accepted redirect names a slot below 16384 and a port; and the
// greylist's slot tags invert exactly on the raw input taken as a key.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "core/common/redis_cluster.hpp"
#include "core/greylist/slot_tag.hpp"
#include "fuzz_resp.hpp"

namespace {

using gf::RedisReply;
using gf::fuzz::Resp;

void check_map(const gf::Result<gf::RedisSlotMap>& map) {
  if (!map) {
    if (map.error().message.empty()) {
      std::abort();
    }
    return;
  }
  if (map->owner.size() != gf::kRedisSlots) {
    std::abort();
  }
  for (std::size_t i = 0; i < map->shards.size(); ++i) {
    for (const gf::RedisSlotRange& r : map->shards[i].ranges) {
      if (r.first > r.last || r.last >= gf::kRedisSlots || map->owner[r.first] != i ||
          map->owner[r.last] != i) {
        std::abort();
      }
    }
  }
  for (std::uint16_t o : map->owner) {
    if (o != gf::kNoShard && o >= map->shards.size()) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string stored = gf::greylist::key::with_slot_tag(text);
  if (gf::greylist::key::without_slot_tag(stored) != std::string(text)) {
    std::abort();
  }
  if (gf::redis_key_slot(stored) >= gf::kRedisSlots) {
    std::abort();
  }
  Resp resp(text);
  const std::optional<RedisReply> reply = resp.read();
  if (!reply) {
    return 0;
  }
  if (reply->type == RedisReply::Type::Error) {
    auto r = gf::parse_redis_redirect(reply->str, "127.0.0.1");
    if (r ? (r->slot >= gf::kRedisSlots || r->to.port == 0 || r->to.host.empty())
          : r.error().message.empty()) {
      std::abort();
    }
    return 0;
  }
  check_map(gf::parse_cluster_slots(*reply, "127.0.0.1"));
  check_map(gf::parse_cluster_shards(*reply, "127.0.0.1"));
  return 0;
}
