#include "core/greylist/memory_store.hpp"

namespace gf::greylist {
namespace {

tl::unexpected<Error> failing_error() { return fail(Errc::StoreFailure, "store unavailable"); }

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    out += static_cast<char>((v >> (8 * i)) & 0xff);
  }
}

std::uint32_t get_u32(std::string_view in, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  }
  return v;
}

}  // namespace

std::string encode_record(const Record& r) {
  std::string out;
  out.reserve(kEncodedRecordBytes);
  out += '\x01';  // format version
  put_u32(out, r.first_s);
  put_u32(out, r.last_s);
  put_u32(out, r.count);
  put_u32(out, r.counted_s);
  return out;
}

Result<Record> decode_record(std::string_view bytes) {
  if (bytes.size() != kEncodedRecordBytes || bytes[0] != '\x01') {
    return fail(Errc::InvalidInput, "stored record has an unknown format");
  }
  Record r;
  r.first_s = get_u32(bytes, 1);
  r.last_s = get_u32(bytes, 5);
  r.count = get_u32(bytes, 9);
  r.counted_s = get_u32(bytes, 13);
  return r;
}

Result<std::optional<Record>> MemoryStore::get(std::string_view key) {
  std::lock_guard lock(mu_);
  if (failing_) {
    return failing_error();
  }
  auto it = data_.find(key);
  if (it == data_.end()) {
    return std::optional<Record>();
  }
  return std::optional<Record>(it->second);
}

Result<void> MemoryStore::put(std::string_view key, const Record& rec) {
  std::lock_guard lock(mu_);
  if (failing_) {
    return failing_error();
  }
  auto it = data_.find(key);
  if (it == data_.end()) {
    data_.emplace(std::string(key), rec);
  } else {
    it->second = rec;
  }
  return {};
}

Result<bool> MemoryStore::erase(std::string_view key) {
  std::lock_guard lock(mu_);
  if (failing_) {
    return failing_error();
  }
  auto it = data_.find(key);
  if (it == data_.end()) {
    return false;
  }
  data_.erase(it);
  return true;
}

Result<void> MemoryStore::scan(std::string_view prefix, const ScanFn& fn) {
  std::lock_guard lock(mu_);
  if (failing_) {
    return failing_error();
  }
  for (auto it = data_.lower_bound(prefix); it != data_.end() && it->first.starts_with(prefix);
       ++it) {
    if (!fn(it->first, it->second)) {
      break;
    }
  }
  return {};
}

Result<std::size_t> MemoryStore::expire_step(const ExpiredFn& expired, std::size_t budget) {
  std::lock_guard lock(mu_);
  if (failing_) {
    return failing_error();
  }
  std::size_t removed = 0;
  auto it = data_.upper_bound(expire_cursor_);
  for (std::size_t seen = 0; it != data_.end() && seen < budget; ++seen) {
    expire_cursor_ = it->first;
    if (expired(it->first, it->second)) {
      it = data_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  if (it == data_.end()) {
    expire_cursor_.clear();  // wrap around for the next pass
  }
  return removed;
}

void MemoryStore::set_failing(bool failing) {
  std::lock_guard lock(mu_);
  failing_ = failing;
}

}  // namespace gf::greylist
