// Fuzzes the MIME walker through GMime, the mail features and the scanner on arbitrary bytes:
// bounded output, no crash, no hang.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/mime/message.hpp"
#include "core/spamd/scanner.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const gf::spamd::Scanner scanner;
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  gf::mime::Limits limits;
  const gf::mime::Message m = gf::mime::parse_message(raw, limits);
  if (m.uris.size() > limits.max_uris || m.max_depth > limits.max_depth ||
      m.text.size() > limits.max_text_bytes + 1 || m.received.size() > limits.max_received) {
    std::abort();
  }
  const gf::spamd::Analysis a = scanner.scan(m, true);
  (void)gf::spamd::format_report(a, m.subject);
  (void)gf::spamd::rewrite_message(raw, a, "fuzz", "0");
  return 0;
}
