#pragma once
// Static assets: the dashboard's files (web/ui/), compiled into the binary, answered by path.
//
// Flow: CMake turns every file under web/ui/ into a byte array at build time
// (cmake/GfEmbedAssets.cmake writes generated/ui_assets.cpp), with its content type and an ETag
// (a hash of its bytes). The HTTP front door hands a request's method, path and If-None-Match to
// serve_asset(), which picks the answer: the file (200), 304 when the browser's copy is current,
// a redirect from the bare prefix, 404, or 405. Nothing here reads a file or a socket; the
// answer's body views the embedded bytes, which live as long as the program.
//
// Why compiled in: greyflux is one binary; the pages then always match the API of the binary
// that serves them, and nothing under the install prefix can go missing or stale.
//
// Every answer carries a Content-Security-Policy that allows only this origin's scripts, styles
// and API calls (no inline script, no CDN, no framing), nosniff and no-referrer.
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gf::web {

struct Asset {
  std::string_view path;          // relative to the prefix: "index.html", "js/app.js"
  std::string_view content_type;  // "text/html; charset=utf-8"
  std::string_view etag;          // quoted, as sent: "\"3f2a...\""
  std::string_view body;
};

struct AssetReply {
  int status = 200;
  std::string_view content_type = "text/plain; charset=utf-8";
  std::string_view body;  // views an Asset or a static string
  std::vector<std::pair<std::string, std::string>> headers;
};

// `prefix` is where the assets are mounted, without a trailing slash ("/ui"). `path` is the
// request path (no query). Precondition: path == prefix or path starts with prefix + "/".
// "prefix/" is index.html; "prefix" alone redirects (308) to "prefix/". GET and HEAD only (405
// with Allow otherwise); HEAD answers with an empty body. Paths with "..", "//" or a backslash
// are 404: only the embedded names exist.
[[nodiscard]] AssetReply serve_asset(std::span<const Asset> assets, std::string_view prefix,
                                     std::string_view method, std::string_view path,
                                     std::string_view if_none_match);

}  // namespace gf::web
