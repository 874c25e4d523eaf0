#pragma once
// The LMDB stores' side of the write journal (io/store/write_journal.hpp): at open, the records
// a killed process left are put into the store in one transaction before anything is served.
//
// Both LMDB stores keep the journal's bytes as their values are stored (LmdbStore: an encoded
// greylist record; LmdbKv: the value itself), so one replay serves both.
#include <lmdb.h>

#include <memory>
#include <string>

#include "core/common/result.hpp"
#include "io/store/write_journal.hpp"

namespace gf::io {

// Opens the journal in `dir` (the store's directory) and replays it into `dbi` in one committed
// transaction, logging one line when it replayed anything. nullptr when another process holds
// the journal (a CLI beside the running daemon: the daemon's journal is left alone).
[[nodiscard]] Result<std::unique_ptr<WriteJournal>> replay_write_journal(MDB_env* env, MDB_dbi dbi,
                                                                         const std::string& dir,
                                                                         const std::string& label);

}  // namespace gf::io
