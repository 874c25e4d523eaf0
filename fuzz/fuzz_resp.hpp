#pragma once
// A small RESP2 reader for the fuzz targets that read Redis replies (hiredis decodes them in the
// daemon): +status, -error, :integer, $len bulk ($-1 nil), *count array (*-1 nil), CRLF ends
// lines, arrays nested at most 8 deep. read() gives one reply, nullopt on anything malformed.
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "core/common/redis_reply.hpp"

namespace gf::fuzz {

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

}  // namespace gf::fuzz
