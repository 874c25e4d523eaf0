#pragma once
// MemoryKv: a KvStore in memory, a std::map under one mutex. For unit tests (the comment API on
// simulated time without LMDB) and for anything that may lose its state on restart. It follows
// the contract in core/common/kv_store.hpp; writes are visible and "durable" at once.
//
// Test hook: set_failing(true) makes every operation fail with StoreFailure (a store that went
// away), so the callers' failure policy can be tested.
//
// Threading: every method is safe from any thread.
#include <map>
#include <mutex>

#include "core/common/kv_store.hpp"

namespace gf {

class MemoryKv final : public KvStore {
 public:
  [[nodiscard]] Result<std::optional<std::string>> get(std::string_view key) override;
  [[nodiscard]] Result<std::vector<std::optional<std::string>>> get_many(
      const std::vector<std::string>& keys) override;
  [[nodiscard]] Result<void> put(std::string_view key, std::string value) override;
  [[nodiscard]] Result<void> erase(std::string_view key) override;
  [[nodiscard]] Result<void> update(std::string_view key, const UpdateFn& fn) override;
  [[nodiscard]] Result<void> put_and_update(std::string_view put_key, std::string value,
                                            std::string_view update_key,
                                            const UpdateFn& fn) override;
  [[nodiscard]] Result<void> scan(std::string_view prefix, const ScanFn& fn) override;
  [[nodiscard]] Result<void> flush() override;

  void set_failing(bool failing);
  // Entries stored now (tests).
  [[nodiscard]] std::size_t size() const;

 private:
  Result<void> usable_locked() const;
  void update_locked(std::string_view key, const UpdateFn& fn);

  mutable std::mutex mu_;
  std::map<std::string, std::string, std::less<>> map_;  // guarded by mu_
  bool failing_ = false;                                 // guarded by mu_
};

}  // namespace gf
