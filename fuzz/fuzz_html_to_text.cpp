// Fuzzes the HTML-to-text converter used for text/html parts and comments.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/classify/html.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view html(reinterpret_cast<const char*>(data), size);
  const gf::classify::HtmlText t = gf::classify::html_to_text(html);
  // Entities never expand more than a few bytes each.
  if (t.text.size() > 8 * size + 16) {
    std::abort();
  }
  (void)gf::classify::decode_entities(html);
  return 0;
}
