#include "core/common/strings.hpp"

#include <algorithm>
#include <charconv>
#include <system_error>

namespace gf {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

std::string_view trim_ws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') {
      x = static_cast<char>(x - 'A' + 'a');
    }
    if (y >= 'A' && y <= 'Z') {
      y = static_cast<char>(y - 'A' + 'a');
    }
    if (x != y) {
      return false;
    }
  }
  return true;
}

bool ends_with_label(std::string_view name, std::string_view suffix) {
  if (suffix.empty() || name.size() < suffix.size()) {
    return false;
  }
  if (!iequals(name.substr(name.size() - suffix.size()), suffix)) {
    return false;
  }
  return name.size() == suffix.size() || name[name.size() - suffix.size() - 1] == '.';
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string sanitize_line(std::string_view s, std::size_t max_len) {
  // Keeps valid UTF-8 (SMTPUTF8 addresses), replaces control characters and invalid bytes.
  if (s.size() <= max_len) {
    bool plain = true;  // the common case: printable ASCII, copied as it is
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c);
      plain &= u >= 0x20 && u < 0x7f;
    }
    if (plain) {
      return std::string(s);
    }
  }
  std::string out;
  out.reserve(std::min(s.size(), max_len));
  std::size_t i = 0;
  while (i < s.size()) {
    if (out.size() >= max_len) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    if (u < 0x80) {
      out += (u < 0x20 || u == 0x7f) ? '?' : static_cast<char>(u);
      ++i;
      continue;
    }
    if (u >= 0xc2 && u <= 0xdf) {
      len = 2;
    } else if (u >= 0xe0 && u <= 0xef) {
      len = 3;
    } else if (u >= 0xf0 && u <= 0xf4) {
      len = 4;
    }
    bool valid = len > 0 && i + len <= s.size();
    for (std::size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
    }
    if (valid) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

void append_fixed2(std::string& out, double v) {
  if (v == 0) {
    v = 0;  // no "-0.00"
  }
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 2);
  if (ec != std::errc()) {
    out += "nan";
    return;
  }
  std::string_view text(buf, static_cast<std::size_t>(end - buf));
  if (text == "-0.00") {
    text = "0.00";
  }
  out += text;
}

std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit) {
  const std::size_t gap = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  if (gap > limit) {
    return limit + 1;  // as many edits at least as the lengths differ
  }
  // Optimal string alignment: the Levenshtein table plus a swap of two neighbours, three rows.
  std::vector<std::size_t> before(b.size() + 1);
  std::vector<std::size_t> prev(b.size() + 1);
  std::vector<std::size_t> cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    prev[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    std::size_t row_min = cur[0];
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        cur[j] = std::min(cur[j], before[j - 2] + 1);
      }
      row_min = std::min(row_min, cur[j]);
    }
    if (row_min > limit) {
      return limit + 1;  // every later row is at least this far
    }
    std::swap(before, prev);
    std::swap(prev, cur);
  }
  return std::min(prev[b.size()], limit + 1);
}

}  // namespace gf
