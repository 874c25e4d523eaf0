// The write journal (io/store/write_journal.hpp): an acknowledged write that no commit holds yet
// survives a kill -9 because its record was handed to the kernel before the reply. A "kill" here
// is a copy of the store's directory taken while the store is open and has not committed (what
// the disk holds when the process dies), opened by a second store.
#include "io/store/write_journal.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "core/common/journal_codec.hpp"
#include "io/store/group_commit.hpp"
#include "io/store/lmdb_kv.hpp"
#include "io/store/lmdb_store.hpp"
#include "io/sys/file.hpp"

namespace gf::io {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/gf-journal-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

// Log lines at warn and above while it lives.
struct CapturedLog {
  CapturedLog() : old(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
    sink->set_pattern("%l %v");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
  }
  ~CapturedLog() { spdlog::set_default_logger(old); }
  int lines_at_warn_or_above() const {
    std::istringstream in(out.str());
    int n = 0;
    for (std::string line; std::getline(in, line);) {
      n += line.starts_with("warning ") || line.starts_with("error ") ? 1 : 0;
    }
    return n;
  }
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> old;
};

std::unique_ptr<LmdbKv> open_kv(const std::string& path, bool journal, Millis interval) {
  KvOptions o;
  o.path = path;
  o.commit_interval = interval;
  o.sync = false;
  o.journal = journal;
  o.writer_thread = journal;
  return LmdbKv::open(o).value();
}

// What the disk holds if the process died now: the store's files, copied.
void copy_as_killed(const std::string& from, const std::string& to) {
  fs::create_directories(to);
  for (const char* name : {"data.mdb", "write-journal.0", "write-journal.1"}) {
    fs::copy_file(from + "/" + name, to + "/" + name, fs::copy_options::overwrite_existing);
  }
}

std::uintmax_t journal_bytes(const std::string& dir) {
  return fs::file_size(dir + "/write-journal.0") + fs::file_size(dir + "/write-journal.1");
}

std::string record(std::string_view key, std::string_view value) {
  std::string out;
  append_journal_record(out, key, &value);
  return out;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

TEST(JournalCodec, RecordsReadBackInOrderWithErases) {
  std::string bytes = record("a", "1");
  append_journal_record(bytes, "b", nullptr);
  bytes += record("c", "");
  const JournalScan scan = scan_journal_records(bytes);
  EXPECT_EQ(scan.stop, JournalStop::End);
  EXPECT_EQ(scan.consumed, bytes.size());
  ASSERT_EQ(scan.records.size(), 3u);
  EXPECT_EQ(scan.records[0].key, "a");
  EXPECT_EQ(scan.records[0].value, std::optional<std::string_view>("1"));
  EXPECT_EQ(scan.records[1].key, "b");
  EXPECT_FALSE(scan.records[1].value.has_value());
  EXPECT_EQ(scan.records[2].value, std::optional<std::string_view>(""));
}

TEST(JournalCodec, ATornLastRecordEndsTheScanAfterTheWholeOnes) {
  const std::string whole = record("a", "1") + record("b", "2");
  for (std::size_t cut = 1; cut < record("c", "33").size(); ++cut) {
    const JournalScan scan = scan_journal_records(whole + record("c", "33").substr(0, cut));
    EXPECT_EQ(scan.stop, JournalStop::Torn) << cut;
    EXPECT_EQ(scan.records.size(), 2u) << cut;
    EXPECT_EQ(scan.consumed, whole.size()) << cut;
  }
}

TEST(JournalCodec, AFlippedByteIsCorruptAndStopsTheScanThere) {
  std::string bytes = record("a", "1") + record("b", "2") + record("c", "3");
  bytes[record("a", "1").size() + 10] ^= 0x20;  // inside b's body
  const JournalScan scan = scan_journal_records(bytes);
  EXPECT_EQ(scan.stop, JournalStop::Corrupt);
  EXPECT_EQ(scan.why, "record checksum mismatch");
  ASSERT_EQ(scan.records.size(), 1u);
  EXPECT_EQ(scan.records[0].key, "a");
}

TEST(JournalCodec, HeaderRoundTripsAndRejectsDamage) {
  const std::string h = encode_journal_header({7, "boot-1"});
  ASSERT_EQ(h.size(), kJournalHeaderSize);
  auto back = parse_journal_header(h);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->generation, 7u);
  EXPECT_EQ(back->boot_id, "boot-1");
  std::string bad = h;
  bad[9] ^= 1;
  EXPECT_FALSE(parse_journal_header(bad).has_value());
  EXPECT_FALSE(parse_journal_header(h.substr(0, 20)).has_value());
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);  // the CRC-32C check value
}

TEST(WriteJournal, AKilledKvStoreKeepsEveryJournaledWriteIncludingErases) {
  TempDir t;
  const std::string live = t.path + "/live";
  auto kv = open_kv(live, true, Millis(3'600'000));  // no commit but the ones asked for
  ASSERT_TRUE(kv->put("gone", "x").has_value());
  ASSERT_TRUE(kv->put("kept", "old").has_value());
  ASSERT_TRUE(kv->flush().has_value());  // committed: the journal is emptied
  ASSERT_TRUE(kv->erase("gone").has_value());
  ASSERT_TRUE(kv->put("kept", "new").has_value());
  ASSERT_TRUE(kv->put("fresh", std::string(5000, 'f')).has_value());
  flush_write_journals();  // what a server does before it sends the replies
  copy_as_killed(live, t.path + "/killed");

  auto after = open_kv(t.path + "/killed", false, Millis(100));
  EXPECT_EQ(after->get("gone").value(), std::nullopt);
  EXPECT_EQ(after->get("kept").value(), std::optional<std::string>("new"));
  EXPECT_EQ(after->get("fresh").value(), std::optional<std::string>(std::string(5000, 'f')));
  EXPECT_EQ(journal_bytes(t.path + "/killed"), 0u) << "replayed, then emptied";
}

TEST(WriteJournal, ACommitEmptiesTheJournalOfWhatItWrote) {
  TempDir t;
  auto kv = open_kv(t.path + "/kv", true, Millis(3'600'000));
  ASSERT_TRUE(kv->put("a", std::string(1000, 'a')).has_value());
  flush_write_journals();
  EXPECT_GT(journal_bytes(t.path + "/kv"), 1000u);
  ASSERT_TRUE(kv->flush().has_value());
  EXPECT_EQ(journal_bytes(t.path + "/kv"), kJournalHeaderSize) << "only the new file's header";
  ASSERT_TRUE(kv->put("b", "2").has_value());
  ASSERT_TRUE(kv->flush().has_value());
  EXPECT_EQ(journal_bytes(t.path + "/kv"), kJournalHeaderSize);
}

TEST(WriteJournal, AKilledGreylistStoreKeepsItsRecords) {
  TempDir t;
  LmdbOptions o;
  o.path = t.path + "/live";
  o.commit_interval = Millis(3'600'000);
  o.sync = false;
  o.journal = true;
  const greylist::Record rec{100, 200, 3, 200};
  {
    auto store = LmdbStore::open(o, {}).value();
    ASSERT_TRUE(store->put("t:1.2.3.4/a@b/c@d", rec).has_value());
    flush_write_journals();
    copy_as_killed(o.path, t.path + "/killed");
  }
  o.path = t.path + "/killed";
  o.journal = false;
  auto store = LmdbStore::open(o, {}).value();
  EXPECT_EQ(store->get("t:1.2.3.4/a@b/c@d").value(), std::optional<greylist::Record>(rec));
}

// A journal file written by hand into a store directory, with this boot's header.
std::string journal_file(std::uint64_t generation, const std::string& records,
                         std::string boot = current_boot_id()) {
  return encode_journal_header({generation, std::move(boot)}) + records;
}

TEST(WriteJournal, ATornLastRecordIsDroppedAndTheWholeOnesReplayed) {
  TempDir t;
  const std::string dir = t.path + "/kv";
  open_kv(dir, false, Millis(100)).reset();  // creates the store
  const std::string torn = record("c", "3");
  write_bytes(dir + "/write-journal.0",
              journal_file(2, record("a", "1") + record("b", "2") + torn.substr(0, 9)));
  write_bytes(dir + "/write-journal.1", journal_file(1, record("a", "0")));  // older
  CapturedLog log;
  auto kv = open_kv(dir, false, Millis(100));
  EXPECT_EQ(kv->get("a").value(), std::optional<std::string>("1")) << "oldest file first";
  EXPECT_EQ(kv->get("b").value(), std::optional<std::string>("2"));
  EXPECT_EQ(kv->get("c").value(), std::nullopt);
  EXPECT_EQ(log.lines_at_warn_or_above(), 0) << log.out.str();
}

TEST(WriteJournal, ACorruptJournalLogsOneLineAndTheStoreOpensWithItsData) {
  TempDir t;
  const std::string dir = t.path + "/kv";
  {
    auto kv = open_kv(dir, false, Millis(100));
    ASSERT_TRUE(kv->put("stored", "s").has_value());
    ASSERT_TRUE(kv->flush().has_value());
  }
  std::string records = record("a", "1") + record("b", "2") + record("c", "3");
  records[record("a", "1").size() + 12] ^= 0x40;
  write_bytes(dir + "/write-journal.0", journal_file(5, records));
  write_bytes(dir + "/write-journal.1", std::string(300, '\x5a'));  // not a journal at all
  CapturedLog log;
  auto kv = open_kv(dir, true, Millis(100));
  EXPECT_EQ(kv->get("stored").value(), std::optional<std::string>("s"));
  EXPECT_EQ(kv->get("a").value(), std::optional<std::string>("1")) << "before the damage";
  EXPECT_EQ(kv->get("b").value(), std::nullopt);
  EXPECT_EQ(kv->get("c").value(), std::nullopt);
  EXPECT_EQ(log.lines_at_warn_or_above(), 2) << "one line per damaged file:\n" << log.out.str();
  EXPECT_NE(log.out.str().find("write-journal.0 is corrupt at byte"), std::string::npos);
  ASSERT_TRUE(kv->put("next", "n").has_value()) << "and it journals again";
}

TEST(WriteJournal, AJournalFromAnotherBootIsNotReplayed) {
  TempDir t;
  const std::string dir = t.path + "/kv";
  open_kv(dir, false, Millis(100)).reset();
  write_bytes(dir + "/write-journal.0", journal_file(1, record("a", "1"), "another-boot"));
  auto kv = open_kv(dir, false, Millis(100));
  EXPECT_EQ(kv->get("a").value(), std::nullopt);
  EXPECT_EQ(journal_bytes(dir), 0u);
}

TEST(WriteJournal, AJournalHeldByAnotherOpenIsLeftAlone) {
  TempDir t;
  auto first = WriteJournal::open(t.path, "first").value();
  ASSERT_NE(first, nullptr);
  auto second = WriteJournal::open(t.path, "second");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*second, nullptr);
}

// GroupCommit with a journal: a failed round keeps its records until a commit succeeds.
TEST(WriteJournal, AFailedCommitKeepsItsRecordsUntilACommitSucceeds) {
  TempDir t;
  auto journal = WriteJournal::open(t.path, "test").value();
  ASSERT_TRUE(journal->replay([](const auto&) { return Result<void>(); }).has_value());
  ASSERT_TRUE(journal->start().has_value());
  std::atomic<bool> full{true};
  GroupCommit<std::string> gc;
  gc.init("test", Millis(3'600'000), [&](const auto&) -> Result<void> {
    return full ? fail(Errc::StoreFailure, "No space left on device") : Result<void>();
  });
  gc.attach_journal(journal.get(),
                    [](const std::string& v, std::string&) -> std::string_view { return v; });
  gc.start_writer({}, Millis(1000), /*background=*/false);
  {
    auto lock = gc.lock();
    ASSERT_TRUE(gc.stage("a", std::string("1")).has_value());
  }
  EXPECT_FALSE(gc.flush().has_value());
  {
    auto lock = gc.lock();
    ASSERT_TRUE(gc.stage("b", std::nullopt, /*always=*/true).has_value());
  }
  flush_write_journals();
  auto records_on_disk = [&] {
    std::size_t n = 0;
    for (const char* name : {"/write-journal.0", "/write-journal.1"}) {
      const std::string bytes = read_file(t.path + name).value();
      if (bytes.size() > kJournalHeaderSize) {
        n +=
            scan_journal_records(std::string_view(bytes).substr(kJournalHeaderSize)).records.size();
      }
    }
    return n;
  };
  EXPECT_EQ(records_on_disk(), 2u) << "the failed round's record is kept";
  EXPECT_FALSE(gc.flush().has_value());
  full = false;
  EXPECT_TRUE(gc.flush().has_value());
  // The failed round's file is emptied; b, staged after it into the current file, stays there
  // (replaying it again is harmless) until the next round rotates and commits.
  EXPECT_EQ(records_on_disk(), 1u);
  {
    auto lock = gc.lock();
    ASSERT_TRUE(gc.stage("c", std::string("3")).has_value());
  }
  EXPECT_TRUE(gc.flush().has_value());
  EXPECT_EQ(records_on_disk(), 0u);
  gc.stop();
}

}  // namespace
}  // namespace gf::io
