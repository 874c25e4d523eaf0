#include "io/store/write_journal.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <shared_mutex>

#include "io/sys/file.hpp"

namespace gf::io {
namespace {

// The journals flush_write_journals() hands to the kernel (a daemon has three: greylist,
// comment API, TELL journal).
struct Registry {
  std::shared_mutex mu;
  std::vector<WriteJournal*> journals;
};
Registry& registry() {
  static Registry r;
  return r;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

// Writes all of `bytes` to `fd`; false (errno set) on an error.
bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Cuts `fd` back to `size` after a failed write. If even that fails, the partial bytes stay:
// a replay reads them as a torn or corrupt tail and keeps the whole records before them.
void cut_back(int fd, std::uint64_t size) {
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    return;
  }
}

// One file's records, or why it was left out.
struct FileScan {
  std::string bytes;  // the records' views point into it
  JournalHeader header;
  JournalScan scan;
};

}  // namespace

std::string current_boot_id() {
  auto id = read_file("/proc/sys/kernel/random/boot_id", 4096);
  return id ? trim(*id) : std::string();
}

Result<std::unique_ptr<WriteJournal>> WriteJournal::open(const std::string& dir,
                                                         std::string label) {
  std::unique_ptr<WriteJournal> j(new WriteJournal());
  j->label_ = std::move(label);
  j->boot_id_ = current_boot_id();
  for (int i = 0; i < 2; ++i) {
    j->paths_[i] = fmt::format("{}/write-journal.{}", dir, i);
    j->fds_[i] = ::open(j->paths_[i].c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (j->fds_[i] < 0) {
      return fail(Errc::Io, fmt::format("{}: {}", j->paths_[i], std::strerror(errno)));
    }
    if (::flock(j->fds_[i], LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        return std::unique_ptr<WriteJournal>();  // another process journals into it
      }
      return fail(Errc::Io, fmt::format("{}: flock: {}", j->paths_[i], std::strerror(errno)));
    }
  }
  return j;
}

WriteJournal::~WriteJournal() {
  if (started_) {
    Registry& r = registry();
    std::unique_lock lock(r.mu);
    r.journals.erase(std::remove(r.journals.begin(), r.journals.end(), this), r.journals.end());
  }
  for (int fd : fds_) {
    if (fd >= 0) {
      ::close(fd);  // releases the flock
    }
  }
}

Result<JournalReplayInfo> WriteJournal::replay(const ApplyFn& apply) {
  JournalReplayInfo info;
  std::vector<FileScan> files;
  for (const std::string& path : paths_) {
    auto bytes = read_file(path);
    if (!bytes) {
      return tl::unexpected(bytes.error());
    }
    if (bytes->empty()) {
      continue;
    }
    FileScan f;
    f.bytes = std::move(*bytes);
    auto header = parse_journal_header(f.bytes);
    if (!header) {
      info.corrupt = true;
      spdlog::warn("{}: write journal {} is corrupt ({}): not replayed; the store itself is intact",
                   label_, path, header.error().message);
      continue;
    }
    f.header = std::move(*header);
    generation_ = std::max(generation_, f.header.generation);
    if (f.header.boot_id != boot_id_) {
      info.stale_boot = true;
      continue;  // the page cache it relied on is gone: the store has its last fsynced commit
    }
    f.scan = scan_journal_records(std::string_view(f.bytes).substr(kJournalHeaderSize));
    info.bytes += f.scan.consumed;
    info.torn = info.torn || f.scan.stop == JournalStop::Torn;
    if (f.scan.stop == JournalStop::Corrupt) {
      info.corrupt = true;
      spdlog::warn(
          "{}: write journal {} is corrupt at byte {} ({}): replaying the {} writes before it, "
          "dropping the rest; the store itself is intact",
          label_, path, kJournalHeaderSize + f.scan.consumed, f.scan.why, f.scan.records.size());
    }
    files.push_back(std::move(f));
  }
  std::sort(files.begin(), files.end(), [](const FileScan& a, const FileScan& b) {
    return a.header.generation < b.header.generation;
  });
  std::vector<JournalRecord> records;
  for (const FileScan& f : files) {
    records.insert(records.end(), f.scan.records.begin(), f.scan.records.end());
  }
  info.records = records.size();
  if (!records.empty()) {
    if (auto ok = apply(records); !ok) {
      if (ok.error().code != Errc::TooLarge) {
        return tl::unexpected(ok.error());
      }
      spdlog::warn("{}: write journal: its {} writes do not fit the store ({}): dropped", label_,
                   records.size(), ok.error().message);
    }
  }
  for (int i = 0; i < 2; ++i) {
    if (::ftruncate(fds_[i], 0) != 0) {
      return fail(Errc::Io, fmt::format("{}: truncate: {}", paths_[i], std::strerror(errno)));
    }
  }
  return info;
}

Result<void> WriteJournal::start() {
  std::lock_guard lock(mu_);
  current_ = 0;
  ++generation_;
  write_header_locked();
  if (size_[current_] == 0) {
    return fail(Errc::Io, fmt::format("{}: cannot write: {}", paths_[0], std::strerror(errno)));
  }
  started_ = true;
  Registry& r = registry();
  std::unique_lock rlock(r.mu);
  r.journals.push_back(this);
  return {};
}

void WriteJournal::append(std::string_view key, const std::string_view* value) {
  std::lock_guard lock(mu_);
  append_journal_record(buf_, key, value);
  dirty_.store(true, std::memory_order_release);
}

void WriteJournal::write_out() {
  if (!dirty_.load(std::memory_order_acquire)) {
    return;
  }
  std::lock_guard lock(mu_);
  write_buffer_locked();
}

void WriteJournal::seal() {
  std::lock_guard lock(mu_);
  write_buffer_locked();
  const int other = 1 - current_;
  if (sealed_[other]) {
    return;  // the last round failed: its file waits for a commit; keep appending here
  }
  sealed_[current_] = true;
  current_ = other;
  ++generation_;
  write_header_locked();
}

void WriteJournal::committed() {
  std::lock_guard lock(mu_);
  for (int i = 0; i < 2; ++i) {
    if (sealed_[i] && ::ftruncate(fds_[i], 0) == 0) {
      sealed_[i] = false;
      size_[i] = 0;
    }
  }
}

JournalCounters WriteJournal::counters() {
  std::lock_guard lock(mu_);
  return counters_;
}

// Needs mu_. Empties the current file and writes its header (size_ stays 0 if that fails).
void WriteJournal::write_header_locked() {
  const int fd = fds_[current_];
  size_[current_] = 0;
  if (::ftruncate(fd, 0) != 0) {
    return;
  }
  const std::string header = encode_journal_header({generation_, boot_id_});
  if (write_all(fd, header)) {
    size_[current_] = header.size();
  } else {
    cut_back(fd, 0);
  }
}

// Needs mu_. One write() of the buffer; on an error the file is cut back to its whole records.
void WriteJournal::write_buffer_locked() {
  if (buf_.empty()) {
    return;
  }
  const int fd = fds_[current_];
  if (size_[current_] == 0) {
    write_header_locked();
  }
  bool ok = size_[current_] > 0 && write_all(fd, buf_);
  const int err = errno;
  if (ok) {
    size_[current_] += buf_.size();
    ++counters_.journal_writes;
    counters_.journal_bytes += buf_.size();
    if (failing_) {
      spdlog::info("{}: write journal writes again", label_);
      failing_ = false;
    }
  } else {
    ++counters_.journal_errors;
    if (size_[current_] > 0) {
      cut_back(fd, size_[current_]);
    }
    if (!failing_) {
      // Info, not error: the journal shares the store's file system, so a full disk also fails
      // the next commit, and that store line is the one error line of the outage.
      spdlog::info(
          "{}: write journal {}: {}; acknowledged writes wait for the group commit "
          "alone (a kill -9 may lose up to one commit interval of them)",
          label_, paths_[current_], std::strerror(err));
      failing_ = true;
    }
  }
  buf_.clear();
  dirty_.store(false, std::memory_order_release);
}

void flush_write_journals() {
  Registry& r = registry();
  std::shared_lock lock(r.mu);
  for (WriteJournal* j : r.journals) {
    j->write_out();
  }
}

}  // namespace gf::io
