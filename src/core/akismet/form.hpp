#pragma once
// application/x-www-form-urlencoded bodies (and URL query strings) as Akismet clients send them.
//
// Flow: split on '&' (';' is not a separator), each pair at its first '=', '+' becomes a space,
// %XX escapes are decoded, then each name and value is checked for UTF-8: invalid sequences are
// replaced with U+FFFD (each bad byte one replacement) and the form is marked `repaired`, so a
// comment in Latin-1 is still classified instead of being refused. Empty pairs ("a=1&&b=2") are
// skipped; a name without '=' has an empty value. Order and duplicates are kept.
//
// Threading: pure functions. Errors: a broken escape ("%G1", a '%' at the end), a NUL byte in a
// name, or a limit exceeded returns an Error (InvalidInput / TooLarge); nothing throws.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/result.hpp"

namespace gf::akismet {

struct FormLimits {
  std::size_t max_bytes = 2 * 1024 * 1024;  // whole body (the HTTP layer enforces it first)
  std::size_t max_fields = 1000;
  std::size_t max_name_bytes = 256;
};

struct Form {
  std::vector<std::pair<std::string, std::string>> fields;
  bool repaired = false;  // some name or value was not valid UTF-8

  // The first value of `name`, or nullptr.
  [[nodiscard]] const std::string* find(std::string_view name) const;
  // The first value of `name`, or "".
  [[nodiscard]] std::string_view get(std::string_view name) const;
  [[nodiscard]] bool has(std::string_view name) const { return find(name) != nullptr; }
};

// `latin1`: a name or value that is not valid UTF-8 is read as ISO-8859-1 (each byte one code
// point) instead of being repaired with U+FFFD; used when blog_charset says so.
[[nodiscard]] Result<Form> decode_form(std::string_view body, const FormLimits& limits = {},
                                       bool latin1 = false);

// ISO-8859-1 bytes to UTF-8.
[[nodiscard]] std::string latin1_to_utf8(std::string_view s);

// True for blog_charset values that name ISO-8859-1 or windows-1252.
[[nodiscard]] bool is_latin1_charset(std::string_view charset);

// Decodes one component (%XX and '+'); fails on a broken escape. No UTF-8 check.
[[nodiscard]] Result<std::string> percent_decode(std::string_view s, bool plus_is_space = true);

// Encodes for a form body or query: unreserved bytes kept, space as '+', the rest %XX.
[[nodiscard]] std::string form_encode(std::string_view s);

// True when `s` is valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
[[nodiscard]] bool valid_utf8(std::string_view s);

}  // namespace gf::akismet
