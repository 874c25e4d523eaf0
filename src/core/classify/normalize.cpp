#include "core/classify/normalize.hpp"

#include <algorithm>
#include <iterator>

#include <utf8proc.h>

#include <cstdlib>

namespace gf::classify {

namespace {
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
}  // namespace

std::string sanitize_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  // ASCII is valid UTF-8 byte by byte: only NUL is dropped (as the loop below does).
  if (std::all_of(bytes.begin(), bytes.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
    std::copy_if(bytes.begin(), bytes.end(), std::back_inserter(out),
                 [](char c) { return c != '\0'; });
    return out;
  }
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(bytes.data());
  std::size_t i = 0;
  while (i < bytes.size()) {
    utf8proc_int32_t cp = 0;
    auto n = utf8proc_iterate(p + i, static_cast<utf8proc_ssize_t>(bytes.size() - i), &cp);
    if (n <= 0) {
      out.append(kReplacement);
      ++i;
      continue;
    }
    if (cp != 0) {
      out.append(bytes.substr(i, static_cast<std::size_t>(n)));
    }
    i += static_cast<std::size_t>(n);
  }
  return out;
}

std::string normalize(std::string_view bytes) {
  // Fast path: for ASCII, NFKC is the identity, IGNORE/LUMP/STRIPNA change nothing and case
  // folding is lower-casing; only NUL is dropped, as sanitize_utf8 does. Most comments are
  // ASCII, and this skips two passes and an allocation in utf8proc (tested equal to the full
  // path for every ASCII byte in tokenizer_test).
  bool ascii = true;
  for (char c : bytes) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    std::string out;
    out.reserve(bytes.size());
    for (char c : bytes) {
      if (c == '\0') {
        continue;
      }
      out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    }
    return out;
  }
  return normalize_full(bytes);
}

std::string normalize_full(std::string_view bytes) {
  std::string clean = sanitize_utf8(bytes);
  if (clean.empty()) {
    return clean;
  }
  utf8proc_uint8_t* mapped = nullptr;
  const auto options = static_cast<utf8proc_option_t>(
      UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE |
      UTF8PROC_LUMP | UTF8PROC_STRIPNA);
  auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(clean.data()),
                        static_cast<utf8proc_ssize_t>(clean.size()), &mapped, options);
  if (n < 0 || mapped == nullptr) {
    std::free(mapped);
    return clean;  // cannot happen after sanitising; keep the repaired text rather than nothing
  }
  std::string out(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(n));
  std::free(mapped);
  return out;
}

namespace detail {

std::int32_t next_code_point_multibyte(std::string_view s, std::size_t& i) {
  utf8proc_int32_t cp = 0;
  auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                            static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
  if (n <= 0) {
    ++i;
    return 0xFFFD;
  }
  i += static_cast<std::size_t>(n);
  return cp;
}

AsciiTable::AsciiTable() {
  for (int c = 0; c < 128; ++c) {
    cls[c] = classify_non_ascii(c);  // the utf8proc classification, valid for any code point
    upper[c] = utf8proc_category(c) == UTF8PROC_CATEGORY_LU ||
               utf8proc_category(c) == UTF8PROC_CATEGORY_LT;
  }
}

const AsciiTable kAsciiTable;

CharClass classify_non_ascii(std::int32_t cp) {
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return CharClass::Letter;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
      return CharClass::Mark;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return CharClass::Digit;
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
      return CharClass::Space;
    case UTF8PROC_CATEGORY_SM:
    case UTF8PROC_CATEGORY_SC:
    case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
      return CharClass::Symbol;
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return CharClass::Punct;
    case UTF8PROC_CATEGORY_CC:
      // Tab, newline and friends are whitespace for tokenizing purposes.
      return (cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == '\v')
                 ? CharClass::Space
                 : CharClass::Other;
    default:
      return CharClass::Other;
  }
}

}  // namespace detail

bool is_upper(std::int32_t cp) {
  if (cp >= 0 && cp < 128) {
    return detail::kAsciiTable.upper[cp];
  }
  return utf8proc_category(cp) == UTF8PROC_CATEGORY_LU ||
         utf8proc_category(cp) == UTF8PROC_CATEGORY_LT;
}

}  // namespace gf::classify
