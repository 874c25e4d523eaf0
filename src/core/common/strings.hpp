#pragma once
// Small ASCII string helpers shared by the protocol codecs.
#include <string>
#include <string_view>
#include <vector>

namespace gf {

std::string ascii_lower(std::string_view s);
std::string_view trim_ws(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
bool ends_with_label(std::string_view name, std::string_view suffix);  // "a.b.c" ends with "b.c"
std::vector<std::string_view> split(std::string_view s, char sep);
// Replaces control characters (and anything that would break a one-line log or reply).
std::string sanitize_line(std::string_view s, std::size_t max_len = 512);
// Edits (insert, delete, replace, swap two neighbours) from `a` to `b`, counting at most
// `limit + 1`: enough to tell "close" (a typo) from "not close" without the full table's cost.
std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit);
// Appends `v` with two decimals exactly as printf's "%.2f" (std::to_chars), except that a value
// that rounds to zero is "0.00", never "-0.00".
void append_fixed2(std::string& out, double v);
// The value of a hexadecimal digit (either case), -1 for any other character.
constexpr int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace gf
