#include "core/common/journal_codec.hpp"

#include <array>
#include <cstring>

namespace gf {
namespace {

constexpr std::string_view kMagic = "GFWJRNL1";
constexpr std::size_t kBootIdSize = 40;
constexpr std::uint8_t kOpPut = 1;
constexpr std::uint8_t kOpErase = 2;

constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) {
      c = (c & 1) != 0 ? (c >> 1) ^ 0x82F63B78u : c >> 1;  // CRC-32C (Castagnoli), reflected
    }
    t[i] = c;
  }
  return t;
}
constexpr std::array<std::uint32_t, 256> kCrcTable = make_crc_table();

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}
void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}
std::uint64_t get_le(std::string_view b, std::size_t at, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) {
    v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<std::size_t>(i)]);
  }
  return v;
}

}  // namespace

std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc) {
  crc = ~crc;
  for (const char ch : bytes) {
    crc = kCrcTable[(crc ^ static_cast<unsigned char>(ch)) & 0xff] ^ (crc >> 8);
  }
  return ~crc;
}

std::string encode_journal_header(const JournalHeader& h) {
  std::string out(kMagic);
  put_u64(out, h.generation);
  std::string boot = h.boot_id.substr(0, kBootIdSize);
  boot.resize(kBootIdSize, '\0');
  out += boot;
  put_u32(out, 0);
  put_u32(out, crc32c(out));
  return out;
}

Result<JournalHeader> parse_journal_header(std::string_view bytes) {
  if (bytes.size() < kJournalHeaderSize) {
    return fail(Errc::InvalidInput, "header cut short");
  }
  if (bytes.substr(0, kMagic.size()) != kMagic) {
    return fail(Errc::InvalidInput, "not a write journal (bad magic)");
  }
  if (get_le(bytes, 60, 4) != crc32c(bytes.substr(0, 60))) {
    return fail(Errc::InvalidInput, "header checksum mismatch");
  }
  JournalHeader h;
  h.generation = get_le(bytes, 8, 8);
  std::string_view boot = bytes.substr(16, kBootIdSize);
  h.boot_id.assign(boot.substr(0, std::min(boot.find('\0'), boot.size())));
  return h;
}

void append_journal_record(std::string& out, std::string_view key, const std::string_view* value) {
  const std::size_t body = 1 + 4 + key.size() + (value != nullptr ? value->size() : 0);
  const std::size_t at = out.size();
  put_u32(out, static_cast<std::uint32_t>(body));
  put_u32(out, 0);  // the checksum, filled in below
  out.push_back(static_cast<char>(value != nullptr ? kOpPut : kOpErase));
  put_u32(out, static_cast<std::uint32_t>(key.size()));
  out += key;
  if (value != nullptr) {
    out += *value;
  }
  const std::uint32_t crc = crc32c(std::string_view(out).substr(at + 8));
  for (int i = 0; i < 4; ++i) {
    out[at + 4 + static_cast<std::size_t>(i)] = static_cast<char>((crc >> (8 * i)) & 0xff);
  }
}

JournalScan scan_journal_records(std::string_view bytes) {
  JournalScan scan;
  std::size_t at = 0;
  auto stop = [&](JournalStop why_stop, std::string why) {
    scan.stop = why_stop;
    scan.why = std::move(why);
    scan.consumed = at;
    return scan;
  };
  while (at < bytes.size()) {
    const std::size_t left = bytes.size() - at;
    if (left < 8) {
      return stop(JournalStop::Torn, "record header cut short");
    }
    const std::uint64_t body = get_le(bytes, at, 4);
    if (body < 5 || body > kJournalMaxBody) {
      return stop(JournalStop::Corrupt, "record length " + std::to_string(body) + " out of range");
    }
    if (left - 8 < body) {
      return stop(JournalStop::Torn, "record cut short");
    }
    const std::string_view b = bytes.substr(at + 8, body);
    if (get_le(bytes, at + 4, 4) != crc32c(b)) {
      return stop(JournalStop::Corrupt, "record checksum mismatch");
    }
    const auto op = static_cast<std::uint8_t>(b[0]);
    const std::uint64_t key_len = get_le(b, 1, 4);
    if ((op != kOpPut && op != kOpErase) || key_len > body - 5 ||
        (op == kOpErase && key_len != body - 5)) {
      return stop(JournalStop::Corrupt, "record body malformed");
    }
    JournalRecord r;
    r.key = b.substr(5, key_len);
    if (op == kOpPut) {
      r.value = b.substr(5 + key_len);
    }
    scan.records.push_back(r);
    at += 8 + body;
  }
  scan.consumed = at;
  return scan;
}

}  // namespace gf
