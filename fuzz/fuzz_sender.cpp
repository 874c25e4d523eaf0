// Fuzzes sender normalisation: it must terminate, never grow without bound, and be idempotent
// on its own output's domain handling.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/greylist/sender.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view s(reinterpret_cast<const char*>(data), size);
  const std::string n = gf::greylist::normalize_sender(s);
  if (n.size() > s.size() + 1) {
    std::abort();  // only '@' may be added back when SRS moves the domain
  }
  (void)gf::greylist::address_domain(n);
  return 0;
}
