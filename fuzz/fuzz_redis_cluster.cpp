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

namespace {

using gf::RedisReply;

// RESP2: +status, -error, :integer, $len bulk ($-1 nil), *count array (*-1 nil); CRLF ends lines.
class Resp {
 public:
  explicit Resp(std::string_view in) : in_(in) {}
  std::optional<RedisReply> read(int depth = 0) {
    if (depth > 8 || at_ >= in_.size()) {
      return std::nullopt;
    }
    const char kind = in_[at_++];
    auto line = read_line();
    if (!line) {
      return std::nullopt;
    }
    RedisReply r;
    switch (kind) {
      case '+':
        r.type = RedisReply::Type::Status;
        r.str = *line;
        return r;
      case '-':
        r.type = RedisReply::Type::Error;
        r.str = *line;
        return r;
      case ':':
        r.type = RedisReply::Type::Integer;
        r.integer = std::strtoll(std::string(*line).c_str(), nullptr, 10);
        return r;
      case '$':
        return bulk(*line);
      case '*':
        return array(*line, depth);
      default:
        return std::nullopt;
    }
  }

 private:
  std::optional<std::string_view> read_line() {
    const std::size_t end = in_.find("\r\n", at_);
    if (end == std::string_view::npos) {
      return std::nullopt;
    }
    std::string_view line = in_.substr(at_, end - at_);
    at_ = end + 2;
    return line;
  }
  std::optional<RedisReply> bulk(std::string_view len_text) {
    const long long len = std::strtoll(std::string(len_text).c_str(), nullptr, 10);
    RedisReply r;
    if (len < 0) {
      return r;  // nil
    }
    if (static_cast<unsigned long long>(len) + 2 > in_.size() - at_) {
      return std::nullopt;
    }
    r.type = RedisReply::Type::String;
    r.str = std::string(in_.substr(at_, static_cast<std::size_t>(len)));
    at_ += static_cast<std::size_t>(len) + 2;
    return r;
  }
  std::optional<RedisReply> array(std::string_view count_text, int depth) {
    const long long n = std::strtoll(std::string(count_text).c_str(), nullptr, 10);
    RedisReply r;
    if (n < 0) {
      return r;
    }
    if (static_cast<unsigned long long>(n) > in_.size()) {
      return std::nullopt;  // cannot hold that many elements
    }
    r.type = RedisReply::Type::Array;
    for (long long i = 0; i < n; ++i) {
      auto e = read(depth + 1);
      if (!e) {
        return std::nullopt;
      }
      r.elements.push_back(std::move(*e));
    }
    return r;
  }
  std::string_view in_;
  std::size_t at_ = 0;
};

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
