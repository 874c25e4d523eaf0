#include "io/store/lmdb_journal.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "io/store/lmdb_util.hpp"

namespace gf::io {
namespace {

Result<void> apply_records(MDB_env* env, MDB_dbi dbi, const std::vector<JournalRecord>& records) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env, nullptr, 0, &txn);
  if (rc != 0) {
    return lmdb_error("write txn", rc);
  }
  for (const JournalRecord& r : records) {
    if (r.key.empty() || r.key.size() > static_cast<std::size_t>(mdb_env_get_maxkeysize(env))) {
      continue;  // no store write has such a key; a checksummed record cannot either
    }
    rc = lmdb_put_or_erase(txn, dbi, r.key, r.value ? &*r.value : nullptr);
    if (rc != 0) {
      mdb_txn_abort(txn);
      return lmdb_error("put", rc);
    }
  }
  rc = mdb_txn_commit(txn);
  if (rc != 0) {
    return lmdb_error("commit", rc);
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<WriteJournal>> replay_write_journal(MDB_env* env, MDB_dbi dbi,
                                                           const std::string& dir,
                                                           const std::string& label) {
  auto journal = WriteJournal::open(dir, label);
  if (!journal || !*journal) {
    return journal;
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto info = (*journal)->replay(
      [&](const std::vector<JournalRecord>& records) { return apply_records(env, dbi, records); });
  if (!info) {
    return fail(info.error().code,
                fmt::format("{}: write journal replay: {}", label, info.error().message));
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  if ((info->records > 0 || info->torn) && !info->corrupt) {  // corrupt: warned once
    spdlog::info(
        "{}: write journal: replayed {} writes ({} bytes) that the last commit before a "
        "crash did not hold, in {} ms{}",
        label, info->records, info->bytes, ms,
        info->torn ? "; the last record was cut short (a kill during its write)" : "");
  }
  if (info->stale_boot) {
    spdlog::info(
        "{}: write journal from before the last reboot not replayed (the store holds its "
        "last committed state)",
        label);
  }
  return journal;
}

}  // namespace gf::io
