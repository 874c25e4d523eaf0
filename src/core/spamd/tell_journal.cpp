#include "core/spamd/tell_journal.hpp"

#include <fmt/format.h>

#include <charconv>
#include <vector>

#include "core/classify/model_io.hpp"
#include "core/spamd/learn_record.hpp"

namespace gf::spamd {
namespace {

constexpr std::string_view kPrefix = "j:";
constexpr std::string_view kBaseKey = "j-base";  // outside the "j:" scans
constexpr std::uint8_t kRemove = 1;
constexpr std::uint8_t kSet = 2;
constexpr std::uint8_t kSpam = 4;
constexpr std::uint8_t kBaseFormat = 1;

}  // namespace

std::string encode_tell(const TellEntry& e) {
  const std::uint8_t flags = static_cast<std::uint8_t>((e.remove ? kRemove : 0) |
                                                       (e.set ? kSet : 0) | (e.spam ? kSpam : 0));
  std::string out(1, static_cast<char>(flags));
  out += encode_learn_record(e.prepared);
  return out;
}

Result<TellEntry> decode_tell(std::string_view bytes) {
  if (bytes.empty()) {
    return fail(Errc::InvalidInput, "empty TELL journal entry");
  }
  const auto flags = static_cast<std::uint8_t>(bytes[0]);
  if ((flags & ~(kRemove | kSet | kSpam)) != 0 || (flags & (kRemove | kSet)) == 0) {
    return fail(Errc::InvalidInput, "bad TELL journal flags");
  }
  auto p = decode_learn_record(bytes.substr(1));
  if (!p) {
    return tl::unexpected(p.error());
  }
  TellEntry e;
  e.remove = (flags & kRemove) != 0;
  e.set = (flags & kSet) != 0;
  e.spam = (flags & kSpam) != 0;
  e.prepared = std::move(*p);
  return e;
}

bool apply_tell(Scanner& scanner, const TellEntry& e) {
  bool changed = false;
  if (e.remove) {
    changed = scanner.forget(e.prepared) || changed;
  }
  if (e.set) {
    changed = scanner.learn(e.prepared, e.spam) || changed;
  }
  return changed;
}

std::string journal_key(std::uint64_t seq) { return fmt::format("j:{:016x}", seq); }

std::optional<std::uint64_t> parse_journal_key(std::string_view key) {
  if (key.size() != kPrefix.size() + 16 || !key.starts_with(kPrefix)) {
    return std::nullopt;
  }
  const std::string_view hex = key.substr(kPrefix.size());
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), v, 16);
  if (ec != std::errc() || end != hex.data() + hex.size()) {
    return std::nullopt;
  }
  for (const char c : hex) {  // from_chars takes upper case too; keys are lower case only
    if (c >= 'A' && c <= 'F') {
      return std::nullopt;
    }
  }
  return v;
}

std::uint64_t model_hash(std::string_view blob) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const char c : blob) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

std::string encode_base(const JournalBase& b) {
  classify::ByteWriter w;
  w.u8(kBaseFormat);
  w.u64(b.seq);
  w.u64(b.model_hash);
  w.u64(b.prev);
  return w.take();
}

Result<JournalBase> decode_base(std::string_view bytes) {
  classify::ByteReader r(bytes);
  JournalBase b;
  std::uint8_t format = 0;
  if (!r.u8(format) || format != kBaseFormat || !r.u64(b.seq) || !r.u64(b.model_hash) ||
      !r.u64(b.prev) || r.remaining() != 0 || b.prev > b.seq) {
    return fail(Errc::InvalidInput, "malformed TELL journal base");
  }
  return b;
}

Result<TellJournal::Replayed> TellJournal::replay(Scanner& scanner, std::uint64_t file_hash) {
  Replayed out;
  auto stored = kv_.get(kBaseKey);
  if (!stored) {
    return tl::unexpected(stored.error());
  }
  if (*stored) {
    auto base = decode_base(**stored);
    if (!base) {
      return tl::unexpected(base.error());  // cannot tell what the file holds: refuse to guess
    }
    out.from = base->model_hash == file_hash ? base->seq : base->prev;
  }
  std::uint64_t last = out.from;
  auto ok = kv_.scan(kPrefix, [&](std::string_view k, std::string_view v) {
    const auto seq = parse_journal_key(k);
    if (!seq) {
      return true;
    }
    last = std::max(last, *seq);
    if (*seq <= out.from) {
      return true;
    }
    auto e = decode_tell(v);
    if (!e) {
      ++out.bad;
      return true;
    }
    ++out.entries;
    out.changed += apply_tell(scanner, *e) ? 1 : 0;
    return true;
  });
  if (!ok) {
    return tl::unexpected(ok.error());
  }
  next_seq_ = last + 1;
  saved_seq_ = out.from;
  return out;
}

Result<std::uint64_t> TellJournal::append(const TellEntry& e) {
  const std::uint64_t seq = next_seq_.load();
  if (auto ok = kv_.put(journal_key(seq), encode_tell(e)); !ok) {
    return tl::unexpected(ok.error());
  }
  next_seq_ = seq + 1;
  return seq;
}

Result<void> TellJournal::begin_save(std::uint64_t seq, std::uint64_t hash) {
  std::lock_guard lock(save_mu_);
  const JournalBase b{seq, hash, saved_seq_.load()};
  if (auto ok = kv_.put(kBaseKey, encode_base(b)); !ok) {
    return ok;
  }
  return kv_.flush();
}

Result<void> TellJournal::end_save(std::uint64_t seq) {
  std::lock_guard lock(save_mu_);
  std::vector<std::string> keys;
  auto ok = kv_.scan(kPrefix, [&](std::string_view k, std::string_view) {
    const auto s = parse_journal_key(k);
    if (s && *s > seq) {
      return false;  // keys sort by sequence
    }
    if (s) {
      keys.emplace_back(k);
    }
    return true;
  });
  if (!ok) {
    return ok;
  }
  for (const std::string& k : keys) {
    if (auto erased = kv_.erase(k); !erased) {
      return erased;
    }
  }
  saved_seq_ = seq;
  return {};
}

}  // namespace gf::spamd
