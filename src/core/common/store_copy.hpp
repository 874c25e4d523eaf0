#pragma once
// Copying a deployment's state between stores (`greyflux store copy`): every greylist record of
// one greylist::Store into another, every entry of one KvStore (the comment API) into another,
// through the ports only, so any pair of backends works (LMDB -> Redis, Redis -> Redis Cluster,
// Redis -> LMDB ...).
//
// Flow: the destination must be empty (an entry there would make the verification meaningless;
// refused with a clear error). The source is scanned in key order; each entry is either skipped
// (`skip`: a greylist record that expires within the copy's margin, which native expiry would
// drop on arrival anyway) or written to the destination and added to a digest. The destination
// is flushed, scanned again, and its count and digest must equal the copied ones: otherwise the
// copy fails and says how many entries differ in count. `progress` is called every
// kCopyProgressEvery entries read and once at the end (the CLI prints the lines, with a rate).
//
// The digest is order independent (the sum and the xor of a 64-bit hash of each key and value),
// so the two scans may visit entries in any order; a lost, extra or changed entry shows.
// Error contract: a store error stops the copy and comes back as it is; nothing is undone (the
// destination was empty: empty it again and rerun). Writers must be stopped meanwhile.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/common/kv_store.hpp"
#include "core/common/result.hpp"
#include "core/greylist/store.hpp"

namespace gf {

class EntryDigest {
 public:
  void add(std::string_view key, std::string_view value);
  std::uint64_t count() const { return count_; }
  std::string hex() const;  // 32 hex digits
  friend bool operator==(const EntryDigest&, const EntryDigest&) = default;

 private:
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t xor_ = 0;
};

inline constexpr std::uint64_t kCopyProgressEvery = 10000;

struct CopyReport {
  std::uint64_t read = 0;     // entries in the source
  std::uint64_t skipped = 0;  // not copied (skip said so)
  EntryDigest copied;         // what was written
  EntryDigest verified;       // what the destination holds afterwards (equal to copied)
};

using CopyProgress = std::function<void(std::uint64_t read, std::uint64_t copied)>;
using GreylistSkipFn = std::function<bool(std::string_view key, const greylist::Record& rec)>;

[[nodiscard]] Result<CopyReport> copy_greylist(greylist::Store& from, greylist::Store& to,
                                               const GreylistSkipFn& skip,
                                               const CopyProgress& progress);
[[nodiscard]] Result<CopyReport> copy_kv(KvStore& from, KvStore& to, const CopyProgress& progress);

}  // namespace gf
