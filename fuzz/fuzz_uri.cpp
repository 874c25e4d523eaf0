// Fuzzes URI extraction, host parsing and href normalisation.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/mime/uri.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto uris = gf::mime::extract_uris(text, 50);
  if (uris.size() > 50) {
    std::abort();
  }
  for (const auto& u : uris) {
    if (gf::mime::uri_host(u).empty()) {
      std::abort();  // only URIs with a host are extracted
    }
  }
  (void)gf::mime::normalize_href(text);
  (void)gf::mime::uri_host(text);
  return 0;
}
