#pragma once
// RedisReply: one Redis reply as a value (copied out of hiredis's redisReply by the io layer),
// so that the core can read replies it must understand (a cluster's slot map) without hiredis.
// RESP2 shapes only: a map comes as a flat array of key, value, key, value ...
#include <string>
#include <vector>

namespace gf {

struct RedisReply {
  enum class Type { Nil, String, Integer, Array, Status, Error };
  Type type = Type::Nil;
  std::string str;  // String, Status, Error
  long long integer = 0;
  std::vector<RedisReply> elements;
};

}  // namespace gf
