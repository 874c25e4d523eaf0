// Fuzzes the postgrey-format whitelist parsers and matchers.
#include <cstdint>
#include <string_view>

#include "core/greylist/whitelist.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size > 8192) {
    return 0;  // std::regex compile time grows fast with pattern length; real files are small
  }
  gf::greylist::ClientWhitelist clients;
  (void)clients.add_text(text, "fuzz");
  gf::greylist::RecipientWhitelist recipients;
  (void)recipients.add_text(text, "fuzz");
  const auto ip = gf::parse_ip("192.0.2.1").value();
  (void)clients.matches(ip, "mail.example.com");
  (void)recipients.matches("postmaster@example.com");
  const std::size_t nl = text.find('\n');
  const std::string_view first = text.substr(0, nl == std::string_view::npos ? 40 : nl);
  if (first.size() < 64) {
    (void)clients.matches(ip, first);
    (void)recipients.matches(first);
    (void)clients.remove_entry(first);
  }
  return 0;
}
