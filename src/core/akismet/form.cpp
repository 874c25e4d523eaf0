#include "core/akismet/form.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <cstring>

#include "core/classify/normalize.hpp"
#include "core/common/strings.hpp"

namespace gf::akismet {

const std::string* Form::find(std::string_view name) const {
  for (const auto& [k, v] : fields) {
    if (k == name) {
      return &v;
    }
  }
  return nullptr;
}

std::string_view Form::get(std::string_view name) const {
  const std::string* v = find(name);
  return v != nullptr ? std::string_view(*v) : std::string_view();
}

Result<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    // Copy the run of bytes that need no decoding in one go.
    std::size_t run = i;
    while (run < s.size() && s[run] != '%' && !(plus_is_space && s[run] == '+')) {
      ++run;
    }
    out.append(s.data() + i, run - i);
    i = run;
    if (i == s.size()) {
      break;
    }
    if (s[i] == '+') {
      out.push_back(' ');
      ++i;
      continue;
    }
    if (i + 2 >= s.size()) {
      return fail(Errc::InvalidInput, "truncated %-escape");
    }
    const int hi = hex_digit_value(s[i + 1]);
    const int lo = hex_digit_value(s[i + 2]);
    if (hi < 0 || lo < 0) {
      return fail(Errc::InvalidInput, fmt::format("bad %-escape at byte {}", i));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 3;
  }
  return out;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    // ASCII eight bytes at a time.
    while (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if ((w & 0x8080808080808080ULL) != 0) {
        break;
      }
      i += 8;
    }
    if (i >= n) {
      break;
    }
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
      cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      cp = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      cp = b & 0x07;
    } else {
      return false;
    }
    if (i + len > n) {
      return false;
    }
    for (std::size_t k = 1; k < len; ++k) {
      const auto cb = static_cast<unsigned char>(s[i + k]);
      if ((cb & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (cb & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x80) {
      out.push_back(c);
    } else {
      out.push_back(static_cast<char>(0xC0 | (u >> 6)));
      out.push_back(static_cast<char>(0x80 | (u & 0x3F)));
    }
  }
  return out;
}

bool is_latin1_charset(std::string_view charset) {
  std::string l;
  for (char c : charset) {
    if (c != ' ' && c != '-' && c != '_') {
      l.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    }
  }
  return l == "iso88591" || l == "latin1" || l == "l1" || l == "windows1252" || l == "cp1252" ||
         l == "iso885915";
}

Result<Form> decode_form(std::string_view body, const FormLimits& limits, bool latin1) {
  if (body.size() > limits.max_bytes) {
    return fail(Errc::TooLarge, fmt::format("form body of {} bytes is over the limit of {}",
                                            body.size(), limits.max_bytes));
  }
  Form form;
  std::size_t pos = 0;
  while (pos <= body.size()) {
    std::size_t amp = body.find('&', pos);
    if (amp == std::string_view::npos) {
      amp = body.size();
    }
    const std::string_view pair = body.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) {
      if (amp == body.size()) {
        break;
      }
      continue;
    }
    if (form.fields.size() >= limits.max_fields) {
      return fail(Errc::TooLarge, fmt::format("more than {} form fields", limits.max_fields));
    }
    const std::size_t eq = pair.find('=');
    const std::string_view raw_name = pair.substr(0, eq);
    const std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    auto name = percent_decode(raw_name);
    if (!name) {
      return tl::unexpected(name.error());
    }
    auto value = percent_decode(raw_value);
    if (!value) {
      return fail(Errc::InvalidInput, fmt::format("field '{}': {}", classify::sanitize_utf8(*name),
                                                  value.error().message));
    }
    if (name->find('\0') != std::string::npos) {
      return fail(Errc::InvalidInput, "NUL byte in a form field name");
    }
    if (!valid_utf8(*name)) {
      *name = latin1 ? latin1_to_utf8(*name) : classify::sanitize_utf8(*name);
      form.repaired = true;
    }
    if (!valid_utf8(*value)) {
      *value = latin1 ? latin1_to_utf8(*value) : classify::sanitize_utf8(*value);
      form.repaired = true;
    }
    // After repair: a name's length is that of the UTF-8 it is kept as.
    if (name->size() > limits.max_name_bytes) {
      return fail(Errc::TooLarge, "form field name too long");
    }
    form.fields.emplace_back(std::move(*name), std::move(*value));
    if (amp == body.size()) {
      break;
    }
  }
  return form;
}

std::string form_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3 / 2);
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-' ||
        u == '_' || u == '.' || u == '~') {
      out.push_back(c);
    } else if (u == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

}  // namespace gf::akismet
