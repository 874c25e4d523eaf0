#include "io/store/lmdb_kv.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "io/store/lmdb_journal.hpp"
#include "io/store/lmdb_scan.hpp"
#include "io/store/lmdb_util.hpp"

namespace gf::io {
namespace {

std::string_view view(const MDB_val& v) {
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

tl::unexpected<Error> bad_key() { return fail(Errc::InvalidInput, "key length out of range"); }

// One committed value from a read transaction, copied (before the caller resets it).
Result<std::optional<std::string>> get_in(MDB_txn* txn, MDB_dbi dbi, std::string_view key) {
  MDB_val k = lmdb_val(key);
  MDB_val v;
  const int rc = mdb_get(txn, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) {
    return std::optional<std::string>();
  }
  if (rc != 0) {
    return lmdb_error("get", rc);
  }
  return std::optional<std::string>(std::string(view(v)));
}

class Txn {
 public:
  Txn(MDB_env* env, bool read_only) {
    rc_ = mdb_txn_begin(env, nullptr, read_only ? MDB_RDONLY : 0, &txn_);
    if (rc_ != 0) {
      txn_ = nullptr;
    }
  }
  ~Txn() {
    if (txn_ != nullptr) {
      mdb_txn_abort(txn_);
    }
  }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  int rc() const { return rc_; }
  MDB_txn* get() const { return txn_; }
  int commit() {
    const int rc = mdb_txn_commit(txn_);
    txn_ = nullptr;
    return rc;
  }

 private:
  MDB_txn* txn_ = nullptr;
  int rc_ = 0;
};

}  // namespace

Result<std::unique_ptr<LmdbKv>> LmdbKv::open(const KvOptions& opts) {
  std::error_code ec;
  std::filesystem::create_directories(opts.path, ec);
  if (ec) {
    return fail(Errc::Io,
                fmt::format("cannot create store directory {}: {}", opts.path, ec.message()));
  }
  std::unique_ptr<LmdbKv> s(new LmdbKv());
  s->opts_ = opts;
  int rc = mdb_env_create(&s->env_);
  if (rc != 0) {
    return lmdb_error("env_create", rc);
  }
  mdb_env_set_mapsize(s->env_, opts.map_size);
  mdb_env_set_maxreaders(s->env_, 512);
  rc = mdb_env_open(s->env_, opts.path.c_str(), MDB_NOTLS | (opts.sync ? 0 : MDB_NOSYNC), 0640);
  if (rc != 0) {
    return fail(Errc::StoreFailure,
                fmt::format("cannot open LMDB store at {}: {}", opts.path, mdb_strerror(rc)));
  }
  int dead = 0;
  mdb_reader_check(s->env_, &dead);
  Txn txn(s->env_, false);
  if (txn.rc() != 0) {
    return lmdb_error("txn_begin", txn.rc());
  }
  rc = mdb_dbi_open(txn.get(), nullptr, 0, &s->dbi_);
  if (rc != 0) {
    return lmdb_error("dbi_open", rc);
  }
  rc = txn.commit();
  if (rc != 0) {
    return lmdb_error("commit", rc);
  }
  auto journal = replay_write_journal(s->env_, s->dbi_, opts.path, "kv store " + opts.path);
  if (!journal) {
    return tl::unexpected(journal.error());
  }
  s->readers_.attach(s->env_);
  LmdbKv* p = s.get();
  s->commits_.init("akismet store", opts.commit_interval,
                   [p](const Batch& batch) { return p->commit_batch(batch); });
  if (opts.journal && opts.writer_thread && *journal) {
    if (auto ok = (*journal)->start(); !ok) {
      return tl::unexpected(ok.error());
    }
    s->journal_ = std::move(*journal);
    s->commits_.attach_journal(
        s->journal_.get(),
        [](const std::string& v, std::string&) -> std::string_view { return v; });
  }
  if (opts.writer_thread) {
    s->commits_.start_writer([p] { p->apply_retention(); }, std::chrono::milliseconds(500),
                             /*background=*/true);
  }
  return s;
}

LmdbKv::~LmdbKv() {
  commits_.stop();  // commits what is pending (the writer's last round, or inline)
  readers_.close();
  if (env_ != nullptr) {
    mdb_env_close(env_);
  }
}

Result<std::optional<std::string>> LmdbKv::read_committed(std::string_view key) {
  auto txn = readers_.renew();
  if (!txn) {
    return tl::unexpected(txn.error());
  }
  auto out = get_in(*txn, dbi_, key);
  mdb_txn_reset(*txn);
  return out;
}

Result<std::optional<std::string>> LmdbKv::get(std::string_view key) {
  if (!key_fits(key)) {
    return std::optional<std::string>();  // such a key cannot have been stored
  }
  {
    auto lock = commits_.lock();
    if (const std::optional<std::string>* staged = commits_.find(key)) {
      return *staged;
    }
  }
  return read_committed(key);
}

Result<std::vector<std::optional<std::string>>> LmdbKv::get_many(
    const std::vector<std::string>& keys) {
  std::vector<std::optional<std::string>> out(keys.size());
  std::vector<bool> staged(keys.size(), false);
  bool any_unstaged = false;
  {
    auto lock = commits_.lock();
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (const std::optional<std::string>* v = commits_.find(keys[i])) {
        out[i] = *v;
        staged[i] = true;
      } else {
        any_unstaged = true;
      }
    }
  }
  if (!any_unstaged) {
    return out;
  }
  auto txn = readers_.renew();
  if (!txn) {
    return tl::unexpected(txn.error());
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (staged[i] || !key_fits(keys[i])) {
      continue;  // such a key cannot have been stored
    }
    auto v = get_in(*txn, dbi_, keys[i]);
    if (!v) {
      mdb_txn_reset(*txn);
      return tl::unexpected(v.error());
    }
    out[i] = std::move(*v);
  }
  mdb_txn_reset(*txn);
  return out;
}

Result<void> LmdbKv::put(std::string_view key, std::string value) {
  if (!key_fits(key)) {
    return bad_key();
  }
  auto lock = commits_.lock();
  return commits_.stage(key, std::move(value));
}

Result<void> LmdbKv::erase(std::string_view key) {
  if (!key_fits(key)) {
    return bad_key();
  }
  auto lock = commits_.lock();
  return commits_.stage(key, std::nullopt, /*always=*/true);
}

Result<void> LmdbKv::update(std::string_view key, const UpdateFn& fn) {
  if (!key_fits(key)) {
    return bad_key();
  }
  auto lock = commits_.lock();
  return update_locked(key, fn);
}

Result<void> LmdbKv::put_and_update(std::string_view put_key, std::string value,
                                    std::string_view update_key, const UpdateFn& fn) {
  if (!key_fits(put_key) || !key_fits(update_key)) {
    return bad_key();
  }
  auto lock = commits_.lock();
  if (auto ok = commits_.stage(put_key, std::move(value)); !ok) {
    return ok;
  }
  return update_locked(update_key, fn);
}

Result<void> LmdbKv::update_locked(std::string_view key, const UpdateFn& fn) {
  if (auto ok = commits_.writable(); !ok) {
    return ok;
  }
  std::optional<std::string> current;
  if (const std::optional<std::string>* staged = commits_.find(key)) {
    current = *staged;
  } else {
    auto r = read_committed(key);
    if (!r) {
      return tl::unexpected(r.error());
    }
    current = std::move(*r);
  }
  std::string next = current ? fn(std::string_view(*current)) : fn(std::nullopt);
  return commits_.stage(key, std::move(next));
}

// The staged writes over the database, without waiting for a commit (LmdbStore::scan's rule).
Result<void> LmdbKv::scan(std::string_view prefix, const ScanFn& fn) {
  const auto staged = [&] {
    auto lock = commits_.lock();
    return commits_.staged(prefix);
  }();  // before the read txn: a write committed meanwhile is in the txn
  Txn txn(env_, true);
  if (txn.rc() != 0) {
    return lmdb_error("read txn", txn.rc());
  }
  auto on_staged = [&](std::string_view key, const std::string& value) { return fn(key, value); };
  if (const int rc = scan_prefix(txn.get(), dbi_, prefix, staged, fn, on_staged); rc != 0) {
    return lmdb_error("cursor", rc);
  }
  return {};
}

Result<void> LmdbKv::flush() { return commits_.flush(); }

Result<void> LmdbKv::commit_batch(const Batch& batch) {
  Txn txn(env_, false);
  if (txn.rc() != 0) {
    return lmdb_error("write txn", txn.rc());
  }
  std::vector<std::string> prefixes;
  {
    auto lock = commits_.lock();
    for (const Rule& r : rules_) {
      prefixes.push_back(r.rule.prefix);
    }
  }
  std::vector<std::size_t> added(prefixes.size(), 0);
  std::vector<std::size_t> removed(prefixes.size(), 0);
  for (const auto* entry : sorted_by_key(batch)) {
    const auto& [key, value] = *entry;
    MDB_val k = lmdb_val(key);
    int rc = 0;
    bool is_new = false;
    bool was_deleted = false;
    if (value) {
      MDB_val v = lmdb_val(*value);
      rc = mdb_put(txn.get(), dbi_, &k, &v, MDB_NOOVERWRITE);
      if (rc == MDB_KEYEXIST) {
        v = lmdb_val(*value);
        rc = mdb_put(txn.get(), dbi_, &k, &v, 0);
      } else if (rc == 0) {
        is_new = true;
      }
    } else {
      rc = mdb_del(txn.get(), dbi_, &k, nullptr);
      if (rc == MDB_NOTFOUND) {
        rc = 0;
      } else if (rc == 0) {
        was_deleted = true;
      }
    }
    if (rc != 0) {
      return lmdb_error("put", rc);
    }
    for (std::size_t i = 0; i < prefixes.size(); ++i) {
      if (key.starts_with(prefixes[i])) {
        added[i] += is_new ? 1 : 0;
        removed[i] += was_deleted ? 1 : 0;
      }
    }
  }
  const int rc = txn.commit();
  if (rc != 0) {
    return lmdb_error("commit", rc);
  }
  auto lock = commits_.lock();
  for (std::size_t i = 0; i < prefixes.size() && i < rules_.size(); ++i) {
    rules_[i].count = rules_[i].count + added[i] - std::min(rules_[i].count + added[i], removed[i]);
  }
  return {};
}

Result<void> LmdbKv::add_retention(KvRetention rule) {
  std::size_t n = 0;
  auto ok = scan(rule.prefix, [&](std::string_view, std::string_view) {
    ++n;
    return true;
  });
  if (!ok) {
    return ok;
  }
  auto lock = commits_.lock();
  rules_.push_back(Rule{std::move(rule), n});
  return {};
}

std::size_t LmdbKv::retained_count(std::string_view prefix) {
  auto lock = commits_.lock();
  for (const Rule& r : rules_) {
    if (r.rule.prefix == prefix) {
      return r.count;
    }
  }
  return 0;
}

void LmdbKv::apply_retention() {
  std::vector<Rule> rules;
  {
    auto lock = commits_.lock();
    rules = rules_;
  }
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const KvRetention& r = rules[i].rule;
    const std::string min_key = r.min_key ? r.prefix + r.min_key() : std::string();
    std::size_t count = rules[i].count;
    Txn txn(env_, false);
    if (txn.rc() != 0) {
      return;
    }
    MDB_cursor* cur = nullptr;
    if (mdb_cursor_open(txn.get(), dbi_, &cur) != 0) {
      return;
    }
    MDB_val k = lmdb_val(r.prefix);
    MDB_val v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    std::size_t removed = 0;
    constexpr std::size_t kBudget = 20000;
    while (rc == 0 && removed < kBudget && view(k).starts_with(r.prefix)) {
      const bool over = r.max_count > 0 && count > r.max_count;
      const bool old = !min_key.empty() && view(k) < std::string_view(min_key);
      if (!over && !old) {
        break;
      }
      bool skip = false;
      {
        auto lock = commits_.lock();
        skip = commits_.pending_contains(view(k));
      }
      if (!skip && mdb_cursor_del(cur, 0) == 0) {
        ++removed;
        --count;
        rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
        if (rc == MDB_NOTFOUND || rc == EINVAL) {
          rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        }
        continue;
      }
      rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (removed > 0 && txn.commit() == 0) {
      auto lock = commits_.lock();
      rules_[i].count -= std::min(rules_[i].count, removed);
      trimmed_ += removed;
    }
  }
}

KvStats LmdbKv::stats() {
  KvStats s;
  {
    auto lock = commits_.lock();
    static_cast<CommitCounters&>(s) = commits_.counters();
    s.trimmed = trimmed_;
  }
  static_cast<DbUsage&>(s) = db_usage(env_, dbi_);
  return s;
}

}  // namespace gf::io
