// Fuzzes the Postfix policy request parser as the server drives it: repeated parses of a buffer
// that may hold several requests, partial data and garbage.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/policy/request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gf::policy::Limits limits;
  limits.max_request_bytes = 4096;
  limits.max_attributes = 64;
  std::string_view buf(reinterpret_cast<const char*>(data), size);
  while (!buf.empty()) {
    gf::policy::ParseOutcome r = gf::policy::parse_request(buf, limits);
    if (r.consumed > buf.size()) {
      std::abort();  // a parser must never claim bytes it was not given
    }
    if (r.status != gf::policy::ParseStatus::Complete) {
      break;
    }
    if (r.consumed == 0 || r.request.request != "smtpd_access_policy") {
      std::abort();
    }
    (void)gf::policy::format_reply(r.request.sender);
    buf.remove_prefix(r.consumed);
  }
  return 0;
}
