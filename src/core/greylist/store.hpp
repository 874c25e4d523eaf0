#pragma once
// The storage port of the greylist: a sorted key -> Record map.
//
// Implementations: MemoryStore (here, for tests and `backend = "memory"`), LmdbStore
// (src/io/store), later Redis. All pass the contract suite in tests/unit/store_contract_test.cpp.
// Errors are results, never exceptions: the greylist turns any store error into its configured
// fail-open (DUNNO) or tempfail (DEFER) answer. Implementations are safe to call from several
// threads; writes may be buffered (group commit) but a get() always sees an earlier put().
// get_many() is the decision's one read: Greylist::check() asks for every key it may need at
// once, so a networked store (Redis) answers a decision in one round trip.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.hpp"

namespace gf::greylist {

// One stored entry. Times are Unix seconds; what `count` means depends on the key kind
// (passes of a triplet, counted deliveries of an auto-whitelisted client, ...).
struct Record {
  std::uint32_t first_s = 0;
  std::uint32_t last_s = 0;
  std::uint32_t count = 0;
  std::uint32_t counted_s = 0;  // when `count` last went up (auto-whitelist: once per hour)

  friend bool operator==(const Record&, const Record&) = default;
};

inline constexpr std::size_t kEncodedRecordBytes = 17;
std::string encode_record(const Record& r);
[[nodiscard]] Result<Record> decode_record(std::string_view bytes);

using ScanFn = std::function<bool(std::string_view key, const Record& rec)>;  // false stops

class Store {
 public:
  virtual ~Store() = default;
  [[nodiscard]] virtual Result<std::optional<Record>> get(std::string_view key) = 0;
  // get() of several keys, answers in the order of `keys`; the default asks get() for each.
  [[nodiscard]] virtual Result<std::vector<std::optional<Record>>> get_many(
      const std::vector<std::string>& keys) {
    std::vector<std::optional<Record>> out;
    out.reserve(keys.size());
    for (const std::string& k : keys) {
      auto r = get(k);
      if (!r) {
        return tl::unexpected(r.error());
      }
      out.push_back(*r);
    }
    return out;
  }
  // get_many() without waiting, for an adapter that must not block its thread on a networked
  // store: `done` runs exactly once, with what get_many() would answer. It may run on any
  // thread (a networked store's own, within its timeout) or before this returns (the default
  // runs get_many() on the calling thread), so it must only hand the result on.
  using ManyFn = std::function<void(Result<std::vector<std::optional<Record>>>)>;
  virtual void get_many_async(std::vector<std::string> keys, ManyFn done) { done(get_many(keys)); }
  // True when get_many_async() does not block (the default does: it is get_many()).
  virtual bool reads_async() const { return false; }
  [[nodiscard]] virtual Result<void> put(std::string_view key, const Record& rec) = 0;
  [[nodiscard]] virtual Result<bool> erase(std::string_view key) = 0;
  // Visits every record whose key starts with `prefix`, in key order.
  [[nodiscard]] virtual Result<void> scan(std::string_view prefix, const ScanFn& fn) = 0;
  // Makes every earlier write durable before returning.
  [[nodiscard]] virtual Result<void> flush() = 0;
  // Removes up to `budget` expired records, resuming where the previous call stopped; returns
  // how many were removed. Runs in small steps so it never blocks requests for long.
  using ExpiredFn = std::function<bool(std::string_view key, const Record& rec)>;
  [[nodiscard]] virtual Result<std::size_t> expire_step(const ExpiredFn& expired,
                                                        std::size_t budget) = 0;
};

}  // namespace gf::greylist
