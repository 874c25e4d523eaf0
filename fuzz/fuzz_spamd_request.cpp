// Fuzzes the spamd request parser as the server drives it: every prefix of the input with and
// without end of input, then the reply writer on whatever was parsed.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/spamd/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gf::spamd::Limits limits;
  limits.max_line_bytes = 512;
  limits.max_message_bytes = 64 * 1024;
  limits.max_compressed_bytes = 16 * 1024;
  const std::string_view buf(reinterpret_cast<const char*>(data), size);
  // Growing prefixes, as reads arrive (a few cut points keep it fast).
  for (std::size_t cut : {size / 3, size / 2, size}) {
    for (bool eof : {false, true}) {
      gf::spamd::ParseOutcome r = gf::spamd::parse_request(buf.substr(0, cut), eof, limits);
      if (eof && r.status == gf::spamd::ParseStatus::NeedMore) {
        std::abort();  // at end of input there is always an answer
      }
      if (r.status == gf::spamd::ParseStatus::Error &&
          (r.error.rfind("SPAMD/1.0 ", 0) != 0 || r.error.find('\n') != r.error.size() - 1)) {
        std::abort();  // one well-formed error line
      }
      if (r.status == gf::spamd::ParseStatus::Ready) {
        if (r.request.message.size() > limits.max_message_bytes || r.request.wire_bytes > cut) {
          std::abort();
        }
        gf::spamd::Verdict v;
        v.symbols = {"A", "B"};
        v.rewritten = r.request.message;
        (void)gf::spamd::format_reply(r.request, v);
      }
    }
  }
  return 0;
}
