#include "core/web/static_assets.hpp"

namespace gf::web {

namespace {

constexpr std::string_view kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

void add_common_headers(AssetReply& r) {
  r.headers.emplace_back("Content-Security-Policy", std::string(kCsp));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
}

AssetReply plain(int status, std::string_view body) {
  AssetReply r;
  r.status = status;
  r.body = body;
  add_common_headers(r);
  return r;
}

// True when `list` (an If-None-Match value: "*" or comma-separated tags, maybe W/) names `etag`.
bool etag_matches(std::string_view list, std::string_view etag) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view tag = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) {
      tag.remove_prefix(1);
    }
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) {
      tag.remove_suffix(1);
    }
    if (tag.starts_with("W/")) {
      tag.remove_prefix(2);
    }
    if (tag == "*" || tag == etag) {
      return true;
    }
  }
  return false;
}

bool safe_name(std::string_view name) {
  return name.find("..") == std::string_view::npos && name.find("//") == std::string_view::npos &&
         name.find('\\') == std::string_view::npos && !name.starts_with('/');
}

}  // namespace

AssetReply serve_asset(std::span<const Asset> assets, std::string_view prefix,
                       std::string_view method, std::string_view path,
                       std::string_view if_none_match) {
  const bool head = method == "HEAD";
  if (method != "GET" && !head) {
    AssetReply r = plain(405, "method not allowed\n");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  if (path == prefix) {
    AssetReply r = plain(308, "");
    r.headers.emplace_back("Location", std::string(prefix) + "/");
    return r;
  }
  std::string_view name = path.substr(prefix.size() + 1);  // after "prefix/"
  if (name.empty()) {
    name = "index.html";
  }
  if (!safe_name(name)) {
    return plain(404, "not found\n");
  }
  for (const Asset& a : assets) {
    if (a.path != name) {
      continue;
    }
    AssetReply r;
    r.content_type = a.content_type;
    add_common_headers(r);
    r.headers.emplace_back("ETag", std::string(a.etag));
    // Revalidate every time: a new binary brings new pages, and a 304 costs one round trip.
    r.headers.emplace_back("Cache-Control", "no-cache");
    if (!if_none_match.empty() && etag_matches(if_none_match, a.etag)) {
      r.status = 304;
      return r;
    }
    if (!head) {
      r.body = a.body;
    }
    return r;
  }
  return plain(404, "not found\n");
}

}  // namespace gf::web
