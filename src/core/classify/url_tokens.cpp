#include "core/classify/url_tokens.hpp"

#include <algorithm>
#include <array>

namespace gf::classify {

namespace {

constexpr std::size_t kMaxPathPieces = 8;
constexpr std::size_t kMaxPieceBytes = 24;

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

bool is_ipv4(std::string_view host) {
  auto parts = split(host, '.');
  if (parts.size() != 4) {
    return false;
  }
  return std::all_of(parts.begin(), parts.end(), [](std::string_view p) {
    return !p.empty() && p.size() <= 3 && std::all_of(p.begin(), p.end(), is_digit);
  });
}

bool valid_label(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
    return false;
  }
  return std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

}  // namespace

bool is_known_tld(std::string_view label) {
  static constexpr std::array<std::string_view, 64> kTlds{
      "com",  "net",  "org",  "info",  "biz",  "edu",    "gov",  "io",    "co",   "me",  "tv",
      "ly",   "be",   "gl",   "gd",    "tk",   "ml",     "ga",   "cf",    "gq",   "ru",  "de",
      "uk",   "us",   "ca",   "fr",    "es",   "it",     "nl",   "pl",    "br",   "in",  "au",
      "jp",   "cn",   "kr",   "mx",    "ar",   "ch",     "eu",   "cc",    "ws",   "to",  "fm",
      "pro",  "xyz",  "top",  "club",  "site", "online", "shop", "store", "live", "app", "blog",
      "mobi", "asia", "link", "click", "win",  "vip",    "ro",   "se",    "tw"};
  return std::find(kTlds.begin(), kTlds.end(), label) != kTlds.end();
}

bool looks_like_host(std::string_view host) {
  if (host.size() < 4 || host.size() > 253) {
    return false;
  }
  auto labels = split(host, '.');
  if (labels.size() < 2) {
    return false;
  }
  if (!std::all_of(labels.begin(), labels.end(), valid_label)) {
    return false;
  }
  // The last label must be alphabetic and known; the one before it must contain a letter
  // ("1.com" is more likely a typo than a site, "3.5.net" a version number).
  const auto& sld = labels[labels.size() - 2];
  return is_known_tld(labels.back()) &&
         std::any_of(sld.begin(), sld.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

std::string registrable_domain(std::string_view host) {
  auto labels = split(host, '.');
  if (labels.size() <= 2 || is_ipv4(host)) {
    return std::string(host);
  }
  static constexpr std::array<std::string_view, 8> kGenericSecond{"co",  "com", "net", "org",
                                                                  "gov", "edu", "ac",  "or"};
  std::size_t keep = 2;
  const auto& second = labels[labels.size() - 2];
  if (labels.back().size() == 2 &&
      std::find(kGenericSecond.begin(), kGenericSecond.end(), second) != kGenericSecond.end()) {
    keep = 3;
  }
  std::string out;
  for (std::size_t i = labels.size() - keep; i < labels.size(); ++i) {
    if (!out.empty()) {
      out.push_back('.');
    }
    out.append(labels[i]);
  }
  return out;
}

bool is_email(std::string_view s) {
  auto at = s.find('@');
  if (at == 0 || at == std::string_view::npos || s.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  auto local = s.substr(0, at);
  bool local_ok = std::all_of(local.begin(), local.end(), [](char c) {
    return is_alnum(c) || c == '.' || c == '_' || c == '-' || c == '+' || c == '%';
  });
  auto domain = s.substr(at + 1);
  if (!local_ok || domain.find('.') == std::string_view::npos) {
    return false;
  }
  auto labels = split(domain, '.');
  return labels.size() >= 2 && std::all_of(labels.begin(), labels.end(), valid_label);
}

std::vector<std::string> url_tokens(std::string_view url) {
  std::vector<std::string> out{"url"};
  std::string_view rest = url;
  auto scheme_end = rest.find("://");
  if (scheme_end != std::string_view::npos && scheme_end <= 10) {
    out.push_back("url:scheme:" + std::string(rest.substr(0, scheme_end)));
    rest.remove_prefix(scheme_end + 3);
  } else if (rest.starts_with("//")) {
    rest.remove_prefix(2);
  }
  auto host_end = rest.find_first_of("/?#");
  std::string_view host = rest.substr(0, host_end);
  std::string_view path = host_end == std::string_view::npos ? "" : rest.substr(host_end);
  if (auto at = host.rfind('@'); at != std::string_view::npos) {
    host.remove_prefix(at + 1);
    out.emplace_back("url:userinfo");
  }
  if (auto colon = host.find(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
    out.emplace_back("url:port");
  }
  while (!host.empty() && host.back() == '.') {
    host.remove_suffix(1);
  }
  if (!host.empty()) {
    if (is_ipv4(host)) {
      out.emplace_back("url:ip");
    } else {
      out.push_back("url:host:" + std::string(host));
      out.push_back("url:dom:" + registrable_domain(host));
      auto dot = host.rfind('.');
      if (dot != std::string_view::npos) {
        out.push_back("url:tld:" + std::string(host.substr(dot + 1)));
      }
    }
  }
  std::size_t pieces = 0;
  std::size_t i = 0;
  while (i < path.size() && pieces < kMaxPathPieces) {
    while (i < path.size() && !is_alnum(path[i])) {
      ++i;
    }
    std::size_t start = i;
    while (i < path.size() && is_alnum(path[i])) {
      ++i;
    }
    if (i > start) {
      out.push_back("url:p:" +
                    std::string(path.substr(start, std::min(i - start, kMaxPieceBytes))));
      ++pieces;
    }
  }
  out.push_back(path.size() > 1 ? "url:path" : "url:nopath");
  return out;
}

std::vector<std::string> email_tokens(std::string_view address) {
  std::vector<std::string> out{"email"};
  auto at = address.find('@');
  if (at != std::string_view::npos) {
    out.push_back("email:dom:" + registrable_domain(address.substr(at + 1)));
  }
  return out;
}

}  // namespace gf::classify
