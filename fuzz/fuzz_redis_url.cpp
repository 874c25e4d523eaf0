// Fuzzes the store.redis_url parser (config text). Asserted: it terminates without throwing;
// whatever it accepts, format_redis_url() writes back a URL that parses to the same value (so
// the URL greyflux logs and `dump-config` prints means what the operator wrote), and the
// redacted form shows "***" in place of the password.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/common/redis_url.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto url = gf::parse_redis_url(text);
  if (!url) {
    if (url.error().message.empty()) {
      std::abort();  // every refusal says why
    }
    return 0;
  }
  auto again = gf::parse_redis_url(gf::format_redis_url(*url, /*redact=*/false));
  if (!again || !(*again == *url)) {
    std::abort();
  }
  if (url->has_password) {
    auto shown = gf::parse_redis_url(gf::format_redis_url(*url, /*redact=*/true));
    if (!shown || shown->password != "***" || shown->user != url->user) {
      std::abort();
    }
  }
  return 0;
}
