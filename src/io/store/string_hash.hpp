#pragma once
// Transparent string hashing, so the stores' pending-write maps are searched with a string_view
// key without building a std::string.
#include <functional>
#include <string_view>

namespace gf::io {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace gf::io
