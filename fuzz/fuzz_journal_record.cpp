// Fuzzes the write journal's reader (core/common/journal_codec.hpp): a journal file read back at
// start-up is untrusted (a kill mid-write, a damaged disk). The first byte picks the header or
// the record reader; whole records read back must encode to exactly the bytes they came from.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/common/journal_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (!in.empty() && in[0] == 'H') {
    in.remove_prefix(1);
    if (auto h = gf::parse_journal_header(in)) {
      if (gf::encode_journal_header(*h).size() != gf::kJournalHeaderSize) {
        std::abort();
      }
    }
    return 0;
  }
  const gf::JournalScan scan = gf::scan_journal_records(in);
  if (scan.consumed > in.size() ||
      (scan.stop == gf::JournalStop::End) != (scan.consumed == in.size())) {
    std::abort();  // End means every byte was a whole record
  }
  std::string again;
  for (const gf::JournalRecord& r : scan.records) {
    gf::append_journal_record(again, r.key, r.value ? &*r.value : nullptr);
  }
  if (again != in.substr(0, scan.consumed)) {
    std::abort();  // decode then encode gives the same bytes back
  }
  return 0;
}
