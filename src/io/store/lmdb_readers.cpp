#include "io/store/lmdb_readers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <utility>

namespace gf::io {
namespace {

std::atomic<std::uint64_t> g_next_id{1};

// (ThreadReaders id, handle) for every ThreadReaders this thread has read through. Ids are never
// reused, so an entry of a destroyed ThreadReaders is never matched again.
thread_local std::vector<std::pair<std::uint64_t, MDB_txn*>> t_txns;

}  // namespace

DbUsage db_usage(MDB_env* env, MDB_dbi dbi) {
  DbUsage u;
  MDB_txn* txn = nullptr;
  if (mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) != 0) {
    return u;
  }
  MDB_stat st;
  if (mdb_stat(txn, dbi, &st) == 0) {
    u.entries = st.ms_entries;
    u.map_used_bytes = static_cast<std::uint64_t>(st.ms_psize) *
                       (st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages);
  }
  mdb_txn_abort(txn);
  return u;
}

ThreadReaders::ThreadReaders() : id_(g_next_id++) {}

ThreadReaders::~ThreadReaders() { close(); }

void ThreadReaders::close() {
  std::lock_guard lock(mu_);
  for (MDB_txn* txn : txns_) {
    mdb_txn_abort(txn);
  }
  txns_.clear();
}

Result<MDB_txn*> ThreadReaders::renew() {
  const auto it = std::find_if(t_txns.begin(), t_txns.end(),
                               [this](const auto& e) { return e.first == id_; });
  if (it != t_txns.end()) {
    const int rc = mdb_txn_renew(it->second);
    if (rc != 0) {
      return fail(Errc::StoreFailure, fmt::format("lmdb txn_renew: {}", mdb_strerror(rc)));
    }
    return it->second;
  }
  MDB_txn* txn = nullptr;
  const int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
  if (rc != 0) {
    return fail(Errc::StoreFailure, fmt::format("lmdb read txn: {}", mdb_strerror(rc)));
  }
  {
    std::lock_guard lock(mu_);
    txns_.push_back(txn);
  }
  t_txns.emplace_back(id_, txn);
  return txn;
}

}  // namespace gf::io
