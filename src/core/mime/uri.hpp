#pragma once
// URI extraction from mail text: what a reader could click or paste.
//
// extract_uris(text) finds http://, https://, ftp:// and mailto: URIs, and "www." host names
// without a scheme, in UTF-8 text (case-insensitive scheme, trailing punctuation trimmed, at
// most `max` results, deduplicated in order of appearance). uri_host() returns the lower-case
// host of a URI (IPv4/IPv6 literals included, userinfo and port removed, trailing dot removed),
// or "" when there is none; registrable_domain() for the flux and local spam-URI lookups comes
// from classify/url_tokens.
//
// Threading: pure functions. Errors: none; any bytes are accepted.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gf::mime {

void extract_uris(std::string_view text, std::vector<std::string>& out, std::size_t max = 200);
[[nodiscard]] std::vector<std::string> extract_uris(std::string_view text, std::size_t max = 200);

// Cleans an href/src value into a URI (entity-decoded already): trims white space and quotes,
// accepts absolute http(s)/ftp/mailto and protocol-relative "//host" links, else "".
[[nodiscard]] std::string normalize_href(std::string_view href);

[[nodiscard]] std::string uri_host(std::string_view uri);

}  // namespace gf::mime
