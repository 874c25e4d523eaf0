// Fuzzes sender normalisation. Asserted: it terminates, grows by at most the '@' that SRS
// puts back, is idempotent (a normalised sender normalises to itself, so a key computed from
// stored or logged senders matches the live one), and address_domain() returns the part after
// the last '@' of its input, a suffix of it.
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
  if (gf::greylist::normalize_sender(n) != n) {
    std::abort();  // not idempotent
  }
  const std::string_view domain = gf::greylist::address_domain(n);
  if (!domain.empty() &&
      (!std::string_view(n).ends_with(domain) || domain.find('@') != std::string_view::npos)) {
    std::abort();
  }
  return 0;
}
