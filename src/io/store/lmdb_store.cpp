#include "io/store/lmdb_store.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/common/check.hpp"
#include "io/store/lmdb_journal.hpp"
#include "io/store/lmdb_scan.hpp"
#include "io/store/lmdb_util.hpp"

namespace gf::io {
namespace {

using greylist::Record;

std::string_view view(const MDB_val& v) {
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

// A read-only transaction that lives as long as the current call.
class ReadTxn {
 public:
  explicit ReadTxn(MDB_env* env) { rc_ = mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn_); }
  ~ReadTxn() {
    if (txn_ != nullptr) {
      mdb_txn_abort(txn_);
    }
  }
  ReadTxn(const ReadTxn&) = delete;
  ReadTxn& operator=(const ReadTxn&) = delete;
  int rc() const { return rc_; }
  MDB_txn* get() const { return txn_; }

 private:
  MDB_txn* txn_ = nullptr;
  int rc_ = 0;
};

}  // namespace

Result<std::unique_ptr<LmdbStore>> LmdbStore::open(const LmdbOptions& opts,
                                                   greylist::Store::ExpiredFn expired) {
  std::error_code ec;
  std::filesystem::create_directories(opts.path, ec);
  if (ec) {
    return fail(Errc::Io,
                fmt::format("cannot create store directory {}: {}", opts.path, ec.message()));
  }
  std::unique_ptr<LmdbStore> s(new LmdbStore());
  s->opts_ = opts;
  s->expired_ = std::move(expired);
  int rc = mdb_env_create(&s->env_);
  if (rc != 0) {
    return lmdb_error("env_create", rc);
  }
  mdb_env_set_mapsize(s->env_, opts.map_size);
  mdb_env_set_maxreaders(s->env_, 512);
  // NOTLS: read transactions are not tied to threads (coroutines hop threads).
  rc = mdb_env_open(s->env_, opts.path.c_str(), MDB_NOTLS | (opts.sync ? 0 : MDB_NOSYNC), 0640);
  if (rc != 0) {
    return fail(Errc::StoreFailure,
                fmt::format("cannot open LMDB store at {}: {}", opts.path, mdb_strerror(rc)));
  }
  int dead = 0;
  mdb_reader_check(s->env_, &dead);  // readers left behind by a killed process
  MDB_txn* txn = nullptr;
  rc = mdb_txn_begin(s->env_, nullptr, 0, &txn);
  if (rc != 0) {
    return lmdb_error("txn_begin", rc);
  }
  rc = mdb_dbi_open(txn, nullptr, 0, &s->dbi_);
  if (rc != 0) {
    mdb_txn_abort(txn);
    return lmdb_error("dbi_open", rc);
  }
  rc = mdb_txn_commit(txn);
  if (rc != 0) {
    return lmdb_error("commit", rc);
  }
  auto journal = replay_write_journal(s->env_, s->dbi_, opts.path, "store");
  if (!journal) {
    return tl::unexpected(journal.error());
  }
  s->readers_.attach(s->env_);
  LmdbStore* p = s.get();
  s->commits_.init("store", opts.commit_interval,
                   [p](const Batch& batch) { return p->commit_batch(batch); });
  if (opts.journal && *journal) {
    if (auto ok = (*journal)->start(); !ok) {
      return tl::unexpected(ok.error());
    }
    s->journal_ = std::move(*journal);
    s->commits_.attach_journal(s->journal_.get(),
                               [](const Record& r, std::string& scratch) -> std::string_view {
                                 scratch = greylist::encode_record(r);
                                 return scratch;
                               });
  }
  s->commits_.start_writer([p] { p->expiry_chore(); }, std::chrono::seconds(1),
                           opts.background_writer);
  return s;
}

LmdbStore::~LmdbStore() {
  commits_.stop();  // the last round commits what is pending
  readers_.close();
  if (env_ != nullptr) {
    mdb_env_close(env_);
  }
}

void LmdbStore::set_expired_fn(greylist::Store::ExpiredFn expired) {
  auto lock = commits_.lock();
  expired_ = std::move(expired);
}

Result<std::optional<Record>> LmdbStore::read_committed(std::string_view key) {
  auto txn = readers_.renew();
  if (!txn) {
    return tl::unexpected(txn.error());
  }
  MDB_val k = lmdb_val(key);
  MDB_val v;
  const int rc = mdb_get(*txn, dbi_, &k, &v);
  if (rc != 0) {
    mdb_txn_reset(*txn);
    if (rc == MDB_NOTFOUND) {
      return std::optional<Record>();
    }
    return lmdb_error("get", rc);
  }
  auto rec = greylist::decode_record(view(v));  // copies out before the reset below
  mdb_txn_reset(*txn);
  if (!rec) {
    return std::optional<Record>();  // an unreadable record is treated as absent
  }
  return std::optional<Record>(*rec);
}

Result<std::optional<Record>> LmdbStore::get(std::string_view key) {
  {
    auto lock = commits_.lock();
    if (const std::optional<Record>* staged = commits_.find(key)) {
      return *staged;
    }
  }
  return read_committed(key);
}

Result<void> LmdbStore::put(std::string_view key, const Record& rec) {
  if (key.empty() || key.size() > 511) {
    return fail(Errc::InvalidInput, "key length out of range");
  }
  auto lock = commits_.lock();
  return commits_.stage(key, rec);
}

Result<bool> LmdbStore::erase(std::string_view key) {
  auto existing = get(key);
  if (!existing) {
    return tl::unexpected(existing.error());
  }
  auto lock = commits_.lock();
  // `always` stages even while a failed commit makes the store refuse writes: cannot fail.
  GF_CHECK_OK(commits_.stage(key, std::nullopt, /*always=*/true), "staging an erase");
  return existing->has_value();
}

// The staged writes over the database, without waiting for a commit (an admin listing used to
// wait for one, fsync included, on every call: tens of ms, seconds on a busy machine).
Result<void> LmdbStore::scan(std::string_view prefix, const greylist::ScanFn& fn) {
  const auto staged = [&] {
    auto lock = commits_.lock();
    return commits_.staged(prefix);
  }();  // before the read txn: a write committed meanwhile is in the txn
  ReadTxn txn(env_);
  if (txn.rc() != 0) {
    return lmdb_error("read txn", txn.rc());
  }
  auto on_db = [&](std::string_view key, std::string_view value) {
    const auto rec = greylist::decode_record(value);
    return !rec || fn(key, *rec);
  };
  if (const int rc = scan_prefix(txn.get(), dbi_, prefix, staged, on_db, fn); rc != 0) {
    return lmdb_error("cursor", rc);
  }
  return {};
}

Result<void> LmdbStore::flush() { return commits_.flush(); }

Result<void> LmdbStore::commit_batch(const Batch& batch) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
  if (rc != 0) {
    return lmdb_error("write txn", rc);
  }
  for (const auto* entry : sorted_by_key(batch)) {
    const auto& [key, rec] = *entry;
    const std::string bytes = rec ? greylist::encode_record(*rec) : std::string();
    const std::string_view value = bytes;
    rc = lmdb_put_or_erase(txn, dbi_, key, rec ? &value : nullptr);
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

Result<std::size_t> LmdbStore::expire_step(const ExpiredFn& expired, std::size_t budget) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
  if (rc != 0) {
    return lmdb_error("write txn", rc);
  }
  MDB_cursor* cur = nullptr;
  rc = mdb_cursor_open(txn, dbi_, &cur);
  if (rc != 0) {
    mdb_txn_abort(txn);
    return lmdb_error("cursor", rc);
  }
  std::size_t removed = 0;
  MDB_val k = lmdb_val(expire_cursor_);
  MDB_val v;
  rc = mdb_cursor_get(cur, &k, &v, expire_cursor_.empty() ? MDB_FIRST : MDB_SET_RANGE);
  if (rc == 0 && !expire_cursor_.empty() && view(k) == expire_cursor_) {
    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
  }
  std::size_t seen = 0;
  for (; rc == 0 && seen < budget; ++seen) {
    const std::string_view key = view(k);
    bool skip = false;
    {
      auto lock = commits_.lock();  // a newer pending write wins over the stored record
      skip = commits_.find(key) != nullptr;
    }
    auto rec = greylist::decode_record(view(v));
    expire_cursor_.assign(key);
    if (!skip && (!rec || expired(key, *rec))) {
      if (mdb_cursor_del(cur, 0) == 0) {
        ++removed;
      }
    }
    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
  }
  if (rc == MDB_NOTFOUND) {
    expire_cursor_.clear();
  }
  mdb_cursor_close(cur);
  rc = mdb_txn_commit(txn);
  if (rc != 0) {
    return lmdb_error("commit", rc);
  }
  return removed;
}

void LmdbStore::expiry_chore() {
  greylist::Store::ExpiredFn expired;
  {
    auto lock = commits_.lock();
    expired = expired_;
  }
  if (!expired) {
    return;
  }
  if (auto removed = expire_step(expired, opts_.expire_budget); removed) {
    auto lock = commits_.lock();
    expired_count_ += *removed;
  }
}

StoreStats LmdbStore::stats() {
  StoreStats s;
  {
    auto lock = commits_.lock();
    static_cast<CommitCounters&>(s) = commits_.counters();
    s.expired = expired_count_;
  }
  static_cast<DbUsage&>(s) = db_usage(env_, dbi_);
  return s;
}

}  // namespace gf::io
