#include "core/common/redis_cluster.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace gf {
namespace {

using Type = RedisReply::Type;

constexpr std::array<std::uint16_t, 256> make_crc_table() {
  std::array<std::uint16_t, 256> t{};
  for (unsigned i = 0; i < 256; ++i) {
    std::uint16_t crc = static_cast<std::uint16_t>(i << 8);
    for (int b = 0; b < 8; ++b) {
      crc = (crc & 0x8000) != 0 ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021)
                                : static_cast<std::uint16_t>(crc << 1);
    }
    t[i] = crc;
  }
  return t;
}

constexpr std::array<std::uint16_t, 256> kCrcTable = make_crc_table();

Error bad(std::string what) { return Error{Errc::InvalidInput, "redis cluster: " + what}; }

template <class T>
bool parse_number(std::string_view s, T& out) {
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

bool is_text(const RedisReply& r) { return r.type == Type::String || r.type == Type::Status; }

// A slot number from an integer reply.
bool slot_of(const RedisReply& r, std::uint16_t& out) {
  if (r.type != Type::Integer || r.integer < 0 || r.integer >= kRedisSlots) {
    return false;
  }
  out = static_cast<std::uint16_t>(r.integer);
  return true;
}

// A port from an integer reply (CLUSTER SLOTS / SHARDS) or a decimal string.
bool port_of(const RedisReply& r, std::uint16_t& out) {
  long long v = -1;
  if (r.type == Type::Integer) {
    v = r.integer;
  } else if (!is_text(r) || !parse_number(r.str, v)) {
    return false;
  }
  if (v < 1 || v > 65535) {
    return false;
  }
  out = static_cast<std::uint16_t>(v);
  return true;
}

// Adds `e` to the map's shard whose master it is (a new shard when none), with `range`.
std::size_t shard_for(RedisSlotMap& map, const RedisEndpoint& master) {
  for (std::size_t i = 0; i < map.shards.size(); ++i) {
    if (map.shards[i].master == master) {
      return i;
    }
  }
  map.shards.push_back(RedisShard{{}, master, {}});
  return map.shards.size() - 1;
}

void add_replica(RedisShard& s, const RedisEndpoint& e) {
  if (s.master == e || std::find(s.replicas.begin(), s.replicas.end(), e) != s.replicas.end()) {
    return;
  }
  s.replicas.push_back(e);
}

// Fills map.owner from the shards' ranges; an overlap is an error.
Result<RedisSlotMap> finish(RedisSlotMap map) {
  map.owner.assign(kRedisSlots, kNoShard);
  for (std::size_t i = 0; i < map.shards.size(); ++i) {
    for (const RedisSlotRange& r : map.shards[i].ranges) {
      for (std::uint32_t s = r.first; s <= r.last; ++s) {
        if (map.owner[s] != kNoShard) {  // also bounds the work: each slot is set once
          return tl::unexpected(bad("slot " + std::to_string(s) + " is listed twice"));
        }
        map.owner[s] = static_cast<std::uint16_t>(i);
      }
    }
  }
  return map;
}

// A node entry of CLUSTER SLOTS: [host, port, id?, metadata?]; `skip` when its endpoint is
// unknown ("?").
Result<RedisEndpoint> slots_node(const RedisReply& n, std::string_view asked_host, bool& skip) {
  skip = false;
  RedisEndpoint e;
  if (n.type != Type::Array || n.elements.size() < 2 || !is_text(n.elements[0]) ||
      !port_of(n.elements[1], e.port)) {
    return tl::unexpected(bad("a CLUSTER SLOTS node is not [host, port, ...]"));
  }
  e.host = n.elements[0].str;
  if (e.host == "?") {
    skip = true;
  } else if (e.host.empty()) {
    e.host = std::string(asked_host);
  }
  return e;
}

// A RESP2 map (flat array k, v, k, v): the value under `name`, or nullptr.
const RedisReply* field(const RedisReply& m, std::string_view name) {
  for (std::size_t i = 0; i + 1 < m.elements.size(); i += 2) {
    if (is_text(m.elements[i]) && m.elements[i].str == name) {
      return &m.elements[i + 1];
    }
  }
  return nullptr;
}

std::string text_field(const RedisReply& m, std::string_view name) {
  const RedisReply* v = field(m, name);
  return v != nullptr && is_text(*v) ? v->str : std::string();
}

struct ShardNode {
  RedisEndpoint at;
  bool master = false;
  bool failed = false;  // health "fail"; "loading" (a replica not synced yet) is still a node
};

Result<ShardNode> shards_node(const RedisReply& n, std::string_view asked_host, bool& skip) {
  skip = false;
  if (n.type != Type::Array || n.elements.size() % 2 != 0) {
    return tl::unexpected(bad("a CLUSTER SHARDS node is not a map"));
  }
  ShardNode out;
  const RedisReply* port = field(n, "port");
  if (port == nullptr || !port_of(*port, out.at.port)) {
    return tl::unexpected(bad("a CLUSTER SHARDS node has no port"));
  }
  std::string host = text_field(n, "endpoint");
  if (host.empty() || host == "?") {
    host = text_field(n, "ip");
  }
  if (host == "?") {
    skip = true;
  }
  out.at.host = host.empty() ? std::string(asked_host) : host;
  out.master = text_field(n, "role") == "master";
  out.failed = text_field(n, "health") == "fail";
  return out;
}

Result<void> shard_entry(const RedisReply& s, std::string_view asked_host, RedisSlotMap& map) {
  if (s.type != Type::Array || s.elements.size() % 2 != 0) {
    return tl::unexpected(bad("a CLUSTER SHARDS entry is not a map"));
  }
  const RedisReply* slots = field(s, "slots");
  const RedisReply* nodes = field(s, "nodes");
  if (slots == nullptr || nodes == nullptr || slots->type != Type::Array ||
      nodes->type != Type::Array || slots->elements.size() % 2 != 0) {
    return tl::unexpected(bad("a CLUSTER SHARDS entry lacks slots or nodes"));
  }
  if (nodes->elements.size() > kMaxRedisReplicas + 1) {
    return tl::unexpected(bad("a shard lists too many nodes"));
  }
  std::vector<RedisSlotRange> ranges;
  for (std::size_t i = 0; i < slots->elements.size(); i += 2) {
    RedisSlotRange r;
    if (!slot_of(slots->elements[i], r.first) || !slot_of(slots->elements[i + 1], r.last) ||
        r.first > r.last) {
      return tl::unexpected(bad("a CLUSTER SHARDS slot range is not first <= last < 16384"));
    }
    ranges.push_back(r);
  }
  std::vector<ShardNode> found;
  for (const RedisReply& n : nodes->elements) {
    bool skip = false;
    auto node = shards_node(n, asked_host, skip);
    if (!node) {
      return tl::unexpected(node.error());
    }
    if (!skip) {
      found.push_back(*node);
    }
  }
  // The master: one not failed first (a failed old master may still say "master").
  auto master = std::find_if(found.begin(), found.end(),
                             [](const ShardNode& n) { return n.master && !n.failed; });
  if (master == found.end()) {
    master = std::find_if(found.begin(), found.end(), [](const ShardNode& n) { return n.master; });
  }
  if (ranges.empty() || master == found.end()) {
    return {};  // a master without slots, or no reachable master: nothing to route there
  }
  RedisShard& shard = map.shards[shard_for(map, master->at)];
  shard.ranges.insert(shard.ranges.end(), ranges.begin(), ranges.end());
  for (const ShardNode& n : found) {
    if (!n.master && !n.failed) {
      add_replica(shard, n.at);
    }
  }
  return {};
}

}  // namespace

std::uint16_t redis_crc16(std::string_view bytes) {
  std::uint16_t crc = 0;
  for (const char c : bytes) {
    const auto b = static_cast<std::uint8_t>(c);
    crc = static_cast<std::uint16_t>((crc << 8) ^ kCrcTable[((crc >> 8) ^ b) & 0xff]);
  }
  return crc;
}

std::string_view redis_hash_tag(std::string_view key) {
  const std::size_t open = key.find('{');
  if (open == std::string_view::npos) {
    return key;
  }
  const std::size_t close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) {
    return key;  // no '}', or "{}": the whole key
  }
  return key.substr(open + 1, close - open - 1);
}

std::uint16_t redis_key_slot(std::string_view key) {
  return static_cast<std::uint16_t>(redis_crc16(redis_hash_tag(key)) & (kRedisSlots - 1));
}

std::string format_endpoint(const RedisEndpoint& e) {
  const bool v6 = e.host.find(':') != std::string::npos;
  return (v6 ? "[" + e.host + "]" : e.host) + ":" + std::to_string(e.port);
}

bool is_redis_redirect(std::string_view error) {
  return error.starts_with("MOVED ") || error.starts_with("ASK ");
}

Result<RedisRedirect> parse_redis_redirect(std::string_view error, std::string_view answered_host) {
  RedisRedirect r;
  std::string_view rest;
  if (error.starts_with("MOVED ")) {
    r.kind = RedisRedirect::Kind::Moved;
    rest = error.substr(6);
  } else if (error.starts_with("ASK ")) {
    r.kind = RedisRedirect::Kind::Ask;
    rest = error.substr(4);
  } else {
    return tl::unexpected(bad("not a MOVED or ASK reply"));
  }
  const std::size_t sp = rest.find(' ');
  if (sp == std::string_view::npos || !parse_number(rest.substr(0, sp), r.slot) ||
      r.slot >= kRedisSlots) {
    return tl::unexpected(bad("a redirect without a slot number below 16384"));
  }
  const std::string_view at = rest.substr(sp + 1);
  const std::size_t colon = at.rfind(':');  // IPv6 addresses come without brackets
  if (colon == std::string_view::npos || !parse_number(at.substr(colon + 1), r.to.port) ||
      r.to.port == 0) {
    return tl::unexpected(bad("a redirect without host:port"));
  }
  std::string_view host = at.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.find_first_of(" \r\n") != std::string_view::npos) {
    return tl::unexpected(bad("a redirect with a malformed host"));
  }
  r.to.host = host.empty() || host == "?" ? std::string(answered_host) : std::string(host);
  return r;
}

bool RedisSlotMap::complete() const {
  return owner.size() == kRedisSlots &&
         std::none_of(owner.begin(), owner.end(), [](std::uint16_t o) { return o == kNoShard; });
}

const RedisShard* RedisSlotMap::shard_of(std::uint16_t slot) const {
  if (slot >= owner.size() || owner[slot] == kNoShard) {
    return nullptr;
  }
  return &shards[owner[slot]];
}

std::vector<RedisEndpoint> RedisSlotMap::endpoints() const {
  std::vector<RedisEndpoint> out;
  auto add = [&out](const RedisEndpoint& e) {
    if (std::find(out.begin(), out.end(), e) == out.end()) {
      out.push_back(e);
    }
  };
  for (const RedisShard& s : shards) {
    add(s.master);
  }
  for (const RedisShard& s : shards) {
    for (const RedisEndpoint& e : s.replicas) {
      add(e);
    }
  }
  return out;
}

Result<RedisSlotMap> parse_cluster_slots(const RedisReply& reply, std::string_view asked_host) {
  if (reply.type == Type::Error) {
    return tl::unexpected(bad("CLUSTER SLOTS failed: " + reply.str));
  }
  if (reply.type != Type::Array) {
    return tl::unexpected(bad("CLUSTER SLOTS did not answer an array"));
  }
  RedisSlotMap map;
  for (const RedisReply& e : reply.elements) {
    RedisSlotRange range;
    if (e.type != Type::Array || e.elements.size() < 3 || !slot_of(e.elements[0], range.first) ||
        !slot_of(e.elements[1], range.last) || range.first > range.last) {
      return tl::unexpected(bad("a CLUSTER SLOTS entry is not [first, last, master, ...]"));
    }
    if (e.elements.size() > kMaxRedisReplicas + 3) {
      return tl::unexpected(bad("a CLUSTER SLOTS entry lists too many replicas"));
    }
    bool skip = false;
    auto master = slots_node(e.elements[2], asked_host, skip);
    if (!master) {
      return tl::unexpected(master.error());
    }
    if (skip) {
      continue;  // the master's endpoint is unknown: its slots stay unrouted
    }
    const std::size_t at = shard_for(map, *master);
    if (map.shards.size() > kMaxRedisShards) {
      return tl::unexpected(bad("CLUSTER SLOTS lists too many masters"));
    }
    map.shards[at].ranges.push_back(range);
    for (std::size_t i = 3; i < e.elements.size(); ++i) {
      auto replica = slots_node(e.elements[i], asked_host, skip);
      if (!replica) {
        return tl::unexpected(replica.error());
      }
      if (!skip) {
        add_replica(map.shards[at], *replica);
      }
    }
  }
  return finish(std::move(map));
}

Result<RedisSlotMap> parse_cluster_shards(const RedisReply& reply, std::string_view asked_host) {
  if (reply.type == Type::Error) {
    return tl::unexpected(bad("CLUSTER SHARDS failed: " + reply.str));
  }
  if (reply.type != Type::Array) {
    return tl::unexpected(bad("CLUSTER SHARDS did not answer an array"));
  }
  if (reply.elements.size() > kMaxRedisShards) {
    return tl::unexpected(bad("CLUSTER SHARDS lists too many shards"));
  }
  RedisSlotMap map;
  for (const RedisReply& s : reply.elements) {
    if (auto ok = shard_entry(s, asked_host, map); !ok) {
      return tl::unexpected(ok.error());
    }
  }
  return finish(std::move(map));
}

}  // namespace gf
