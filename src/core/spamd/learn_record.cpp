#include "core/spamd/learn_record.hpp"

#include <fmt/format.h>

#include <cmath>

#include "core/classify/model_io.hpp"

namespace gf::spamd {
namespace {

constexpr std::uint8_t kFormat = 1;

}  // namespace

std::string encode_learn_record(const Scanner::Prepared& p) {
  classify::ByteWriter w;
  const std::size_t n = std::min(p.features.size(), kMaxLearnFeatures);
  const std::size_t m = std::min(p.uri_domains.size(), kMaxLearnDomains);
  w.u8(kFormat);
  w.u64(p.fingerprint);
  w.u32(static_cast<std::uint32_t>(n));
  for (std::size_t i = 0; i < n; ++i) {
    w.u64(p.features[i].id);
    w.f32(p.features[i].value);
    w.u8(static_cast<std::uint8_t>(p.features[i].group));
  }
  w.u16(static_cast<std::uint16_t>(m));
  for (std::size_t i = 0; i < m; ++i) {
    const std::string_view d = std::string_view(p.uri_domains[i]).substr(0, 255);
    w.u16(static_cast<std::uint16_t>(d.size()));
    w.bytes(d);
  }
  return w.take();
}

Result<Scanner::Prepared> decode_learn_record(std::string_view bytes) {
  const auto bad = [] { return fail(Errc::InvalidInput, "malformed mail learn record"); };
  classify::ByteReader r(bytes);
  Scanner::Prepared p;
  std::uint8_t format = 0;
  std::uint32_t n = 0;
  if (!r.u8(format) || format != kFormat || !r.u64(p.fingerprint) || !r.u32(n) ||
      n > kMaxLearnFeatures || std::size_t{n} * 13 > r.remaining()) {
    return bad();
  }
  p.features.resize(n);
  for (classify::Feature& f : p.features) {
    std::uint8_t group = 0;
    if (!r.u64(f.id) || !r.f32(f.value) || !r.u8(group) || group > 1 || !std::isfinite(f.value)) {
      return bad();
    }
    f.group = static_cast<classify::FeatureGroup>(group);
  }
  std::uint16_t m = 0;
  if (!r.u16(m) || m > kMaxLearnDomains) {
    return bad();
  }
  p.uri_domains.resize(m);
  for (std::string& d : p.uri_domains) {
    std::uint16_t len = 0;
    std::string_view v;
    if (!r.u16(len) || len > 255 || !r.bytes(len, v)) {
      return bad();
    }
    d.assign(v);
  }
  if (r.remaining() != 0) {
    return bad();
  }
  return p;
}

std::string encode_shared_learn(const Scanner::Prepared& p, bool spam) {
  std::string out(1, spam ? 's' : 'h');
  out += encode_learn_record(p);
  return out;
}

Result<SharedLearn> decode_shared_learn(std::string_view bytes) {
  if (bytes.empty() || (bytes[0] != 's' && bytes[0] != 'h')) {
    return fail(Errc::InvalidInput, "malformed shared mail learn record");
  }
  auto p = decode_learn_record(bytes.substr(1));
  if (!p) {
    return tl::unexpected(p.error());
  }
  return SharedLearn{std::move(*p), bytes[0] == 's'};
}

std::string shared_learn_key(std::uint64_t seq) { return fmt::format("ml:{:016x}", seq); }

}  // namespace gf::spamd
