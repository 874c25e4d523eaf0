#include "core/common/memory_kv.hpp"

namespace gf {
namespace {

tl::unexpected<Error> bad_key() { return fail(Errc::InvalidInput, "key length out of range"); }

}  // namespace

Result<void> MemoryKv::usable_locked() const {
  if (failing_) {
    return fail(Errc::StoreFailure, "memory store set to fail");
  }
  return {};
}

Result<std::optional<std::string>> MemoryKv::get(std::string_view key) {
  std::lock_guard lock(mu_);
  if (auto ok = usable_locked(); !ok) {
    return tl::unexpected(ok.error());
  }
  const auto it = map_.find(key);
  if (it == map_.end()) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(it->second);
}

Result<std::vector<std::optional<std::string>>> MemoryKv::get_many(
    const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  if (auto ok = usable_locked(); !ok) {
    return tl::unexpected(ok.error());
  }
  std::vector<std::optional<std::string>> out(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (const auto it = map_.find(keys[i]); it != map_.end()) {
      out[i] = it->second;
    }
  }
  return out;
}

Result<void> MemoryKv::put(std::string_view key, std::string value) {
  if (!key_fits(key)) {
    return bad_key();
  }
  std::lock_guard lock(mu_);
  if (auto ok = usable_locked(); !ok) {
    return ok;
  }
  map_.insert_or_assign(std::string(key), std::move(value));
  return {};
}

Result<void> MemoryKv::erase(std::string_view key) {
  if (!key_fits(key)) {
    return bad_key();
  }
  std::lock_guard lock(mu_);
  if (auto ok = usable_locked(); !ok) {
    return ok;
  }
  if (const auto it = map_.find(key); it != map_.end()) {
    map_.erase(it);
  }
  return {};
}

void MemoryKv::update_locked(std::string_view key, const UpdateFn& fn) {
  const auto it = map_.find(key);
  if (it == map_.end()) {
    map_.emplace(std::string(key), fn(std::nullopt));
  } else {
    it->second = fn(std::string_view(it->second));
  }
}

Result<void> MemoryKv::update(std::string_view key, const UpdateFn& fn) {
  if (!key_fits(key)) {
    return bad_key();
  }
  std::lock_guard lock(mu_);
  if (auto ok = usable_locked(); !ok) {
    return ok;
  }
  update_locked(key, fn);
  return {};
}

Result<void> MemoryKv::put_and_update(std::string_view put_key, std::string value,
                                      std::string_view update_key, const UpdateFn& fn) {
  if (!key_fits(put_key) || !key_fits(update_key)) {
    return bad_key();
  }
  std::lock_guard lock(mu_);
  if (auto ok = usable_locked(); !ok) {
    return ok;
  }
  map_.insert_or_assign(std::string(put_key), std::move(value));
  update_locked(update_key, fn);
  return {};
}

Result<void> MemoryKv::scan(std::string_view prefix, const ScanFn& fn) {
  std::lock_guard lock(mu_);
  if (auto ok = usable_locked(); !ok) {
    return ok;
  }
  for (auto it = map_.lower_bound(prefix); it != map_.end() && it->first.starts_with(prefix);
       ++it) {
    if (!fn(it->first, it->second)) {
      break;
    }
  }
  return {};
}

Result<void> MemoryKv::flush() {
  std::lock_guard lock(mu_);
  return usable_locked();
}

void MemoryKv::set_failing(bool failing) {
  std::lock_guard lock(mu_);
  failing_ = failing;
}

std::size_t MemoryKv::size() const {
  std::lock_guard lock(mu_);
  return map_.size();
}

}  // namespace gf
