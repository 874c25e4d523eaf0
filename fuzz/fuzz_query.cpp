// Fuzzes the URL query parser of the admin API (core/common/query.hpp: ?range=, ?limit=).
// Asserted: it terminates without throwing; a decoded value is never longer than its input; a
// parameter found once is found again when the query is prefixed by an unrelated one.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/common/query.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (gf::url_decode(text).size() > text.size()) {
    std::abort();
  }
  for (std::string_view name : {"range", "limit", ""}) {
    auto v = gf::query_param(text, name);
    if (v && v->size() > text.size()) {
      std::abort();
    }
    auto again = gf::query_param("zz_unrelated=1&" + std::string(text), name);
    if (v != again) {
      std::abort();
    }
  }
  return 0;
}
