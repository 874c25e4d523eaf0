#include "core/akismet/records.hpp"

#include <fmt/format.h>

#include "core/classify/model_io.hpp"

namespace gf::akismet {

namespace {

using classify::ByteReader;
using classify::ByteWriter;

constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kMaxString = 16u << 20;

void put_string(ByteWriter& w, std::string_view s) {
  w.u32(static_cast<std::uint32_t>(s.size()));
  w.bytes(s);
}

bool get_string(ByteReader& r, std::string& out) {
  std::uint32_t n = 0;
  std::string_view v;
  if (!r.u32(n) || n > kMaxString || n > r.remaining() || !r.bytes(n, v)) {
    return false;
  }
  out.assign(v);
  return true;
}

tl::unexpected<Error> bad(std::string_view what) {
  return fail(Errc::InvalidInput, fmt::format("malformed {} record", what));
}

}  // namespace

std::string encode_key(const KeyRecord& k) {
  ByteWriter w;
  w.u8(kVersion);
  w.u64(static_cast<std::uint64_t>(k.created_s));
  w.u8(k.revoked ? 1 : 0);
  put_string(w, k.blog);
  return w.take();
}

Result<KeyRecord> decode_key(std::string_view bytes) {
  ByteReader r(bytes);
  std::uint8_t v = 0;
  std::uint64_t created = 0;
  std::uint8_t revoked = 0;
  KeyRecord k;
  if (!r.u8(v) || v != kVersion || !r.u64(created) || !r.u8(revoked) || revoked > 1 ||
      !get_string(r, k.blog) || r.remaining() != 0) {
    return bad("key");
  }
  k.created_s = static_cast<std::int64_t>(created);
  k.revoked = revoked == 1;
  return k;
}

std::string encode_reputation(const ReputationRecord& rep) {
  ByteWriter w;
  w.u8(kVersion);
  w.u32(rep.spam);
  w.u32(rep.ham);
  w.u64(static_cast<std::uint64_t>(rep.last_s));
  return w.take();
}

Result<ReputationRecord> decode_reputation(std::string_view bytes) {
  ByteReader r(bytes);
  std::uint8_t v = 0;
  std::uint64_t last = 0;
  ReputationRecord rep;
  if (!r.u8(v) || v != kVersion || !r.u32(rep.spam) || !r.u32(rep.ham) || !r.u64(last) ||
      r.remaining() != 0) {
    return bad("reputation");
  }
  rep.last_s = static_cast<std::int64_t>(last);
  return rep;
}

std::string encode_usage(const SiteUsage& u) {
  ByteWriter w;
  w.u8(kVersion);
  w.u64(u.api_calls);
  w.u64(u.spam);
  w.u64(u.ham);
  w.u64(u.missed_spam);
  w.u64(u.false_positives);
  return w.take();
}

Result<SiteUsage> decode_usage(std::string_view bytes) {
  ByteReader r(bytes);
  std::uint8_t v = 0;
  SiteUsage u;
  if (!r.u8(v) || v != kVersion || !r.u64(u.api_calls) || !r.u64(u.spam) || !r.u64(u.ham) ||
      !r.u64(u.missed_spam) || !r.u64(u.false_positives) || r.remaining() != 0) {
    return bad("usage");
  }
  return u;
}

std::string encode_check(const CheckRecord& c) {
  ByteWriter w;
  w.u8(kVersion);
  w.u8(static_cast<std::uint8_t>(c.kind));
  w.u64(static_cast<std::uint64_t>(c.time_s));
  w.u8(static_cast<std::uint8_t>((c.spam ? 1 : 0) | (c.discard ? 2 : 0) | (c.is_test ? 4 : 0)));
  w.f64(c.score);
  put_string(w, c.key);
  put_string(w, c.reasons);
  w.u32(static_cast<std::uint32_t>(c.fields.size()));
  for (const auto& [k, v] : c.fields) {
    put_string(w, k);
    put_string(w, v);
  }
  return w.take();
}

Result<CheckRecord> decode_check(std::string_view bytes) {
  ByteReader r(bytes);
  std::uint8_t v = 0;
  std::uint8_t kind = 0;
  std::uint64_t t = 0;
  std::uint8_t flags = 0;
  std::uint32_t n = 0;
  CheckRecord c;
  if (!r.u8(v) || v != kVersion || !r.u8(kind) || (kind != 'c' && kind != 's' && kind != 'h') ||
      !r.u64(t) || !r.u8(flags) || flags > 7 || !r.f64(c.score) || !get_string(r, c.key) ||
      !get_string(r, c.reasons) || !r.u32(n) || n > r.remaining() / 8) {
    return bad("check");
  }
  c.kind = static_cast<char>(kind);
  c.time_s = static_cast<std::int64_t>(t);
  c.spam = (flags & 1) != 0;
  c.discard = (flags & 2) != 0;
  c.is_test = (flags & 4) != 0;
  c.fields.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    std::string k;
    std::string val;
    if (!get_string(r, k) || !get_string(r, val)) {
      return bad("check");
    }
    c.fields.emplace_back(std::move(k), std::move(val));
  }
  if (r.remaining() != 0) {
    return bad("check");
  }
  return c;
}

std::string check_to_json(std::string_view guid, const CheckRecord& c) {
  std::string fields;
  for (const auto& [k, v] : c.fields) {
    fields += fmt::format("{}{}:{}", fields.empty() ? "" : ",", json_string(k), json_string(v));
  }
  const char* kind = c.kind == 's' ? "submit-spam" : c.kind == 'h' ? "submit-ham" : "comment-check";
  return fmt::format(
      "{{\"guid\":{},\"kind\":\"{}\",\"time\":{},\"verdict\":\"{}\",\"discard\":{},"
      "\"is_test\":{},\"score\":{:.3f},\"key\":{},\"reasons\":{},\"fields\":{{{}}}}}",
      json_string(guid), kind, c.time_s, c.spam ? "spam" : "ham", c.discard ? "true" : "false",
      c.is_test ? "true" : "false", c.score, json_string(c.key), json_string(c.reasons), fields);
}

std::string seq_key(std::uint64_t seq) { return fmt::format("{:016x}", seq); }

}  // namespace gf::akismet
