#pragma once
// LmdbStore: the durable greylist store on an embedded LMDB environment.
//
// Reads go straight to LMDB (memory-mapped, lock-free) after checking the not-yet-committed
// writes. Writes never touch the disk on the request path: they land in a pending map that one
// writer thread commits as a single transaction every `commit_interval` (group commit), so
// neither a request nor its latency waits for fsync. After kill -9 at most the writes of the
// last interval are lost (none with `journal`: see io/store/write_journal.hpp); LMDB's
// copy-on-write B-tree is never left corrupt.
// The writer thread (io/store/group_commit.hpp, shared with LmdbKv) also runs the incremental
// expiry sweep between commits. Its commits run as SCHED_BATCH (a normal CPU share, no wake-up
// preemption of io threads) unless it falls behind.
//
// Threading: get/put/erase/scan are safe from any thread. Other processes (the admin CLI when
// the daemon is down) may open the same environment; LMDB serialises writers between them.
#include <lmdb.h>

#include <memory>
#include <optional>
#include <string>

#include "core/common/time.hpp"
#include "core/greylist/store.hpp"
#include "io/store/group_commit.hpp"
#include "io/store/lmdb_readers.hpp"
#include "io/store/write_journal.hpp"

namespace gf::io {

struct LmdbOptions {
  std::string path;  // a directory, created if missing
  std::uint64_t map_size = 1ULL << 30;
  Millis commit_interval{100};
  bool sync = true;                  // fsync each commit (off only for tests on throwaway data)
  std::size_t expire_budget = 2000;  // records examined per sweep step
  bool background_writer = true;     // commits as SCHED_BATCH unless the writer falls behind
  // Journal each write before its reply (io/store/write_journal.hpp): kill -9 loses none. Any
  // open replays a journal that no other process holds, whatever this says.
  bool journal = false;
};

struct StoreStats : CommitCounters, DbUsage {
  std::uint64_t expired = 0;
};

class LmdbStore final : public greylist::Store {
 public:
  // Opens (and creates) the environment. `expired` and `now` drive the background expiry sweep;
  // pass an empty `expired` to disable it.
  [[nodiscard]] static Result<std::unique_ptr<LmdbStore>> open(const LmdbOptions& opts,
                                                               greylist::Store::ExpiredFn expired);
  ~LmdbStore() override;

  [[nodiscard]] Result<std::optional<greylist::Record>> get(std::string_view key) override;
  [[nodiscard]] Result<void> put(std::string_view key, const greylist::Record& rec) override;
  [[nodiscard]] Result<bool> erase(std::string_view key) override;
  [[nodiscard]] Result<void> scan(std::string_view prefix, const greylist::ScanFn& fn) override;
  [[nodiscard]] Result<void> flush() override;
  [[nodiscard]] Result<std::size_t> expire_step(const ExpiredFn& expired,
                                                std::size_t budget) override;

  StoreStats stats();
  void set_expired_fn(greylist::Store::ExpiredFn expired);

 private:
  LmdbStore() = default;
  using Batch = GroupCommit<greylist::Record>::Batch;
  [[nodiscard]] Result<void> commit_batch(const Batch& b);
  [[nodiscard]] Result<std::optional<greylist::Record>> read_committed(std::string_view key);
  void expiry_chore();  // the writer's incremental expiry sweep, once a second

  MDB_env* env_ = nullptr;
  ThreadReaders readers_;  // per-thread read transactions: a get() takes no LMDB lock
  MDB_dbi dbi_ = 0;
  LmdbOptions opts_;

  std::unique_ptr<WriteJournal> journal_;  // outlives commits_, which appends to it
  GroupCommit<greylist::Record> commits_;  // its lock() also guards the members below
  greylist::Store::ExpiredFn expired_;
  std::uint64_t expired_count_ = 0;
  std::string expire_cursor_;  // the sweep's position; used by the writer thread only
};

}  // namespace gf::io
