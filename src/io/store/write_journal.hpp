#pragma once
// WriteJournal: what makes an acknowledged store write survive kill -9 before its group commit.
//
// A kill -9 ends the process, not the kernel: bytes handed over with write() stay in the page
// cache and reach the file. So each staged write is also appended to a journal buffer, and the
// servers hand every buffer to the kernel (one write() per journal per batch of replies,
// flush_write_journals()) before they send the replies. A restart replays the journal into the
// store before serving. Only a power loss needs fsync, and the journal has none: after a reboot
// (another boot id in its header) it is not replayed, and the store holds what its last fsynced
// commit did (up to one commit interval plus the commit in flight is lost, as without it).
//
// Two files, <dir>/write-journal.0 and .1, alternate. Records go to the current one; when the
// group commit swaps its pending map out (seal(), under its lock) the current file is sealed and
// the other, empty one becomes current; once that round has committed (committed()) the sealed
// file is truncated. A round that fails keeps its file; the next round then seals nothing new and
// its success truncates the old one. Replay therefore reads records that the store may already
// hold; applied in order they still give the newest acknowledged value of every key.
//
// The files are locked (flock) by the process that journals into them: a CLI that opens the
// store while the daemon runs finds them locked and leaves them alone; one that opens it after a
// kill replays them.
//
// Errors: a failed write() is counted and logged once per outage (at info: a full disk also
// fails the store's next commit, whose line is the outage's one error line); the file is cut
// back to its last whole record and the writes stay protected by the group commit alone. A corrupt
// journal is logged in one line; the records before the damage are replayed, the rest dropped.
// Threading: append() needs the owner's lock (stage order is file order); write_out() and
// flush_write_journals() are safe from any thread.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/journal_codec.hpp"
#include "core/common/result.hpp"

namespace gf::io {

struct JournalCounters {
  std::uint64_t journal_writes = 0;  // write() calls
  std::uint64_t journal_bytes = 0;
  std::uint64_t journal_errors = 0;
};

// What a start found in the journal (for its log line and the tests).
struct JournalReplayInfo {
  std::size_t records = 0;
  std::size_t bytes = 0;
  bool torn = false;        // a record cut short at the end (a kill during a write)
  bool corrupt = false;     // a record or header that does not check out (one warning was logged)
  bool stale_boot = false;  // written before a reboot: not replayed
};

class WriteJournal {
 public:
  using ApplyFn = std::function<Result<void>(const std::vector<JournalRecord>&)>;

  // Locks the journal files in `dir`; nullptr (not an error) when another process holds them.
  // `label` names the store in log lines.
  [[nodiscard]] static Result<std::unique_ptr<WriteJournal>> open(const std::string& dir,
                                                                  std::string label);
  ~WriteJournal();
  WriteJournal(const WriteJournal&) = delete;
  WriteJournal& operator=(const WriteJournal&) = delete;

  // Hands the records the files hold (oldest file first) to `apply` in one call, then empties
  // the files. An apply error is returned and the files are kept.
  [[nodiscard]] Result<JournalReplayInfo> replay(const ApplyFn& apply);
  // Starts journaling: writes the current file's header and joins flush_write_journals().
  [[nodiscard]] Result<void> start();

  // Needs the owner's lock. Appends one record (value nullptr: an erase) to the buffer.
  void append(std::string_view key, const std::string_view* value);
  // Hands the buffer to the kernel (one write()).
  void write_out();
  // Needs the owner's lock, at the group commit's swap: writes the buffer out and seals the
  // current file (rotating to the other) when the other is empty.
  void seal();
  // After a successful commit of the round sealed last: empties the sealed file.
  void committed();

  JournalCounters counters();

 private:
  WriteJournal() = default;
  void write_header_locked();
  void write_buffer_locked();

  std::string label_;
  std::string paths_[2];
  int fds_[2] = {-1, -1};
  std::string boot_id_;

  std::mutex mu_;  // guards everything below; taken inside the owner's lock
  std::string buf_;
  int current_ = 0;
  bool sealed_[2] = {false, false};  // holds records of a swapped-out round
  std::uint64_t size_[2] = {0, 0};   // bytes of whole records (header included)
  std::uint64_t generation_ = 0;
  bool failing_ = false;
  bool started_ = false;
  JournalCounters counters_;
  std::atomic<bool> dirty_{false};
};

// Hands every open journal's buffered records to the kernel. The servers call it before they
// write replies, so an acknowledged write is in the page cache before its acknowledgement.
void flush_write_journals();

// This boot's id (/proc/sys/kernel/random/boot_id), or "" when unreadable.
std::string current_boot_id();

}  // namespace gf::io
