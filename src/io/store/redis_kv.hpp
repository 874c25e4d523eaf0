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
//
// Threading: every method is safe from any thread except the Redis client's own.
// Errors: as the port says; "redis: ..." StoreFailure when Redis is down, slow or answers an
// error.
#include <memory>
#include <mutex>
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

  std::shared_ptr<RedisClient> client_;
  std::string prefix_;
  std::vector<std::pair<std::string, Seconds>> expiry_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace gf::io
