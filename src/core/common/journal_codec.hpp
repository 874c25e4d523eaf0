#pragma once
// The write journal's file format: what a store appends before it acknowledges a write, so that
// a process killed before the next group commit loses nothing the kernel already holds.
//
// A journal file is a header followed by records, each checksummed on its own:
//   header  "GFWJRNL1" | generation u64 | boot id (40 bytes, NUL padded) | 0 u32 | crc32c u32
//   record  body length u32 | crc32c(body) u32 | body
//   body    op u8 (1 put, 2 erase) | key length u32 | key | value (puts only: the rest)
// Integers are little endian. The generation orders a store's two files; the boot id says which
// boot wrote the file (a journal written before a reboot is not replayed: the page cache it
// relied on is gone, the store holds what its last fsynced commit did).
//
// Pure: bytes in, records out. A journal read back is untrusted: scan_journal_records() never
// throws, stops at the first record that does not check out, and says whether the bytes ended
// inside a record (Torn: what a kill during a write leaves) or a record is wrong (Corrupt).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.hpp"

namespace gf {

inline constexpr std::size_t kJournalHeaderSize = 64;
inline constexpr std::size_t kJournalRecordOverhead = 8 + 1 + 4;  // before the key and value
inline constexpr std::uint32_t kJournalMaxBody = 64u << 20;

struct JournalHeader {
  std::uint64_t generation = 0;
  std::string boot_id;  // at most 40 bytes
};

struct JournalRecord {
  std::string_view key;
  std::optional<std::string_view> value;  // nullopt: an erase
};

enum class JournalStop { End, Torn, Corrupt };

struct JournalScan {
  std::vector<JournalRecord> records;  // views into the scanned bytes
  JournalStop stop = JournalStop::End;
  std::size_t consumed = 0;  // bytes of the whole records read
  std::string why;           // what was wrong, when stop != End
};

[[nodiscard]] std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc = 0);

[[nodiscard]] std::string encode_journal_header(const JournalHeader& h);
[[nodiscard]] Result<JournalHeader> parse_journal_header(std::string_view bytes);

// Appends one record to `out` (value nullptr: an erase).
void append_journal_record(std::string& out, std::string_view key, const std::string_view* value);

// The records of `bytes` (a journal file after its header), in order, up to the first that is
// torn or corrupt.
[[nodiscard]] JournalScan scan_journal_records(std::string_view bytes);

}  // namespace gf
