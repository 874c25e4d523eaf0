#pragma once
// The LMDB half of a store's scan (LmdbStore, LmdbKv): the entries of `dbi` under `prefix`, in
// key order, from a read transaction, merged with the not-yet-committed writes (merge_staged's
// rule: a staged write replaces the stored value, a staged erase hides it).
#include <lmdb.h>

#include <string_view>

#include "io/store/pending_writes.hpp"

namespace gf::io {

// 0, or the LMDB error of opening the cursor. on_db(key, stored bytes) and
// on_staged(key, const Value&) return false to stop.
template <class Value, class OnDb, class OnStaged>
int scan_prefix(MDB_txn* txn, MDB_dbi dbi, std::string_view prefix,
                const StagedWrites<Value>& staged, OnDb on_db, OnStaged on_staged) {
  MDB_cursor* cur = nullptr;
  if (const int rc = mdb_cursor_open(txn, dbi, &cur); rc != 0) {
    return rc;
  }
  MDB_val k{prefix.size(), const_cast<char*>(prefix.data())};
  MDB_val v;
  MDB_cursor_op op = prefix.empty() ? MDB_FIRST : MDB_SET_RANGE;
  auto db_next = [&](std::string_view& key, std::string_view& value) {
    const int rc = mdb_cursor_get(cur, &k, &v, op);
    op = MDB_NEXT;
    key = std::string_view(static_cast<const char*>(k.mv_data), k.mv_size);
    value = std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
    return rc == 0 && key.starts_with(prefix);
  };
  merge_staged(staged, db_next, on_db, on_staged);
  mdb_cursor_close(cur);  // a read transaction's cursors are closed explicitly
  return 0;
}

}  // namespace gf::io
