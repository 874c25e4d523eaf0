#pragma once
// Listen addresses from config text: "127.0.0.1:10023", "[::1]:10023", "unix:/run/x.sock".
#include <cstdint>
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace gf::io {

struct ListenSpec {
  bool is_unix = false;
  std::string host;  // numeric address for TCP
  std::uint16_t port = 0;
  std::string path;  // for unix sockets

  std::string to_string() const;
};

[[nodiscard]] Result<ListenSpec> parse_listen(std::string_view text);

}  // namespace gf::io
