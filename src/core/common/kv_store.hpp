#pragma once
// KvStore: the storage port of the comment API (and of any front door that keeps byte-string
// records): a sorted map from byte-string keys to byte-string values.
//
// Implementations: MemoryKv (core/common/memory_kv.hpp: tests, and anything that may lose its
// state on restart), io::LmdbKv (src/io/store), io::RedisKv (src/io/store, shared by nodes). All
// pass the typed contract suite in tests/unit/kv_store_contract_test.cpp; a new implementation is
// one factory there.
//
// Error contract (every operation returns a Result; none throws):
//   - A key that is not there is not an error: get() and get_many() answer nullopt for it.
//     NotFound is never returned by this port; callers that need "must exist" make that error.
//   - A key is 1 to kMaxKeyBytes bytes. put(), erase(), update() and put_and_update() refuse
//     any other key with InvalidInput (nothing is written); get() and get_many() answer nullopt
//     for it (such a key cannot have been stored).
//   - Any other error is StoreFailure (or Io): the backing store failed (disk full, LMDB map
//     full, connection lost). The caller decides the policy (an Akismet "retry" reply, a count,
//     a rate-limited log line); the store stays usable for later calls.
// Visibility and durability: every read (get, get_many, scan) sees every earlier successful
// write made through the same object, from any thread. Writes may be buffered (group commit):
// only flush() promises they are durable; after a crash at most the unflushed writes are lost,
// in whole, never torn records.
// Atomicity: update() is an atomic read-modify-write against every other write made through
// the same object (MemoryKv, LmdbKv: the function runs under the store's write lock, exactly
// once; io::RedisKv: compare-and-set, atomic across nodes too, and the function runs again with
// the newer value when another writer won). So `fn` must be a pure function of its argument and
// must not call back into the store. put_and_update() does the put and the update under one lock;
// if the update fails the put may still have been made (the pair is not a transaction).
// scan(prefix): visits the entries whose key starts with `prefix` (all entries for ""), in
// ascending order of the keys compared as unsigned bytes (memcmp), each once; keys outside the
// prefix are never visited; `fn` returns false to stop early and must not call the store.
//
// Threading: every method is safe from any thread.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.hpp"

namespace gf {

class KvStore {
 public:
  // LMDB's default key size limit; every implementation keeps the same one so that a deployment
  // can move between them.
  static constexpr std::size_t kMaxKeyBytes = 511;
  [[nodiscard]] static bool key_fits(std::string_view key) {
    return !key.empty() && key.size() <= kMaxKeyBytes;
  }

  // `fn` gets the current value (nullopt: none) and returns the new one.
  using UpdateFn = std::function<std::string(std::optional<std::string_view>)>;
  // false stops the scan.
  using ScanFn = std::function<bool(std::string_view key, std::string_view value)>;

  virtual ~KvStore() = default;

  [[nodiscard]] virtual Result<std::optional<std::string>> get(std::string_view key) = 0;
  // get() of several keys at once, answers in the order of `keys` (one lock and one read
  // transaction where the implementation has them: the comment-check's single read).
  [[nodiscard]] virtual Result<std::vector<std::optional<std::string>>> get_many(
      const std::vector<std::string>& keys) = 0;
  // get_many() without waiting, for an adapter that must not block its thread on a networked
  // store: `done` runs exactly once with what get_many() would answer, on any thread (a
  // networked store's own, within its timeout) or before this returns (the default runs
  // get_many() on the calling thread), so it must only hand the result on.
  using ManyFn = std::function<void(Result<std::vector<std::optional<std::string>>>)>;
  virtual void get_many_async(std::vector<std::string> keys, ManyFn done) { done(get_many(keys)); }
  // True when get_many_async() does not block (the default does: it is get_many()).
  virtual bool reads_async() const { return false; }
  [[nodiscard]] virtual Result<void> put(std::string_view key, std::string value) = 0;
  // Erasing a key that is not there succeeds.
  [[nodiscard]] virtual Result<void> erase(std::string_view key) = 0;
  [[nodiscard]] virtual Result<void> update(std::string_view key, const UpdateFn& fn) = 0;
  // put(put_key, value) then update(update_key, fn) under one lock (a comment-check's stored
  // record and its usage counter: the check's one write).
  [[nodiscard]] virtual Result<void> put_and_update(std::string_view put_key, std::string value,
                                                    std::string_view update_key,
                                                    const UpdateFn& fn) = 0;
  // put_and_update() for a caller that does not need the update applied when this returns (a
  // comment-check's usage counter): a networked store may send both without waiting and apply
  // the update in the background (its failure reported by a later flush()); a later get() on
  // this store still sees it. The default is put_and_update().
  [[nodiscard]] virtual Result<void> put_and_update_later(std::string_view put_key,
                                                          std::string value,
                                                          std::string_view update_key,
                                                          const UpdateFn& fn) {
    return put_and_update(put_key, std::move(value), update_key, fn);
  }
  [[nodiscard]] virtual Result<void> scan(std::string_view prefix, const ScanFn& fn) = 0;
  // Makes every earlier write durable before returning (a no-op for a memory store).
  [[nodiscard]] virtual Result<void> flush() = 0;
};

}  // namespace gf
