#include "core/mime/uri.hpp"

#include <algorithm>
#include <unordered_set>

#include "core/common/strings.hpp"

namespace gf::mime {

namespace {

bool is_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool starts_with_icase(std::string_view s, std::size_t pos, std::string_view prefix) {
  if (s.size() - pos < prefix.size()) {
    return false;
  }
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[pos + i];
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    if (c != prefix[i]) {
      return false;
    }
  }
  return true;
}

bool ends_uri(unsigned char c) {
  return c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"' || c == '\'' || c == '`' ||
         c == '{' || c == '}' || c == '|' || c == '\\' || c == '^';
}

// The length of the scheme prefix a URI starts with at `pos`, or 0.
std::size_t scheme_at(std::string_view s, std::size_t pos) {
  static constexpr std::string_view kSchemes[] = {"http://", "https://", "ftp://", "mailto:",
                                                  "www."};
  for (std::string_view p : kSchemes) {
    if (starts_with_icase(s, pos, p)) {
      return p.size();
    }
  }
  return 0;
}

std::string_view trim_trailing(std::string_view u) {
  while (!u.empty()) {
    const char c = u.back();
    if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == ')' ||
        c == ']' || c == '*') {
      u.remove_suffix(1);
      continue;
    }
    break;
  }
  return u;
}

}  // namespace

std::string uri_host(std::string_view uri) {
  std::string_view u = trim_ws(uri);
  std::string_view rest;
  if (starts_with_icase(u, 0, "mailto:")) {
    rest = u.substr(7);
    const std::size_t q = rest.find('?');
    rest = rest.substr(0, q);
    const std::size_t at = rest.rfind('@');
    if (at == std::string_view::npos) {
      return {};
    }
    rest = rest.substr(at + 1);
  } else {
    const std::size_t sep = u.find("://");
    if (sep != std::string_view::npos && sep < 10) {
      rest = u.substr(sep + 3);
    } else if (u.substr(0, 2) == "//") {
      rest = u.substr(2);
    } else {
      rest = u;
    }
    const std::size_t end = rest.find_first_of("/?#\\");
    rest = rest.substr(0, end);
    const std::size_t at = rest.rfind('@');
    if (at != std::string_view::npos) {
      rest = rest.substr(at + 1);
    }
  }
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return {};
    }
    return ascii_lower(rest.substr(1, close - 1));
  }
  const std::size_t colon = rest.find(':');
  rest = rest.substr(0, colon);
  while (!rest.empty() && rest.back() == '.') {
    rest.remove_suffix(1);
  }
  if (rest.empty() || rest.size() > 253 || rest.front() == '.' ||
      rest.find("..") != std::string_view::npos) {
    return {};
  }
  for (unsigned char c : rest) {
    if (!(is_alnum(c) || c == '-' || c == '.' || c == '_' || c >= 0x80)) {
      return {};
    }
  }
  return ascii_lower(rest);
}

void extract_uris(std::string_view text, std::vector<std::string>& out, std::size_t max) {
  std::unordered_set<std::string> seen(out.begin(), out.end());
  std::size_t i = 0;
  while (i < text.size() && out.size() < max) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const bool candidate = c == 'h' || c == 'H' || c == 'f' || c == 'F' || c == 'm' || c == 'M' ||
                           c == 'w' || c == 'W';
    if (!candidate || (i > 0 && (is_alnum(static_cast<unsigned char>(text[i - 1])) ||
                                 text[i - 1] == '.' || text[i - 1] == '@'))) {
      ++i;
      continue;
    }
    const std::size_t scheme = scheme_at(text, i);
    if (scheme == 0) {
      ++i;
      continue;
    }
    std::size_t j = i + scheme;
    while (j < text.size() && j - i < 2048 && !ends_uri(static_cast<unsigned char>(text[j]))) {
      ++j;
    }
    std::string_view uri = trim_trailing(text.substr(i, j - i));
    i = j;
    if (uri.size() <= scheme) {
      continue;
    }
    std::string value(uri);
    if (scheme == 4) {  // "www." without a scheme
      value = "http://" + value;
    }
    // The host of the URI as it will be reported (found by fuzz_uri: "www.h;://.b/").
    const std::string host = uri_host(value);
    if (host.empty() || host.find('.') == std::string::npos) {
      continue;
    }
    if (seen.insert(value).second) {
      out.push_back(std::move(value));
    }
  }
}

std::vector<std::string> extract_uris(std::string_view text, std::size_t max) {
  std::vector<std::string> out;
  extract_uris(text, out, max);
  return out;
}

std::string normalize_href(std::string_view href) {
  std::string_view h = trim_ws(href);
  while (!h.empty() && (h.front() == '"' || h.front() == '\'')) {
    h.remove_prefix(1);
  }
  while (!h.empty() && (h.back() == '"' || h.back() == '\'')) {
    h.remove_suffix(1);
  }
  h = trim_ws(h);
  if (h.size() > 2048) {
    h = h.substr(0, 2048);
  }
  if (starts_with_icase(h, 0, "http://") || starts_with_icase(h, 0, "https://") ||
      starts_with_icase(h, 0, "ftp://") || starts_with_icase(h, 0, "mailto:")) {
    return uri_host(h).empty() ? std::string() : std::string(h);
  }
  if (h.substr(0, 2) == "//") {
    std::string u = "http:" + std::string(h);
    return uri_host(u).empty() ? std::string() : u;
  }
  if (starts_with_icase(h, 0, "www.")) {
    std::string u = "http://" + std::string(h);
    return uri_host(u).empty() ? std::string() : u;
  }
  return {};
}

}  // namespace gf::mime
