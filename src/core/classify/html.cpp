#include "core/classify/html.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

namespace gf::classify {

namespace {

struct NamedEntity {
  std::string_view name;
  std::uint32_t code_point;
};

// The entities that occur in practice in comments; anything else is left as written.
constexpr std::array<NamedEntity, 32> kEntities{{
    {"amp", '&'},      {"lt", '<'},        {"gt", '>'},       {"quot", '"'},     {"apos", '\''},
    {"nbsp", 0xA0},    {"copy", 0xA9},     {"reg", 0xAE},     {"trade", 0x2122}, {"hellip", 0x2026},
    {"mdash", 0x2014}, {"ndash", 0x2013},  {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C},
    {"rdquo", 0x201D}, {"laquo", 0xAB},    {"raquo", 0xBB},   {"euro", 0x20AC},  {"pound", 0xA3},
    {"yen", 0xA5},     {"cent", 0xA2},     {"deg", 0xB0},     {"times", 0xD7},   {"bull", 0x2022},
    {"middot", 0xB7},  {"hearts", 0x2665}, {"iexcl", 0xA1},   {"iquest", 0xBF},  {"shy", 0xAD},
    {"zwj", 0x200D},   {"zwnj", 0x200C},
}};

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    cp = 0xFFFD;
  }
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Parses one character reference starting at text[i] == '&'. On success appends the decoded
// character and returns the number of bytes consumed; returns 0 if it is not a reference.
std::size_t decode_one(std::string_view text, std::size_t i, std::string& out) {
  constexpr std::size_t kMaxRef = 12;
  std::size_t semi = text.find(';', i + 1);
  if (semi == std::string_view::npos || semi - i > kMaxRef || semi == i + 1) {
    return 0;
  }
  std::string_view body = text.substr(i + 1, semi - i - 1);
  if (body[0] == '#') {
    bool hex = body.size() > 1 && (body[1] == 'x' || body[1] == 'X');
    std::string_view digits = body.substr(hex ? 2 : 1);
    if (digits.empty()) {
      return 0;
    }
    std::uint32_t cp = 0;
    for (char c : digits) {
      std::uint32_t d = 0;
      if (is_ascii_digit(c)) {
        d = static_cast<std::uint32_t>(c - '0');
      } else if (hex && c >= 'a' && c <= 'f') {
        d = static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (hex && c >= 'A' && c <= 'F') {
        d = static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        return 0;
      }
      cp = cp * (hex ? 16 : 10) + d;
      if (cp > 0x10FFFF) {
        cp = 0x110000;  // clamp; append_utf8 turns it into U+FFFD
      }
    }
    append_utf8(out, cp);
    return semi - i + 1;
  }
  for (const auto& e : kEntities) {
    if (e.name == body) {
      append_utf8(out, e.code_point);
      return semi - i + 1;
    }
  }
  return 0;
}

bool is_block_tag(std::string_view name) {
  static constexpr std::array<std::string_view, 16> kBlock{
      "br", "p",  "div", "li", "ul", "ol",    "tr",         "td",
      "th", "h1", "h2",  "h3", "hr", "table", "blockquote", "img"};
  return std::find(kBlock.begin(), kBlock.end(), name) != kBlock.end();
}

// Finds the end of a tag starting at html[start] == '<', honouring quoted attribute values.
std::size_t find_tag_end(std::string_view html, std::size_t start) {
  char quote = 0;
  for (std::size_t i = start + 1; i < html.size(); ++i) {
    char c = html[i];
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      return i;
    }
  }
  return std::string_view::npos;
}

std::string trim(std::string_view s) {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && is_space(s[b])) {
    ++b;
  }
  while (e > b && is_space(s[e - 1])) {
    --e;
  }
  return std::string(s.substr(b, e - b));
}

// Extracts the value of attribute `want` (lower-case) from the inside of a tag.
void collect_attribute(std::string_view inside, std::string_view want,
                       std::vector<std::string>& links) {
  std::size_t i = 0;
  while (i < inside.size()) {
    while (i < inside.size() && !is_ascii_alpha(inside[i])) {
      ++i;
    }
    std::size_t name_start = i;
    while (i < inside.size() && (is_ascii_alpha(inside[i]) || inside[i] == '-')) {
      ++i;
    }
    std::string name;
    for (std::size_t k = name_start; k < i; ++k) {
      name.push_back(to_lower(inside[k]));
    }
    while (i < inside.size() && is_space(inside[i])) {
      ++i;
    }
    if (i >= inside.size() || inside[i] != '=') {
      continue;
    }
    ++i;
    while (i < inside.size() && is_space(inside[i])) {
      ++i;
    }
    std::string_view value;
    if (i < inside.size() && (inside[i] == '"' || inside[i] == '\'')) {
      char q = inside[i];
      std::size_t end = inside.find(q, i + 1);
      end = end == std::string_view::npos ? inside.size() : end;
      value = inside.substr(i + 1, end - i - 1);
      i = end + 1;
    } else {
      std::size_t end = i;
      while (end < inside.size() && !is_space(inside[end])) {
        ++end;
      }
      value = inside.substr(i, end - i);
      i = end;
    }
    if (name == want) {
      std::string link = trim(decode_entities(value));
      if (!link.empty()) {
        links.push_back(std::move(link));
      }
    }
  }
}

// Skips raw-text content up to and including the closing tag </name ...>.
std::size_t skip_raw_text(std::string_view html, std::size_t from, std::string_view name) {
  for (std::size_t i = from; i + 1 < html.size(); ++i) {
    if (html[i] != '<' || html[i + 1] != '/') {
      continue;
    }
    std::size_t k = 0;
    while (k < name.size() && i + 2 + k < html.size() && to_lower(html[i + 2 + k]) == name[k]) {
      ++k;
    }
    if (k == name.size()) {
      std::size_t end = html.find('>', i);
      return end == std::string_view::npos ? html.size() : end + 1;
    }
  }
  return html.size();
}

}  // namespace

std::string decode_entities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '&') {
      std::size_t used = decode_one(text, i, out);
      if (used > 0) {
        i += used;
        continue;
      }
    }
    out.push_back(text[i]);
    ++i;
  }
  return out;
}

HtmlText html_to_text(std::string_view html) {
  HtmlText result;
  std::string pending;  // text between tags, entity-decoded in one go
  pending.reserve(html.size());
  auto flush = [&]() {
    result.text += decode_entities(pending);
    pending.clear();
  };
  std::size_t i = 0;
  while (i < html.size()) {
    char c = html[i];
    bool tag_start = c == '<' && i + 1 < html.size() &&
                     (is_ascii_alpha(html[i + 1]) || html[i + 1] == '/' || html[i + 1] == '!');
    if (!tag_start) {
      pending.push_back(c);
      ++i;
      continue;
    }
    if (html.substr(i, 4) == "<!--") {
      std::size_t end = html.find("-->", i + 4);
      i = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    std::size_t end = find_tag_end(html, i);
    if (end == std::string_view::npos) {
      pending.append(html.substr(i));  // an unterminated '<...' is text
      break;
    }
    std::string_view inside = html.substr(i + 1, end - i - 1);
    bool closing = !inside.empty() && inside[0] == '/';
    std::size_t n = closing ? 1 : 0;
    std::string name;
    while (n < inside.size() && (is_ascii_alpha(inside[n]) || is_ascii_digit(inside[n]))) {
      name.push_back(to_lower(inside[n]));
      ++n;
    }
    flush();
    if (!name.empty() &&
        std::find(result.tags.begin(), result.tags.end(), name) == result.tags.end()) {
      result.tags.push_back(name);
    }
    if (is_block_tag(name) || closing) {
      result.text.push_back(' ');
    }
    if (!closing) {
      collect_attribute(inside.substr(n), "href", result.links);
      collect_attribute(inside.substr(n), "src", result.links);
    }
    i = end + 1;
    if (!closing && (name == "script" || name == "style")) {
      i = skip_raw_text(html, i, name);
    }
  }
  flush();
  return result;
}

}  // namespace gf::classify
