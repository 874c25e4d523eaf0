// A KvStore that hands every call to a MemoryKv it holds: a test's store derives from it and
// overrides only the calls it counts or makes misbehave (a read that fails, a lost write).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/kv_store.hpp"
#include "core/common/memory_kv.hpp"

namespace gf::test {

class ForwardingKv : public KvStore {
 public:
  Result<std::optional<std::string>> get(std::string_view key) override { return inner.get(key); }
  Result<std::vector<std::optional<std::string>>> get_many(
      const std::vector<std::string>& keys) override {
    return inner.get_many(keys);
  }
  Result<void> put(std::string_view key, std::string value) override {
    return inner.put(key, std::move(value));
  }
  Result<void> erase(std::string_view key) override { return inner.erase(key); }
  Result<void> update(std::string_view key, const UpdateFn& fn) override {
    return inner.update(key, fn);
  }
  Result<void> put_and_update(std::string_view put_key, std::string value,
                              std::string_view update_key, const UpdateFn& fn) override {
    return inner.put_and_update(put_key, std::move(value), update_key, fn);
  }
  Result<void> scan(std::string_view prefix, const ScanFn& fn) override {
    return inner.scan(prefix, fn);
  }
  Result<void> flush() override { return inner.flush(); }

  MemoryKv inner;
};

}  // namespace gf::test
