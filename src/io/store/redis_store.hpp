#pragma once
// RedisStore: the greylist Store port (core/greylist/store.hpp) on Redis, so that several
// greyflux instances (one per MX) share triplets, auto-whitelists and admin whitelist entries:
// a sender greylisted by mx1 passes when its retry lands on mx2.
//
// Keys are the greylist's own (greylist::key::) under `prefix` (the wiring uses "gf:g:") in
// their slot-tagged form (core/greylist/slot_tag.hpp: "t:{NET}..."), so that on a Redis Cluster
// the triplet, client, domain and sender keys of one decision share a slot; the values are the
// 17-byte encode_record(). A decision is one round trip: Greylist::check() reads
// every key it may need with one get_many() (one MGET per route: on a standalone Redis one
// command; on a cluster one per slot, the network-tagged keys sharing one), or without blocking
// with get_many_async() (RedisClient::async_call()), and its writes are buffered sends
// (no waiting; a failed one is reported by the next flush()). With an ExpiryFn (the wiring
// passes greylist::expires_at() with the live settings) every put() sets the key's expiry
// (SET ... EXAT), so Redis forgets old triplets by itself and the daemon runs no sweep;
// expire_step() still works (SCAN in budget-sized steps) for the port's contract and for keys
// written without an expiry. A reload that changes max_age or retry_window applies to a key at
// its next write.
//
// Threading: every method is safe from any thread except the Redis client's own.
// Errors: StoreFailure "redis: ..." when Redis is down, slow or answers an error, or a stored
// value is not a record.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/greylist/store.hpp"
#include "io/store/redis_client.hpp"

namespace gf::io {

class RedisStore final : public greylist::Store {
 public:
  // The last Unix second a record is kept; nullopt = for ever.
  using ExpiryFn =
      std::function<std::optional<std::int64_t>(std::string_view key, const greylist::Record&)>;

  RedisStore(std::shared_ptr<RedisClient> client, std::string prefix, ExpiryFn expiry = {});

  [[nodiscard]] Result<std::optional<greylist::Record>> get(std::string_view key) override;
  [[nodiscard]] Result<std::vector<std::optional<greylist::Record>>> get_many(
      const std::vector<std::string>& keys) override;
  void get_many_async(std::vector<std::string> keys, ManyFn done) override;
  bool reads_async() const override { return true; }
  [[nodiscard]] Result<void> put(std::string_view key, const greylist::Record& rec) override;
  [[nodiscard]] Result<bool> erase(std::string_view key) override;
  [[nodiscard]] Result<void> scan(std::string_view prefix, const greylist::ScanFn& fn) override;
  [[nodiscard]] Result<void> flush() override;
  [[nodiscard]] Result<std::size_t> expire_step(const ExpiredFn& expired,
                                                std::size_t budget) override;

  bool native_expiry() const { return static_cast<bool>(expiry_); }
  RedisClient& client() { return *client_; }

 private:
  std::string full(std::string_view key) const;
  RedisReadPlan plan_reads(const std::vector<std::string>& keys) const;
  static Result<std::vector<std::optional<greylist::Record>>> records_of(
      const RedisReadPlan& plan, const std::vector<std::string>& keys,
      const Result<std::vector<RedisReply>>& r);

  std::shared_ptr<RedisClient> client_;
  std::string prefix_;
  ExpiryFn expiry_;
  std::mutex expire_mu_;
  std::size_t expire_route_ = 0;  // which of client().scan_routes() the cursor walks
  std::string expire_cursor_ = "0";
};

}  // namespace gf::io
