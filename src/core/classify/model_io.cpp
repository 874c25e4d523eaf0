#include "core/classify/model_io.hpp"

#include <xxhash.h>

#include <bit>
#include <cstring>

#include "core/classify/tokenizer.hpp"
#include "core/common/check.hpp"

namespace gf::classify {

namespace {
constexpr std::string_view kMagic = "GFCM";
constexpr std::uint16_t kFormatVersion = 1;
constexpr std::size_t kHeaderBytes = 4 + 2 + 1 + 4 + 8;
constexpr std::size_t kChecksumBytes = 8;
}  // namespace

void ByteWriter::put(std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) {
    out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
}

void ByteWriter::f32(float v) { u32(std::bit_cast<std::uint32_t>(v)); }
void ByteWriter::f64(double v) { u64(std::bit_cast<std::uint64_t>(v)); }

bool ByteReader::get(std::uint64_t& v, std::size_t n) {
  if (remaining() < n) {
    return false;
  }
  std::uint64_t out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    out |= static_cast<std::uint64_t>(static_cast<unsigned char>(in_[pos_ + i])) << (8 * i);
  }
  pos_ += n;
  v = out;
  return true;
}

bool ByteReader::u8(std::uint8_t& v) {
  std::uint64_t t = 0;
  if (!get(t, 1)) {
    return false;
  }
  v = static_cast<std::uint8_t>(t);
  return true;
}

bool ByteReader::u16(std::uint16_t& v) {
  std::uint64_t t = 0;
  if (!get(t, 2)) {
    return false;
  }
  v = static_cast<std::uint16_t>(t);
  return true;
}

bool ByteReader::u32(std::uint32_t& v) {
  std::uint64_t t = 0;
  if (!get(t, 4)) {
    return false;
  }
  v = static_cast<std::uint32_t>(t);
  return true;
}

bool ByteReader::u64(std::uint64_t& v) { return get(v, 8); }

bool ByteReader::f32(float& v) {
  std::uint32_t t = 0;
  if (!u32(t)) {
    return false;
  }
  v = std::bit_cast<float>(t);
  return true;
}

bool ByteReader::f64(double& v) {
  std::uint64_t t = 0;
  if (!u64(t)) {
    return false;
  }
  v = std::bit_cast<double>(t);
  return true;
}

bool ByteReader::bytes(std::size_t n, std::string_view& v) {
  if (remaining() < n) {
    return false;
  }
  v = in_.substr(pos_, n);
  pos_ += n;
  return true;
}

std::string frame(ModelKind kind, std::string_view payload) {
  ByteWriter w;
  w.bytes(kMagic);
  w.u16(kFormatVersion);
  w.u8(static_cast<std::uint8_t>(kind));
  w.u32(kFeatureSchema);
  w.u64(payload.size());
  w.bytes(payload);
  const std::string& body = w.view();
  w.u64(XXH3_64bits(body.data(), body.size()));
  return w.take();
}

Result<std::string_view> unframe(ModelKind kind, std::string_view bytes) {
  if (bytes.size() < kHeaderBytes + kChecksumBytes) {
    return fail(Errc::InvalidInput, "model: truncated header");
  }
  ByteReader r(bytes);
  std::string_view magic;
  std::uint16_t version = 0;
  std::uint8_t stored_kind = 0;
  std::uint32_t schema = 0;
  std::uint64_t size = 0;
  // The size check above covers the whole header.
  GF_CHECK(r.bytes(4, magic) && r.u16(version) && r.u8(stored_kind) && r.u32(schema) && r.u64(size),
           "model header shorter than kHeaderBytes");
  if (magic != kMagic) {
    return fail(Errc::InvalidInput, "model: bad magic");
  }
  if (version != kFormatVersion) {
    return fail(Errc::InvalidInput, "model: unsupported format version " + std::to_string(version));
  }
  if (stored_kind != static_cast<std::uint8_t>(kind)) {
    return fail(Errc::InvalidInput, "model: wrong model kind " + std::to_string(stored_kind));
  }
  if (schema != kFeatureSchema) {
    return fail(Errc::InvalidInput, "model: feature schema " + std::to_string(schema) +
                                        " does not match " + std::to_string(kFeatureSchema));
  }
  if (size != bytes.size() - kHeaderBytes - kChecksumBytes) {
    return fail(Errc::InvalidInput, "model: payload size mismatch");
  }
  std::string_view body = bytes.substr(0, bytes.size() - kChecksumBytes);
  ByteReader tail(bytes.substr(body.size()));
  std::uint64_t checksum = 0;
  GF_CHECK(tail.u64(checksum), "the size check above covers the checksum");
  if (checksum != XXH3_64bits(body.data(), body.size())) {
    return fail(Errc::InvalidInput, "model: checksum mismatch");
  }
  return bytes.substr(kHeaderBytes, static_cast<std::size_t>(size));
}

}  // namespace gf::classify
