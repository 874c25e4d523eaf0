#include "core/common/store_copy.hpp"

#include <fmt/format.h>

namespace gf {
namespace {

// FNV-1a over the bytes, then the splitmix64 finaliser, so that similar entries spread.
std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

std::uint64_t fnv(std::uint64_t h, std::string_view bytes) {
  for (const char c : bytes) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

Result<void> must_be_empty(bool empty, std::string_view what) {
  if (!empty) {
    return fail(Errc::InvalidInput, fmt::format("store copy: the destination already holds {} "
                                                "entries; copy into an empty store (or another "
                                                "prefix)",
                                                what));
  }
  return {};
}

Result<CopyReport> verified(CopyReport r, std::string_view what) {
  if (!(r.verified == r.copied)) {
    return fail(
        Errc::StoreFailure,
        fmt::format("store copy: {}: the destination holds {} entries (digest {}), "
                    "{} were copied (digest {})",
                    what, r.verified.count(), r.verified.hex(), r.copied.count(), r.copied.hex()));
  }
  return r;
}

}  // namespace

void EntryDigest::add(std::string_view key, std::string_view value) {
  std::uint64_t h = fnv(0xcbf29ce484222325ULL, std::to_string(key.size()) + ":");
  h = mix(fnv(fnv(h, key), value));
  ++count_;
  sum_ += h;
  xor_ ^= mix(h ^ 0x9e3779b97f4a7c15ULL);
}

std::string EntryDigest::hex() const { return fmt::format("{:016x}{:016x}", sum_, xor_); }

Result<CopyReport> copy_greylist(greylist::Store& from, greylist::Store& to,
                                 const GreylistSkipFn& skip, const CopyProgress& progress) {
  bool empty = true;
  if (auto ok = to.scan("",
                        [&](std::string_view, const greylist::Record&) {
                          empty = false;
                          return false;
                        });
      !ok) {
    return tl::unexpected(ok.error());
  }
  if (auto ok = must_be_empty(empty, "greylist"); !ok) {
    return tl::unexpected(ok.error());
  }
  CopyReport r;
  Result<void> write_error;
  auto ok = from.scan("", [&](std::string_view key, const greylist::Record& rec) {
    ++r.read;
    if (skip && skip(key, rec)) {
      ++r.skipped;
    } else if (auto put = to.put(key, rec); !put) {
      write_error = put;
      return false;
    } else {
      r.copied.add(key, greylist::encode_record(rec));
    }
    if (progress && r.read % kCopyProgressEvery == 0) {
      progress(r.read, r.copied.count());
    }
    return true;
  });
  if (!ok) {
    return tl::unexpected(ok.error());
  }
  if (!write_error) {
    return tl::unexpected(write_error.error());
  }
  if (auto flushed = to.flush(); !flushed) {
    return tl::unexpected(flushed.error());
  }
  if (progress) {
    progress(r.read, r.copied.count());
  }
  auto again = to.scan("", [&](std::string_view key, const greylist::Record& rec) {
    r.verified.add(key, greylist::encode_record(rec));
    return true;
  });
  if (!again) {
    return tl::unexpected(again.error());
  }
  return verified(std::move(r), "greylist");
}

Result<CopyReport> copy_kv(KvStore& from, KvStore& to, const CopyProgress& progress) {
  bool empty = true;
  if (auto ok = to.scan("",
                        [&](std::string_view, std::string_view) {
                          empty = false;
                          return false;
                        });
      !ok) {
    return tl::unexpected(ok.error());
  }
  if (auto ok = must_be_empty(empty, "comment API"); !ok) {
    return tl::unexpected(ok.error());
  }
  CopyReport r;
  Result<void> write_error;
  auto ok = from.scan("", [&](std::string_view key, std::string_view value) {
    ++r.read;
    if (auto put = to.put(key, std::string(value)); !put) {
      write_error = put;
      return false;
    }
    r.copied.add(key, value);
    if (progress && r.read % kCopyProgressEvery == 0) {
      progress(r.read, r.copied.count());
    }
    return true;
  });
  if (!ok) {
    return tl::unexpected(ok.error());
  }
  if (!write_error) {
    return tl::unexpected(write_error.error());
  }
  if (auto flushed = to.flush(); !flushed) {
    return tl::unexpected(flushed.error());
  }
  if (progress) {
    progress(r.read, r.copied.count());
  }
  auto again = to.scan("", [&](std::string_view key, std::string_view value) {
    r.verified.add(key, value);
    return true;
  });
  if (!again) {
    return tl::unexpected(again.error());
  }
  return verified(std::move(r), "comment API");
}

}  // namespace gf
