#pragma once
// Redis Cluster, the pure part: which slot a key hashes to, what a MOVED/ASK redirect says, and
// the slot map a node describes with CLUSTER SHARDS (Redis 7) or CLUSTER SLOTS (older ones).
// The io layer (io/store/redis_client.hpp) routes each command by redis_key_slot() of its key to
// the master that owns the slot in the current map, follows redirects and refreshes the map.
//
// Slots: CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0) of the key modulo 16384, as
// the cluster specification defines it. When the key holds a '{' followed later by a '}' with
// at least one byte between them, only the bytes between the first '{' and the first '}' after
// it are hashed (the hash tag), so keys sharing a tag share a slot: "{u1}.a" and "{u1}.b".
//
// Error contract: the parsers read replies and error text from the network and never throw;
// anything unexpected is InvalidInput with a message that says what.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/redis_reply.hpp"
#include "core/common/result.hpp"

namespace gf {

inline constexpr std::uint16_t kRedisSlots = 16384;
inline constexpr std::uint16_t kNoShard = 0xffff;  // a slot no shard serves

std::uint16_t redis_crc16(std::string_view bytes);
// The bytes of `key` that decide its slot (the hash tag, or the whole key).
std::string_view redis_hash_tag(std::string_view key);
std::uint16_t redis_key_slot(std::string_view key);

struct RedisEndpoint {
  std::string host;  // a name or an address; IPv6 without brackets
  std::uint16_t port = 0;
  friend bool operator==(const RedisEndpoint&, const RedisEndpoint&) = default;
};
// "host:port", "[v6]:port".
std::string format_endpoint(const RedisEndpoint& e);

// The error text of a redirect reply: "MOVED 3999 127.0.0.1:6381" (the slot lives there now;
// ask there from now on) or "ASK 3999 127.0.0.1:6381" (this one command goes there, after
// ASKING, while the slot migrates). An empty host (":6381", "unknown endpoint") means the host
// of the node that answered: `answered_host`.
struct RedisRedirect {
  enum class Kind { Moved, Ask };
  Kind kind = Kind::Moved;
  std::uint16_t slot = 0;
  RedisEndpoint to;
};
bool is_redis_redirect(std::string_view error);
[[nodiscard]] Result<RedisRedirect> parse_redis_redirect(std::string_view error,
                                                         std::string_view answered_host);

struct RedisSlotRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0;  // inclusive
  friend bool operator==(const RedisSlotRange&, const RedisSlotRange&) = default;
};

// One master, the slots it serves and its replicas.
struct RedisShard {
  std::vector<RedisSlotRange> ranges;
  RedisEndpoint master;
  std::vector<RedisEndpoint> replicas;
};

struct RedisSlotMap {
  std::vector<RedisShard> shards;
  std::vector<std::uint16_t> owner;  // kRedisSlots entries: index in shards, or kNoShard

  // Every slot served by some shard (the cluster's "cluster_state:ok" as far as we route).
  bool complete() const;
  // The shard that serves `slot`, or nullptr.
  const RedisShard* shard_of(std::uint16_t slot) const;
  // Every endpoint once: masters first (in shard order), then replicas.
  std::vector<RedisEndpoint> endpoints() const;
};

// Limits on what a reply may describe, so a hostile or broken peer cannot make us allocate
// without bound.
inline constexpr std::size_t kMaxRedisShards = 1024;
inline constexpr std::size_t kMaxRedisReplicas = 64;

// The reply of CLUSTER SLOTS: [[first, last, [host, port, id, ...], [replica...]...], ...].
// `asked_host` replaces an empty host ("the node you asked"); "?" (an unknown endpoint) skips
// that node. Ranges of one master are gathered into one shard.
[[nodiscard]] Result<RedisSlotMap> parse_cluster_slots(const RedisReply& reply,
                                                       std::string_view asked_host);
// The reply of CLUSTER SHARDS (Redis 7): [["slots", [first, last, ...], "nodes", [[k, v, ...],
// ...]], ...] with node fields id, port, ip, endpoint, hostname, role, health. The master is the
// node with role "master" (one whose health is not "fail" first); failed replicas are left out
// ("loading", a replica that has not synced yet, is kept: it is connected before it is needed).
[[nodiscard]] Result<RedisSlotMap> parse_cluster_shards(const RedisReply& reply,
                                                        std::string_view asked_host);

}  // namespace gf
