#pragma once
// URL query strings ("range=hour&limit=20"): the value of one parameter, %XX and '+' decoded.
// Pure and bounded by its input; a malformed escape is kept as written (the caller validates
// the value it gets, e.g. a number or one of a few words).
#include <optional>
#include <string>
#include <string_view>

namespace gf {

// The first `name=value` of `query` (undecoded, without the '?'); nullopt when absent. A bare
// `name` gives "".
[[nodiscard]] std::optional<std::string> query_param(std::string_view query, std::string_view name);

// %XX and '+' (space) decoded; a '%' not followed by two hex digits stays as it is.
[[nodiscard]] std::string url_decode(std::string_view s);

}  // namespace gf
