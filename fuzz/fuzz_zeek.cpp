// Fuzzes the Zeek dns.log parser, TSV (header directives and rows) and JSON lines. Asserted:
// a line yields at most one response and is never both a response and a bad record, the
// tracker holds no more names than observations, and a second reader fed the same lines ends
// with the same counts (no hidden state).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/common/strings.hpp"
#include "core/flux/ingest.hpp"
#include "io/capture/capture.hpp"

namespace {

struct Outcome {
  std::string summary;
  std::size_t names = 0;
};

Outcome read_lines(std::string_view text) {
  gf::flux::Tracker tracker({}, nullptr, nullptr);
  gf::flux::Ingest ingest(tracker);
  gf::io::ZeekReader reader(ingest, 0);
  for (std::string_view line : gf::split(text, '\n')) {
    const gf::flux::IngestStats before = ingest.stats();
    reader.feed_line(line);
    const gf::flux::IngestStats& after = ingest.stats();
    const std::uint64_t observed = after.observations - before.observations;
    const std::uint64_t bad = after.bad_records - before.bad_records;
    if (observed > 1 || (observed == 1 && bad != 0)) {
      std::abort();
    }
  }
  if (tracker.size() > ingest.stats().observations) {
    std::abort();
  }
  return {ingest.stats().summary(), tracker.size()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const Outcome a = read_lines(text);
  const Outcome b = read_lines(text);
  if (a.summary != b.summary || a.names != b.names) {
    std::abort();
  }
  return 0;
}
