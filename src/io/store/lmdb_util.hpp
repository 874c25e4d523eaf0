#pragma once
// Small helpers every LMDB adapter uses (LmdbStore, LmdbKv, the write journal's replay).
#include <fmt/format.h>
#include <lmdb.h>

#include <string_view>

#include "core/common/result.hpp"

namespace gf::io {

// An MDB_val over `s` (LMDB takes a non-const pointer but does not write through it).
inline MDB_val lmdb_val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

// The error of an LMDB call. A batch that does not fit the map is TooLarge: GroupCommit drops it
// rather than retry it.
inline tl::unexpected<Error> lmdb_error(const char* what, int rc) {
  const bool too_large = rc == MDB_MAP_FULL || rc == MDB_TXN_FULL;
  return fail(too_large ? Errc::TooLarge : Errc::StoreFailure,
              fmt::format("lmdb {}: {}", what, mdb_strerror(rc)));
}

// Writes `value` under `key`, or erases `key` when value is null (erasing a missing key is no
// error): 0 or the LMDB error.
inline int lmdb_put_or_erase(MDB_txn* txn, MDB_dbi dbi, std::string_view key,
                             const std::string_view* value) {
  MDB_val k = lmdb_val(key);
  if (value != nullptr) {
    MDB_val v = lmdb_val(*value);
    return mdb_put(txn, dbi, &k, &v, 0);
  }
  const int rc = mdb_del(txn, dbi, &k, nullptr);
  return rc == MDB_NOTFOUND ? 0 : rc;
}

}  // namespace gf::io
