#pragma once
// Unicode normalisation for classifier input, on top of utf8proc.
//
// normalize() = repair invalid UTF-8 (each bad byte becomes U+FFFD), then NFKC + case folding,
// with default-ignorable code points (zero-width spaces, BOM, soft hyphen) removed and
// look-alike punctuation lumped (utf8proc LUMP: curly quotes to ', dashes to -). So "ＦＲＥＥ",
// "Free" and "FREE" all become "free". Pure functions; never fail, never throw.
#include <cstdint>
#include <string>
#include <string_view>

namespace gf::classify {

// Replaces every byte that is not part of a well-formed UTF-8 sequence (overlong forms,
// surrogates, > U+10FFFF, truncated sequences) with U+FFFD. NUL bytes are dropped.
[[nodiscard]] std::string sanitize_utf8(std::string_view bytes);

// sanitize_utf8 + NFKC + case fold + ignorables removed + punctuation lumped.
[[nodiscard]] std::string normalize(std::string_view bytes);
// The same without the ASCII fast path (always through utf8proc); for tests.
[[nodiscard]] std::string normalize_full(std::string_view bytes);

enum class CharClass { Letter, Mark, Digit, Space, Symbol, Punct, Other };

namespace detail {
std::int32_t next_code_point_multibyte(std::string_view s, std::size_t& i);
CharClass classify_non_ascii(std::int32_t cp);
// The ASCII classes, computed from utf8proc during static initialisation so that the inline
// fast paths below and the utf8proc path agree by construction.
struct AsciiTable {
  AsciiTable();
  CharClass cls[128];
  bool upper[128];
};
extern const AsciiTable kAsciiTable;
}  // namespace detail

// Decodes the code point at s[i] (s must be valid UTF-8, e.g. the output of sanitize_utf8),
// advancing i. Returns U+FFFD and advances one byte on malformed input, so loops terminate.
// Inline for ASCII: the tokenizer calls it for every character.
[[nodiscard]] inline std::int32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    ++i;
    return c;
  }
  return detail::next_code_point_multibyte(s, i);
}

[[nodiscard]] inline CharClass classify_code_point(std::int32_t cp) {
  return cp >= 0 && cp < 128 ? detail::kAsciiTable.cls[cp] : detail::classify_non_ascii(cp);
}
[[nodiscard]] bool is_upper(std::int32_t cp);

}  // namespace gf::classify
