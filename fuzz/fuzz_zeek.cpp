// Fuzzes the Zeek dns.log parser, TSV (header directives and rows) and JSON lines.
#include <cstdint>
#include <string_view>

#include "core/common/strings.hpp"
#include "core/flux/ingest.hpp"
#include "io/capture/capture.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gf::flux::Tracker tracker({}, nullptr, nullptr);
  gf::flux::Ingest ingest(tracker);
  gf::io::ZeekReader reader(ingest, 0);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (std::string_view line : gf::split(text, '\n')) {
    reader.feed_line(line);
  }
  return 0;
}
