#pragma once
// An in-memory Store: a std::map under a mutex. Used by unit tests and `backend = "memory"`
// (state is lost on restart). Thread-safe.
#include <map>
#include <mutex>

#include "core/greylist/store.hpp"

namespace gf::greylist {

class MemoryStore final : public Store {
 public:
  [[nodiscard]] Result<std::optional<Record>> get(std::string_view key) override;
  [[nodiscard]] Result<void> put(std::string_view key, const Record& rec) override;
  [[nodiscard]] Result<bool> erase(std::string_view key) override;
  [[nodiscard]] Result<void> scan(std::string_view prefix, const ScanFn& fn) override;
  [[nodiscard]] Result<void> flush() override { return {}; }
  [[nodiscard]] Result<std::size_t> expire_step(const ExpiredFn& expired,
                                                std::size_t budget) override;

  // Test hook: every operation fails while set (a store that went away).
  void set_failing(bool failing);

 private:
  std::mutex mu_;
  std::map<std::string, Record, std::less<>> data_;
  std::string expire_cursor_;
  bool failing_ = false;
};

}  // namespace gf::greylist
