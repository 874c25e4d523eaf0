#include "core/greylist/whitelist.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/common/strings.hpp"

namespace gf::greylist {
namespace {

constexpr std::size_t kMaxRegexLength = 1024;

bool all_digits_and_dots(std::string_view s, int& dots) {
  dots = 0;
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

bool compile_regex(std::string_view entry, Pattern& out, std::string* why) {
  if (entry.size() < 3 || entry.front() != '/' || entry.back() != '/') {
    return false;
  }
  std::string_view body = entry.substr(1, entry.size() - 2);
  if (body.size() > kMaxRegexLength) {
    if (why) {
      *why = "regex too long";
    }
    return false;
  }
  auto p = Pattern::compile(body);
  if (!p) {
    if (why) {
      *why = p.error().message;
    }
    return false;
  }
  out = std::move(*p);
  return true;
}

bool has_space(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
}

template <class Adder>
std::vector<ParseWarning> add_lines(std::string_view text, std::string_view source, Adder add) {
  std::vector<ParseWarning> warnings;
  int line_no = 0;
  for (std::string_view line : split(text, '\n')) {
    ++line_no;
    if (auto hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = trim_ws(line);
    if (line.empty()) {
      continue;
    }
    std::string why;
    if (!add(line, &why)) {
      warnings.push_back({std::string(source), line_no,
                          why.empty()
                              ? fmt::format("'{}' fits no whitelist form", sanitize_line(line, 80))
                              : why});
    }
  }
  return warnings;
}

// The front both entry forms share: trims, rejects blank or spaced entries, compiles a /regex/.
enum class Front { Bad, Regex, Plain };
Front read_front(std::string_view& entry, Pattern& re, std::string* why) {
  entry = trim_ws(entry);
  if (entry.empty() || has_space(entry)) {
    return Front::Bad;
  }
  if (entry.size() >= 3 && entry.front() == '/' && entry.back() == '/') {
    return compile_regex(entry, re, why) ? Front::Regex : Front::Bad;
  }
  return Front::Plain;
}

// Removal rebuilds the list from the remaining entries: an admin action, rare and small.
template <class List>
bool remove_and_rebuild(List& list, std::string_view entry) {
  std::vector<std::string> kept = list.entries();
  auto it = std::find(kept.begin(), kept.end(), std::string(trim_ws(entry)));
  if (it == kept.end()) {
    return false;
  }
  kept.erase(it);
  List rebuilt;
  for (const std::string& e : kept) {
    rebuilt.add_entry(e);
  }
  list = std::move(rebuilt);
  return true;
}

// True when `name` (lowercase) or one of its parent domains is in `set`.
bool name_or_parent_in(const std::unordered_set<std::string>& set, std::string_view name) {
  while (!name.empty()) {
    if (set.count(std::string(name)) != 0) {
      return true;
    }
    const std::size_t dot = name.find('.');
    if (dot == std::string_view::npos) {
      return false;
    }
    name.remove_prefix(dot + 1);
  }
  return false;
}

bool any_pattern_matches(const std::vector<Pattern>& patterns, std::string_view text) {
  for (const Pattern& re : patterns) {
    if (re.search(text)) {
      return true;
    }
  }
  return false;
}

template <class List>
std::vector<ParseWarning> add_text_to(List& list, std::string_view text, std::string_view source) {
  return add_lines(text, source, [&list](std::string_view e, std::string* why) {
    return list.add_entry(e, why);
  });
}

}  // namespace

std::vector<ParseWarning> ClientWhitelist::add_text(std::string_view text,
                                                    std::string_view source) {
  return add_text_to(*this, text, source);
}

bool ClientWhitelist::add_entry(std::string_view entry, std::string* why) {
  Pattern re;
  const Front front = read_front(entry, re, why);
  if (front == Front::Bad) {
    return false;
  }
  if (front == Front::Regex) {
    regexes_.push_back(std::move(re));
  } else {
    int dots = 0;
    std::string cidr_text(entry);
    bool is_address = entry.find(':') != std::string_view::npos;
    if (all_digits_and_dots(entry, dots) && dots < 3) {
      // postgrey reads "a.b.c" and "a.b" as the /24 network they start.
      if (dots == 0) {
        return false;
      }
      cidr_text = std::string(entry) + (dots == 1 ? ".0.0/24" : ".0/24");
      is_address = true;
    } else if (auto slash = entry.find('/'); slash != std::string_view::npos) {
      is_address = true;
    } else if (all_digits_and_dots(entry, dots)) {
      is_address = true;
    }
    if (is_address) {
      auto cidr = parse_cidr(cidr_text);
      if (!cidr) {
        if (why) {
          *why = cidr.error().message;
        }
        return false;
      }
      networks_.push_back(*cidr);
    } else {
      std::string name = ascii_lower(entry);
      while (!name.empty() && name.back() == '.') {
        name.pop_back();
      }
      if (name.empty()) {
        return false;
      }
      names_.insert(std::move(name));
    }
  }
  entries_.emplace_back(entry);
  return true;
}

bool ClientWhitelist::remove_entry(std::string_view entry) {
  return remove_and_rebuild(*this, entry);
}

bool ClientWhitelist::matches(const IpAddress& ip, std::string_view client_name) const {
  for (const Cidr& net : networks_) {
    if (net.contains(ip)) {
      return true;
    }
  }
  if (client_name.empty() || client_name == "unknown") {
    return false;
  }
  if (!names_.empty() && name_or_parent_in(names_, ascii_lower(client_name))) {
    return true;
  }
  return any_pattern_matches(regexes_, client_name);
}

std::vector<ParseWarning> RecipientWhitelist::add_text(std::string_view text,
                                                       std::string_view source) {
  return add_text_to(*this, text, source);
}

bool RecipientWhitelist::add_entry(std::string_view entry, std::string* why) {
  Pattern re;
  const Front front = read_front(entry, re, why);
  if (front == Front::Bad) {
    return false;
  }
  if (front == Front::Regex) {
    regexes_.push_back(std::move(re));
  } else {
    std::string lower = ascii_lower(entry);
    const std::size_t at = lower.find('@');
    if (at == std::string::npos) {
      domains_.insert(lower);
    } else if (at + 1 == lower.size()) {
      if (at == 0) {
        return false;
      }
      users_.insert(lower.substr(0, at));
    } else {
      addresses_.insert(lower);
    }
  }
  entries_.emplace_back(entry);
  return true;
}

bool RecipientWhitelist::remove_entry(std::string_view entry) {
  return remove_and_rebuild(*this, entry);
}

bool RecipientWhitelist::matches(std::string_view recipient) const {
  if (entries_.empty()) {
    return false;  // the usual case, checked on every request: no lowering, no copies
  }
  const std::string rcpt = ascii_lower(recipient);
  const std::size_t at = rcpt.rfind('@');
  if (at != std::string::npos) {
    const std::string_view user = std::string_view(rcpt).substr(0, at);
    const std::string_view domain = std::string_view(rcpt).substr(at + 1);
    if (!addresses_.empty() || !users_.empty()) {
      // user@domain also matches user+ext@domain.
      std::string_view base = user;
      if (auto plus = base.find('+'); plus != std::string_view::npos && plus > 0) {
        base = base.substr(0, plus);
      }
      std::string address;
      for (const std::string_view u : {user, base}) {
        address.assign(u).append(1, '@').append(domain);
        if (users_.count(std::string(u)) != 0 || addresses_.count(address) != 0) {
          return true;
        }
      }
    }
    if (name_or_parent_in(domains_, domain)) {
      return true;
    }
  }
  return any_pattern_matches(regexes_, rcpt);
}

}  // namespace gf::greylist
