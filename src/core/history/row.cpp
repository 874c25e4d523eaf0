#include "core/history/row.hpp"

#include <fmt/format.h>

#include <cmath>

#include "core/classify/model_io.hpp"
#include "core/common/strings.hpp"

namespace gf::history {
namespace {

using classify::ByteReader;
using classify::ByteWriter;

constexpr std::uint8_t kFormat = 1;
constexpr std::string_view kDoorNames[kDoorCount] = {"greylist", "comments", "mail", "flux"};

void put_string(ByteWriter& w, std::string_view s) {
  w.u32(static_cast<std::uint32_t>(s.size()));
  w.bytes(s);
}

bool get_string(ByteReader& r, std::string& out, std::size_t max) {
  std::uint32_t n = 0;
  std::string_view v;
  if (!r.u32(n) || n > max || n > r.remaining() || !r.bytes(n, v)) {
    return false;
  }
  out.assign(v);
  return true;
}

// Finite and bounded: a stored NaN or 1e308 would break the JSON and the filters.
double finite(double v) { return std::isfinite(v) ? std::clamp(v, -1e9, 1e9) : 0.0; }

void append_number(std::string& out, double v) {
  v = finite(v);
  const double r = std::round(v * 1000.0) / 1000.0;
  out += fmt::format("{}", r == 0.0 ? 0.0 : r);
}

}  // namespace

std::string_view to_string(Door d) { return kDoorNames[static_cast<int>(d) % kDoorCount]; }

std::optional<Door> parse_door(std::string_view s) {
  for (int i = 0; i < kDoorCount; ++i) {
    if (s == kDoorNames[i]) {
      return static_cast<Door>(i);
    }
  }
  return std::nullopt;
}

std::string_view to_string(Class c) {
  switch (c) {
    case Class::Spam:
      return "spam";
    case Class::Ham:
      return "ham";
    case Class::None:
      break;
  }
  return "";
}

std::optional<Class> parse_class(std::string_view s) {
  if (s == "spam") {
    return Class::Spam;
  }
  if (s == "ham") {
    return Class::Ham;
  }
  return std::nullopt;
}

void clamp(Row& r) {
  for (std::string* s : {&r.via, &r.verdict, &r.client, &r.sender, &r.recipient, &r.site}) {
    *s = sanitize_line(*s, kMaxText);
  }
  r.summary = sanitize_line(r.summary, kMaxSummary);
  if (r.reasons.size() > kMaxReasons) {
    r.reasons.resize(kMaxReasons);
  }
  for (Reason& x : r.reasons) {
    x.symbol = sanitize_line(x.symbol, 64);
    x.weight = finite(x.weight);
  }
  r.score = finite(r.score);
  if (r.features.size() > kMaxFeatures) {
    r.features.clear();
    r.features_dropped = true;
  }
}

std::string encode_row(const Row& r) {
  ByteWriter w;
  w.u8(kFormat);
  w.u64(r.id);
  w.u64(static_cast<std::uint64_t>(r.t_s));
  w.u8(static_cast<std::uint8_t>(r.door));
  w.u8(static_cast<std::uint8_t>(r.learned));
  w.u8(r.features_dropped ? 1 : 0);
  w.f64(r.score);
  for (const std::string* s :
       {&r.via, &r.verdict, &r.summary, &r.client, &r.sender, &r.recipient, &r.site}) {
    put_string(w, *s);
  }
  w.u16(static_cast<std::uint16_t>(r.reasons.size()));
  for (const Reason& x : r.reasons) {
    put_string(w, x.symbol);
    w.f64(x.weight);
  }
  put_string(w, r.features);
  return w.take();
}

Result<Row> decode_row(std::string_view bytes) {
  const auto bad = [] { return fail(Errc::InvalidInput, "malformed history row"); };
  ByteReader r(bytes);
  Row row;
  std::uint8_t format = 0;
  std::uint8_t door = 0;
  std::uint8_t learned = 0;
  std::uint8_t dropped = 0;
  std::uint64_t t = 0;
  if (!r.u8(format) || format != kFormat || !r.u64(row.id) || row.id == 0 || !r.u64(t) ||
      !r.u8(door) || door >= kDoorCount || !r.u8(learned) || learned > 2 || !r.u8(dropped) ||
      dropped > 1 || !r.f64(row.score)) {
    return bad();
  }
  row.t_s = static_cast<std::int64_t>(t);
  row.door = static_cast<Door>(door);
  row.learned = static_cast<Class>(learned);
  row.features_dropped = dropped == 1;
  for (std::string* s : {&row.via, &row.verdict, &row.summary, &row.client, &row.sender,
                         &row.recipient, &row.site}) {
    if (!get_string(r, *s, 4 * kMaxText)) {
      return bad();
    }
  }
  std::uint16_t n = 0;
  if (!r.u16(n) || n > kMaxReasons) {
    return bad();
  }
  row.reasons.resize(n);
  for (Reason& x : row.reasons) {
    if (!get_string(r, x.symbol, 256) || !r.f64(x.weight)) {
      return bad();
    }
  }
  if (!get_string(r, row.features, kMaxFeatures) || r.remaining() != 0) {
    return bad();
  }
  clamp(row);  // stored bytes are untrusted: the same bounds and text rules as a fresh row
  return row;
}

std::string json_quote(std::string_view s) {
  const std::string clean =
      sanitize_line(s, s.size() * 3 + 16);  // valid UTF-8, no control characters
  std::string out;
  out.reserve(clean.size() + 2);
  out += '"';
  for (const char c : clean) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  out += '"';
  return out;
}

std::string row_to_json(const Row& r, std::optional<bool> learnable) {
  std::string out =
      fmt::format(R"({{"id":{},"t":{},"door":"{}","via":{},"verdict":{},"score":)", r.id, r.t_s,
                  to_string(r.door), json_quote(r.via), json_quote(r.verdict));
  append_number(out, r.score);
  out +=
      fmt::format(R"(,"summary":{},"client":{},"sender":{},"recipient":{},"site":{},"reasons":[)",
                  json_quote(r.summary), json_quote(r.client), json_quote(r.sender),
                  json_quote(r.recipient), json_quote(r.site));
  for (std::size_t i = 0; i < r.reasons.size(); ++i) {
    out +=
        fmt::format(R"({}{{"symbol":{},"weight":)", i ? "," : "", json_quote(r.reasons[i].symbol));
    append_number(out, r.reasons[i].weight);
    out += '}';
  }
  out += fmt::format(R"(],"learnable":{},"learned":{}}})",
                     learnable.value_or(r.learnable()) ? "true" : "false",
                     r.learned == Class::None ? "null" : json_quote(to_string(r.learned)));
  return out;
}

}  // namespace gf::history
