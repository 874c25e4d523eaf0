#pragma once
// Recognisers and feature names for URLs, host names and e-mail addresses found in text.
//
// Input is already normalised (lower case, NFKC). url_tokens("https://www.Bit.ly/abc?x=1")
// gives "url", "url:scheme:https", "url:host:www.bit.ly", "url:dom:bit.ly", "url:tld:ly",
// "url:p:abc", "url:p:x", "url:p:1". The registrable domain is approximated without the Public
// Suffix List (the core links no data files): the last two labels, or three when the second
// level is a generic one under a country code ("example.co.uk"). Pure functions.
#include <string>
#include <string_view>
#include <vector>

namespace gf::classify {

// True for a well-formed host name whose last label is a common top-level domain, so that
// "murdev.com" counts as a link in plain text while "e.g" or "lol.xd" do not.
[[nodiscard]] bool looks_like_host(std::string_view host);
[[nodiscard]] bool is_known_tld(std::string_view label);
[[nodiscard]] bool is_email(std::string_view s);
[[nodiscard]] std::string registrable_domain(std::string_view host);

// Feature names for a URL (with or without scheme) or a bare host[/path].
[[nodiscard]] std::vector<std::string> url_tokens(std::string_view url);
// Feature names for an e-mail address: "email", "email:dom:<registrable domain>".
[[nodiscard]] std::vector<std::string> email_tokens(std::string_view address);

}  // namespace gf::classify
