#pragma once
// LmdbKv: a byte-string key/value store on its own LMDB environment, with the group commit it
// shares with LmdbStore (io/store/group_commit.hpp), for the comment API (keys, usage, reputation,
// stored checks, training log and the model). It is a separate environment (own directory) so that
// the greylist Store port and its on-disk format stay untouched.
//
// Writes land in a pending map; one writer thread commits it as one transaction every
// `commit_interval` (requests never wait for fsync; after kill -9 at most one interval of
// writes is lost, none with `journal`, and LMDB is never left corrupt). update() is an atomic
// read-modify-write within this process (counters). Retention rules trim a key prefix whose keys
// sort oldest first (stored checks): at most `max_count` entries, none below `min_key()`; the
// writer thread applies them after each commit, a bounded number of deletions at a time.
//
// It implements the KvStore port (core/common/kv_store.hpp) and follows its written contract
// (tests/unit/kv_store_contract_test.cpp); retention, stats and the CLI's inline commits are
// extras of this adapter that the wiring (app/akismet_service) uses directly.
//
// Threading: every method is safe from any thread; other processes (the `greyflux keys` CLI)
// may open the same environment. Errors: as the KvStore contract says (StoreFailure when LMDB
// fails, InvalidInput for a key LMDB cannot hold).
#include <lmdb.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/common/kv_store.hpp"
#include "core/common/result.hpp"
#include "core/common/time.hpp"
#include "io/store/group_commit.hpp"
#include "io/store/lmdb_readers.hpp"
#include "io/store/write_journal.hpp"

namespace gf::io {

struct KvOptions {
  std::string path;
  std::uint64_t map_size = 4ULL << 30;
  Millis commit_interval{100};
  bool sync = true;
  bool writer_thread = true;  // false for short-lived CLI use: flush() commits inline
  // Journal each write before its reply (io/store/write_journal.hpp; with the writer thread
  // only): kill -9 loses none. Any open replays a journal no other process holds.
  bool journal = false;
};

struct KvRetention {
  std::string prefix;
  std::size_t max_count = 0;             // 0 = no count limit
  std::function<std::string()> min_key;  // keys (after the prefix) below this go; may be empty
};

struct KvStats : CommitCounters, DbUsage {
  std::uint64_t trimmed = 0;
};

class LmdbKv final : public KvStore {
 public:
  [[nodiscard]] static Result<std::unique_ptr<LmdbKv>> open(const KvOptions& opts);
  ~LmdbKv();

  [[nodiscard]] Result<std::optional<std::string>> get(std::string_view key) override;
  // One trip through the lock and one read transaction for all the keys.
  [[nodiscard]] Result<std::vector<std::optional<std::string>>> get_many(
      const std::vector<std::string>& keys) override;
  [[nodiscard]] Result<void> put(std::string_view key, std::string value) override;
  [[nodiscard]] Result<void> erase(std::string_view key) override;
  // Atomic within this process (the pending map's lock); other processes only read.
  [[nodiscard]] Result<void> update(std::string_view key, const UpdateFn& fn) override;
  [[nodiscard]] Result<void> put_and_update(std::string_view put_key, std::string value,
                                            std::string_view update_key,
                                            const UpdateFn& fn) override;
  // Commits what is pending, then walks one read transaction.
  [[nodiscard]] Result<void> scan(std::string_view prefix, const ScanFn& fn) override;
  [[nodiscard]] Result<void> flush() override;

  // Adds a retention rule; counts the prefix's entries once (call at startup).
  [[nodiscard]] Result<void> add_retention(KvRetention rule);
  KvStats stats();
  // Entries currently under a retention rule's prefix.
  std::size_t retained_count(std::string_view prefix);

 private:
  LmdbKv() = default;
  using Batch = GroupCommit<std::string>::Batch;
  [[nodiscard]] Result<void> commit_batch(const Batch& batch);
  void apply_retention();
  [[nodiscard]] Result<std::optional<std::string>> read_committed(std::string_view key);
  [[nodiscard]] Result<void> update_locked(std::string_view key,
                                           const UpdateFn& fn);  // under the lock

  MDB_env* env_ = nullptr;
  ThreadReaders readers_;  // per-thread read transactions: a get() takes no LMDB lock
  MDB_dbi dbi_ = 0;
  KvOptions opts_;

  std::unique_ptr<WriteJournal> journal_;  // outlives commits_, which appends to it
  GroupCommit<std::string> commits_;       // its lock() also guards the members below
  struct Rule {
    KvRetention rule;
    std::size_t count = 0;
  };
  std::vector<Rule> rules_;
  std::uint64_t trimmed_ = 0;
};

}  // namespace gf::io
