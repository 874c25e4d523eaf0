// Fuzzes the postgrey-format whitelist parsers and matchers. Asserted for both lists: every
// line is either an entry or a warning (never both, never more), the entries as listed read
// back through add_entry() into a list that answers every probe the same (the round trip the
// admin `whitelist list`/`add` relies on), and removing every listed entry leaves a list that
// matches nothing (no state left behind).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/greylist/whitelist.hpp"

namespace {

namespace gl = gf::greylist;

std::size_t line_count(std::string_view text) {
  std::size_t n = text.empty() ? 0 : 1;
  for (char c : text) {
    n += c == '\n' ? 1 : 0;
  }
  return n;
}

template <class List, class Probe>
void check_list(std::string_view text, const std::vector<std::string_view>& names, Probe probe) {
  List list;
  const auto warnings = list.add_text(text, "fuzz");
  if (list.size() + warnings.size() > line_count(text)) {
    std::abort();
  }
  List again;
  for (const std::string& e : list.entries()) {
    if (!again.add_entry(e)) {
      std::abort();  // a listed entry must read back
    }
  }
  for (std::string_view name : names) {
    if (probe(list, name) != probe(again, name)) {
      std::abort();
    }
  }
  while (again.size() > 0) {
    const std::string first = again.entries().front();
    if (!again.remove_entry(first)) {
      std::abort();
    }
  }
  for (std::string_view name : names) {
    if (probe(again, name)) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size > 8192) {
    return 0;  // std::regex compile time grows fast with pattern length; real files are small
  }
  std::vector<std::string_view> names = {"mail.example.com", "postmaster@example.com", "unknown"};
  const std::size_t nl = text.find('\n');
  const std::string_view first = text.substr(0, nl == std::string_view::npos ? 40 : nl);
  if (first.size() < 64) {
    names.push_back(first);
  }
  const auto ip = gf::parse_ip("192.0.2.1").value();
  check_list<gl::ClientWhitelist>(
      text, names,
      [&](const gl::ClientWhitelist& w, std::string_view name) { return w.matches(ip, name); });
  check_list<gl::RecipientWhitelist>(
      text, names,
      [](const gl::RecipientWhitelist& w, std::string_view name) { return w.matches(name); });
  if (first.size() < 64) {
    gl::ClientWhitelist clients;
    (void)clients.add_text(text, "fuzz");
    (void)clients.remove_entry(first);
  }
  return 0;
}
