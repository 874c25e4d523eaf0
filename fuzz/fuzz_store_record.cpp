// Fuzzes the stored-record decoder: anything read back from a store is untrusted.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/greylist/store.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = gf::greylist::decode_record(std::string_view(reinterpret_cast<const char*>(data), size));
  if (r && gf::greylist::encode_record(*r) !=
               std::string_view(reinterpret_cast<const char*>(data), size)) {
    std::abort();  // decode then encode must give the same bytes back
  }
  return 0;
}
