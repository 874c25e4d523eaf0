// Fuzzes the HTML stripper and the entity decoder: they must terminate, keep output within a
// constant factor of the input (entities expand to at most 4 bytes for a reference of 3+), and
// never report more links than the input has attributes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/classify/html.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view html(reinterpret_cast<const char*>(data), size);
  const gf::classify::HtmlText t = gf::classify::html_to_text(html);
  if (t.text.size() > 2 * size + 16) {
    std::abort();
  }
  if (t.links.size() > size / 4 + 1) {
    std::abort();
  }
  const std::string d = gf::classify::decode_entities(html);
  if (d.size() > 2 * size + 16) {
    std::abort();
  }
  return 0;
}
