#pragma once
// Group commit, shared by LmdbStore (greylist records) and LmdbKv (comment API bytes).
//
// Writes are staged in a pending map under one mutex; a writer thread swaps that map out every
// `interval` (or when flush() asks) and commits it without the lock, so no request waits for
// fsync and after kill -9 at most one interval of writes is lost. Reads look in the pending and
// the committing map before going to the database. After a commit the writer runs the owner's
// chore (expiry sweep, retention trim) at most every `chore_every`.
//
// A failed commit keeps its batch: it goes back under the pending writes (a newer write of a key
// wins) and is committed again every interval, and stage() refuses new writes with the commit's
// error until a commit succeeds. So a store that cannot write (disk full, disk error) answers
// "store failure" at once, holds only the writes it had acknowledged, loses none of them when
// space returns, and logs one error line per outage (and one info line when it recovers), not
// one per retried round. (Dropping the batch lost up to an interval of acknowledged writes per
// failed round, and the empty round after it re-opened writes, so a full disk alternated between
// acknowledging writes it then dropped and refusing, logging an error every round.)
// The exception is a batch the database can never take (Errc::TooLarge: LMDB's map is full):
// retrying it would refuse writes for ever, so it is dropped, writes are refused until a round
// finds nothing pending, and smaller writes that still fit are taken again.
//
// The commit transaction itself (LMDB's page writes and fsync, the burst that used to preempt io
// threads) runs as SCHED_BATCH unless the writer fell behind (RoundPriority): a normal CPU share,
// so it keeps the interval on a busy machine, without preempting io threads when it wakes.
// Everything that holds the lock, and the chore, runs at normal priority. Without a writer thread
// (short-lived CLI use) flush() and stop() commit on the calling thread.
//
// With a write journal attached (io/store/write_journal.hpp) every staged write is also appended
// to it, the round's swap seals the journal file that holds the swapped batch, and a successful
// commit empties that file: a kill -9 then loses no write whose reply was sent.
//
// Threading: every member is safe from any thread; find(), staged(), pending_contains(),
// writable(), stage() and counters() need the lock from lock(), which also guards what the owner
// keeps beside it (its stats, rules).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

#include "core/common/result.hpp"
#include "core/common/time.hpp"
#include "io/store/pending_writes.hpp"
#include "io/store/write_journal.hpp"
#include "io/sys/thread_priority.hpp"

namespace gf::io {

struct CommitCounters {
  std::uint64_t commits = 0;
  std::uint64_t commit_failures = 0;
  std::uint64_t records_written = 0;
  std::uint64_t writer_promotions = 0;  // late rounds, whose commit ran as SCHED_OTHER
  std::uint64_t records_retained = 0;   // records of failed commits kept for the next round
};

template <class Value>
class GroupCommit {
 public:
  using Batch = std::unordered_map<std::string, std::optional<Value>, StringHash, std::equal_to<>>;
  using CommitFn = std::function<Result<void>(const Batch&)>;  // runs without the lock
  using ChoreFn = std::function<void()>;                       // runs without the lock
  // A value's bytes as the journal keeps them (in `scratch` when they must be built).
  using JournalBytesFn = std::string_view (*)(const Value&, std::string& scratch);

  GroupCommit() = default;
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;
  ~GroupCommit() { stop(); }

  // `name` prefixes the commit-failure log line ("store", "akismet store").
  void init(std::string name, Millis interval, CommitFn commit) {
    name_ = std::move(name);
    interval_ = interval;
    commit_ = std::move(commit);
  }

  // Journals every write staged from now on into `journal` (owned by the caller, which keeps it
  // until stop()). Call before the first stage().
  void attach_journal(WriteJournal* journal, JournalBytesFn bytes) {
    journal_ = journal;
    journal_bytes_ = bytes;
  }

  void start_writer(ChoreFn chore, Millis chore_every, bool background) {
    chore_ = std::move(chore);
    chore_every_ = chore_every;
    background_ = background;
    writer_ = std::thread([this] { writer_loop(); });
  }

  // Commits what is pending (the writer's last round, or inline) and stops the writer.
  void stop() {
    std::unique_lock lock(mu_);
    if (stopping_) {
      return;
    }
    stopping_ = true;
    if (!writer_.joinable()) {
      if (auto ok = commit_inline(lock); !ok) {
        spdlog::error("store: the last commit before closing failed: {}", ok.error().message);
      }
      return;
    }
    lock.unlock();
    wake_.notify_all();
    writer_.join();
  }

  [[nodiscard]] std::unique_lock<std::mutex> lock() { return std::unique_lock(mu_); }

  // The not-yet-committed write of `key` (nullopt inside: a pending erase), or nullptr.
  [[nodiscard]] const std::optional<Value>* find(std::string_view key) const {
    if (auto it = pending_.find(key); it != pending_.end()) {
      return &it->second;
    }
    if (auto it = committing_.find(key); it != committing_.end()) {
      return &it->second;
    }
    return nullptr;
  }
  // The not-yet-committed writes whose key starts with `prefix`, in key order (a pending write
  // over a committing one): what a scan lays over a read transaction opened after this call,
  // so it sees every acknowledged write without waiting for a commit and its fsync.
  [[nodiscard]] StagedWrites<Value> staged(std::string_view prefix) const {
    StagedWrites<Value> out;
    for (const Batch* b : {&pending_, &committing_}) {
      for (const auto& [key, value] : *b) {
        if (key.starts_with(prefix) && (b == &pending_ || !pending_.contains(key))) {
          out.emplace_back(key, value);
        }
      }
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    return out;
  }
  [[nodiscard]] bool pending_contains(std::string_view key) const {
    return pending_.find(key) != pending_.end();
  }

  // A store failure while the last commit failed (and no empty round has passed since).
  [[nodiscard]] Result<void> writable() const {
    if (last_commit_failed_) {
      return fail(Errc::StoreFailure, last_error_);
    }
    return {};
  }

  // Stages a write (nullopt = erase). Refused while not writable(), unless `always`.
  [[nodiscard]] Result<void> stage(std::string_view key, std::optional<Value> value,
                                   bool always = false) {
    if (!always) {
      if (auto ok = writable(); !ok) {
        return ok;
      }
    }
    auto [it, inserted] = pending_.insert_or_assign(std::string(key), std::move(value));
    if (journal_ != nullptr) {
      if (it->second) {
        const std::string_view bytes = journal_bytes_(*it->second, journal_scratch_);
        journal_->append(key, &bytes);
      } else {
        journal_->append(key, nullptr);
      }
    }
    return {};
  }

  // Waits until everything staged before the call is committed (or commits it inline).
  [[nodiscard]] Result<void> flush() {
    std::unique_lock lock(mu_);
    if (!writer_.joinable()) {
      return commit_inline(lock);
    }
    const std::uint64_t ticket = ++flush_requested_;
    wake_.notify_all();
    committed_.wait(lock, [&] { return flush_done_ >= ticket || stopping_; });
    if (last_commit_failed_) {
      return fail(Errc::StoreFailure, last_error_);
    }
    return {};
  }

  // Needs the lock.
  [[nodiscard]] const CommitCounters& counters() const { return counters_; }

 private:
  [[nodiscard]] Result<void> commit_inline(std::unique_lock<std::mutex>& lock) {
    Batch batch;
    batch.swap(pending_);
    if (journal_ != nullptr && !batch.empty()) {
      journal_->seal();
    }
    lock.unlock();
    Result<void> ok = batch.empty() ? Result<void>() : commit_(batch);
    if (ok && journal_ != nullptr && !batch.empty()) {
      journal_->committed();
    }
    lock.lock();
    if (!ok) {
      last_commit_failed_ = true;
      last_error_ = ok.error().message;
    }
    return ok;
  }

  void writer_loop() {
    RoundPriority priority(interval_);
    std::unique_lock lock(mu_);
    auto next_chore = std::chrono::steady_clock::now();
    auto next_round = next_chore + interval_;
    while (true) {
      // Rounds start every interval, counted from the previous round's start (not its end): a
      // commit slowed by a busy disk does not add a whole interval of waiting on top, so the
      // writes a kill -9 finds unwritten stay within max(interval, last commit) + this commit.
      wake_.wait_until(lock, next_round,
                       [&] { return stopping_ || flush_requested_ > flush_done_; });
      next_round = std::chrono::steady_clock::now() + interval_;
      if (priority.begin_round() && background_) {
        ++counters_.writer_promotions;
      }
      const std::uint64_t ticket = flush_requested_;
      committing_.swap(pending_);
      const bool stop = stopping_;
      const std::size_t n = committing_.size();
      if (journal_ != nullptr && n > 0) {
        journal_->seal();  // the swapped batch's records are all in the sealed file
      }
      lock.unlock();
      Result<void> ok;
      if (n > 0) {
        ok = background_ ? priority.run_background([&] { return commit_(committing_); })
                         : commit_(committing_);
        if (ok && journal_ != nullptr) {
          journal_->committed();
        }
      }
      if (!stop && chore_ && std::chrono::steady_clock::now() >= next_chore) {
        chore_();
        next_chore = std::chrono::steady_clock::now() + chore_every_;
      }
      lock.lock();
      if (n > 0) {
        if (ok) {
          commit_succeeded(n);
        } else {
          commit_failed(n, ok.error());
        }
      } else {
        last_commit_failed_ = false;  // nothing pending: take writes again
      }
      Batch done;  // its nodes are freed below, outside mu_, which every read takes
      done.swap(committing_);
      flush_done_ = ticket;
      committed_.notify_all();
      if (stop) {
        if (!pending_.empty()) {
          spdlog::error("{}: closing with {} acknowledged records not written: {}", name_,
                        pending_.size(), last_error_);
        }
        return;
      }
      lock.unlock();
      done = Batch();
      lock.lock();
    }
  }

  // Needs the lock; the batch in committing_ is in the database.
  void commit_succeeded(std::size_t n) {
    ++counters_.commits;
    counters_.records_written += n;
    if (last_commit_failed_) {
      spdlog::info("{}: commits succeed again after {} failed rounds; {} kept records written",
                   name_, failed_rounds_, n);
    }
    failed_rounds_ = 0;
    last_commit_failed_ = false;
  }

  // Needs the lock. Puts the batch in committing_ back under pending_, where a write staged
  // since (only erases are, while failing) is newer and wins; a TooLarge batch is dropped.
  void commit_failed(std::size_t n, const Error& why) {
    ++counters_.commit_failures;
    ++failed_rounds_;
    const bool retain = why.code != Errc::TooLarge;
    if (!last_commit_failed_) {
      spdlog::error("{}: commit of {} records failed: {}; writes are refused (store failure){}",
                    name_, n, why.message,
                    retain ? " and the batch is retried every " + format_duration(interval_)
                           : ", the batch is dropped");
    }
    if (retain) {
      counters_.records_retained += n;
      pending_.merge(committing_);  // moves the keys pending_ does not hold yet
    }
    last_commit_failed_ = true;
    last_error_ = why.message;
  }

  std::string name_;
  Millis interval_{100};
  CommitFn commit_;
  ChoreFn chore_;
  Millis chore_every_{1000};
  bool background_ = true;
  WriteJournal* journal_ = nullptr;
  JournalBytesFn journal_bytes_ = nullptr;
  std::string journal_scratch_;  // guarded by mu_

  std::mutex mu_;  // guards everything below (and what the owner keeps under lock())
  std::condition_variable wake_;
  std::condition_variable committed_;
  Batch pending_;     // accepted, not yet handed to the writer
  Batch committing_;  // being committed right now
  std::uint64_t flush_requested_ = 0;
  std::uint64_t flush_done_ = 0;
  bool stopping_ = false;
  bool last_commit_failed_ = false;
  std::uint64_t failed_rounds_ = 0;  // since the last commit that succeeded
  std::string last_error_;
  CommitCounters counters_;
  std::thread writer_;
};

}  // namespace gf::io
