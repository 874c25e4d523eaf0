// Fuzzes the admin command codec as the admin door drives it: frame the buffer as reads arrive,
// parse a complete line; a parsed command must print back to a line that parses to the same
// command, and an error must be one bounded line.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/admin/command.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gf::admin;
  const std::string_view buf(reinterpret_cast<const char*>(data), size);
  for (std::size_t cut : {size / 2, size}) {
    const FrameOutcome f = frame_command(buf.substr(0, cut));
    if (f.status == FrameStatus::Error && f.error.empty()) {
      std::abort();
    }
    if (f.status != FrameStatus::Complete) {
      continue;
    }
    if (f.line.size() > kMaxLineBytes || f.line.find('\n') != std::string_view::npos) {
      std::abort();  // a framed line is bounded and holds no line break
    }
  }
  // The parser also takes any text (the CLI hands it argv words joined).
  const auto parsed = parse_command(buf);
  if (!parsed) {
    const std::string& e = parsed.error().message;
    if (e.empty() || e.find('\n') != std::string::npos || e.size() > 512) {
      std::abort();  // one line, bounded, whatever the input
    }
    return 0;
  }
  const auto again = parse_command(format_command(*parsed));
  if (!again || !(*again == *parsed)) {
    std::abort();
  }
  return 0;
}
