#pragma once
// Per-thread LMDB read transactions for one environment, shared by LmdbStore and LmdbKv.
//
// mdb_txn_begin(MDB_RDONLY) takes the environment's reader-table mutex (process-shared) to find
// a reader slot; at tens of thousands of reads a second on two io threads that mutex was the
// most contended lock of the comment API. A transaction that is reset after each read and
// renewed for the next keeps its slot: renew is a memory barrier, no lock and no allocation.
//
// Each thread keeps one handle per ThreadReaders (by a process-unique id, so two environments
// used from one thread each keep theirs). close() aborts the handles: call it before closing
// the environment, when no read is running. With MDB_NOTLS a handle may be renewed on a
// different thread than the one that began it, which is why the environments are opened so.
#include <lmdb.h>

#include <cstdint>
#include <mutex>
#include <vector>

#include "core/common/result.hpp"

namespace gf::io {

// Entries and bytes of B-tree pages of the main database (for stats); zeros if unreadable.
struct DbUsage {
  std::uint64_t entries = 0;
  std::uint64_t map_used_bytes = 0;
};
DbUsage db_usage(MDB_env* env, MDB_dbi dbi);

class ThreadReaders {
 public:
  ThreadReaders();
  ~ThreadReaders();
  ThreadReaders(const ThreadReaders&) = delete;
  ThreadReaders& operator=(const ThreadReaders&) = delete;

  void attach(MDB_env* env) { env_ = env; }
  // Aborts every handle; call before mdb_env_close (the destructor does it too).
  void close();

  // The calling thread's read transaction on the current snapshot. Call mdb_txn_reset() on it
  // when done (before the thread blocks or returns to its event loop).
  [[nodiscard]] Result<MDB_txn*> renew();

 private:
  MDB_env* env_ = nullptr;
  std::uint64_t id_;
  std::mutex mu_;  // guards txns_ (a new thread's first read)
  std::vector<MDB_txn*> txns_;
};

}  // namespace gf::io
