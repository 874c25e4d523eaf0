#pragma once
// Byte-level serialisation shared by the classifier models.
//
// Envelope (all integers little-endian):
//   "GFCM" | u16 format version | u8 model kind | u32 feature schema | u64 payload size |
//   payload | u64 XXH3-64 of everything before it
// unframe() checks every field and the checksum and returns the payload; the model then parses
// the payload with ByteReader, which never reads past the end. A stored model is untrusted
// input: every failure is a Result error, never an exception or a crash.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace gf::classify {

enum class ModelKind : std::uint8_t { Logistic = 1, Fisher = 2, Classifier = 3, MailScanner = 4 };

class ByteWriter {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(std::uint16_t v) { put(v, 2); }
  void u32(std::uint32_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void f32(float v);
  void f64(double v);
  void bytes(std::string_view b) { out_.append(b); }
  [[nodiscard]] std::string take() { return std::move(out_); }
  [[nodiscard]] const std::string& view() const { return out_; }

 private:
  void put(std::uint64_t v, int n);
  std::string out_;
};

// Reads fixed-size values; each read returns false (and leaves the value untouched) when the
// input is exhausted, so callers check once per record.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  [[nodiscard]] bool u8(std::uint8_t& v);
  [[nodiscard]] bool u16(std::uint16_t& v);
  [[nodiscard]] bool u32(std::uint32_t& v);
  [[nodiscard]] bool u64(std::uint64_t& v);
  [[nodiscard]] bool f32(float& v);
  [[nodiscard]] bool f64(double& v);
  [[nodiscard]] bool bytes(std::size_t n, std::string_view& v);
  [[nodiscard]] std::size_t remaining() const { return in_.size() - pos_; }

 private:
  [[nodiscard]] bool get(std::uint64_t& v, std::size_t n);
  std::string_view in_;
  std::size_t pos_ = 0;
};

[[nodiscard]] std::string frame(ModelKind kind, std::string_view payload);
// Validates the envelope for `kind` and returns a view of the payload inside `bytes`.
[[nodiscard]] Result<std::string_view> unframe(ModelKind kind, std::string_view bytes);

}  // namespace gf::classify
