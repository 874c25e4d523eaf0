#pragma once
// RedisKv: the KvStore port (core/common/kv_store.hpp) on Redis, for the comment API's keys,
// usage counters, reputation, stored checks, training log and model, shared by every greyflux
// that points at the same Redis (a key created on one node verifies on all; a submit-spam on
// one raises the reputation every node reads).
//
// Every key is stored under `prefix` (the wiring uses "gf:a:"). get/get_many are one call (one
// round trip: get_many is one MGET per route; get_many_async() the same without waiting). put
// and erase are buffered sends (no waiting; a failure is reported by the next flush()). update
// is a compare-and-set Lua script: the expected value is this node's last known value of the key
// (nothing on first use), the script writes fn(expected) only if Redis still holds `expected`,
// and otherwise answers the current value, with which fn runs again — one round trip when no
// other node wrote the key meanwhile. So fn may run more than once (the port says it must be a
// pure function of its argument), and the read-modify-write is atomic across nodes, not only
// across this object's threads.
// put_and_update_later() (a comment-check's stored record and its usage counter) waits for neither:
// the put is a send, and the update a compare-and-set in the background, one in flight per key
// on this node, the updates that came meanwhile folded into the next one (so that many checks
// of one site never race each other's retries), retried from Redis's answer when another node
// wrote the key; a comment-check so waits for its one read only. get() and get_many() first
// wait (up to kLaterWait) for this node's background updates of the keys they read.
// flush() waits for those updates (up to kLaterWait), then until every earlier write is
// acknowledged; durability then is Redis's own
// (appendonly / save settings). scan() is SCAN MATCH prefix*, sorted here.
// set_capped() (stored checks): the keys under one prefix kept to the newest N, in 16
// hash-tagged buckets, each put one script on its bucket's slot (see there).
//
// Threading: every method is safe from any thread except the Redis client's own.
// Errors: as the port says; "redis: ..." StoreFailure when Redis is down, slow or answers an
// error.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/common/kv_store.hpp"
#include "io/store/redis_client.hpp"

namespace gf::io {

class RedisKv final : public KvStore {
 public:
  RedisKv(std::shared_ptr<RedisClient> client, std::string prefix);
  ~RedisKv() override;  // waits for the background updates, up to kLaterWait
  static constexpr Millis kLaterWait{1000};

  [[nodiscard]] Result<std::optional<std::string>> get(std::string_view key) override;
  [[nodiscard]] Result<std::vector<std::optional<std::string>>> get_many(
      const std::vector<std::string>& keys) override;
  void get_many_async(std::vector<std::string> keys, ManyFn done) override;
  bool reads_async() const override { return true; }
  [[nodiscard]] Result<void> put(std::string_view key, std::string value) override;
  [[nodiscard]] Result<void> erase(std::string_view key) override;
  [[nodiscard]] Result<void> update(std::string_view key, const UpdateFn& fn) override;
  [[nodiscard]] Result<void> put_and_update(std::string_view put_key, std::string value,
                                            std::string_view update_key,
                                            const UpdateFn& fn) override;
  [[nodiscard]] Result<void> put_and_update_later(std::string_view put_key, std::string value,
                                                  std::string_view update_key,
                                                  const UpdateFn& fn) override;
  [[nodiscard]] Result<void> scan(std::string_view prefix, const ScanFn& fn) override;
  [[nodiscard]] Result<void> flush() override;

  RedisClient& client() { return *client_; }
  // Keys under `key_prefix` written from now on expire `ttl` after their put() (stored checks:
  // Redis drops them by itself, as LMDB's retention sweep does). Call before sharing the store.
  void set_expiry(std::string key_prefix, Seconds ttl);
  // Keys under `key_prefix` (stored checks) are also capped at `max_entries`, the newest kept,
  // as LMDB's retention keeps them. They are spread over kCapBuckets buckets by the CRC16 of
  // the rest of the key, each a Redis Cluster hash tag: `<prefix><key_prefix>{<b>}<rest>` with b
  // = "c00".."c15" (key_prefix's first letter and two digits), and each bucket has an index,
  // the sorted set `<prefix><letter>i:{<b>}` (rest -> put time, µs). A put is one script on the
  // bucket's slot: SET ... EX ttl, ZADD, drop index entries older than ttl, and while the
  // bucket holds more than ceil(max_entries / kCapBuckets) the oldest key and its entry, then
  // PEXPIRE the index (so one put still costs one command and no round trip is waited for).
  // The store's callers keep naming the keys `<key_prefix><rest>`; get, erase and scan map them.
  // Call before sharing the store, with the same values on every node.
  void set_capped(std::string key_prefix, std::size_t max_entries, Seconds ttl);
  static constexpr std::size_t kCapBuckets = 16;

 private:
  struct Read {
    std::size_t n = 0;               // keys asked for
    std::vector<std::size_t> asked;  // the index of each key that fits
    RedisReadPlan plan;
  };
  Read plan_read(const std::vector<std::string>& keys) const;
  static Result<std::vector<std::optional<std::string>>> values_of(
      const Read& read, const Result<std::vector<RedisReply>>& r);
  RedisCommand command(std::initializer_list<std::string_view> head, std::string_view key,
                       std::vector<std::string> tail = {}) const;
  // The CAS guesses and the background updates: shared with the replies of those updates,
  // which may come after this object is gone.
  struct Shared;
  static RedisCommand cas(const RedisClient& client, const std::string& full_key,
                          const std::optional<std::string>& expected, const std::string& next);
  static void update_later(const std::shared_ptr<Shared>& sh, std::string full_key,
                           const UpdateFn& fn);
  static void cas_later(const std::shared_ptr<Shared>& sh, const std::string& full_key,
                        std::optional<std::string> expected, int attempt);

  // The key in Redis: prefix_ + key, with a capped key's bucket tag.
  std::string full_key(std::string_view key) const;
  // The capped prefix's bucket of `rest` (the key after the capped prefix): its tag "{c07}".
  std::string cap_tag(std::string_view rest) const;
  // The index of the bucket whose tag is `tag`: prefix_ + "ci:" + tag for the prefix "c:".
  std::string cap_index(std::string_view tag) const;
  // Redis's name back to the store's (the scan): nullopt for an index key.
  std::optional<std::string> unmap(std::string_view stored) const;

  struct Cap {
    std::string prefix;      // "c:"
    std::size_t per_bucket;  // ceil(max_entries / kCapBuckets)
    Seconds ttl;
  };
  std::shared_ptr<RedisClient> client_;
  std::string prefix_;
  std::vector<std::pair<std::string, Seconds>> expiry_;
  std::optional<Cap> cap_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace gf::io
