#include "core/greylist/sender.hpp"

#include <string>
#include <string_view>

#include "core/common/strings.hpp"

namespace gf::greylist {
namespace {

bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A BATV tag: at least 10 characters [0-9a-z] at the start (key, day and hash).
bool looks_like_batv_tag(std::string_view s) {
  if (s.size() < 10) {
    return false;
  }
  for (std::size_t i = 0; i < 10; ++i) {
    if (!(is_digit(s[i]) || (s[i] >= 'a' && s[i] <= 'z'))) {
      return false;
    }
  }
  return true;
}

// Returns a part of `local`: the user inside a BATV address, else `local` itself.
std::string_view unwrap_batv(std::string_view local) {
  std::string_view rest;
  if (local.starts_with("prvs=")) {
    rest = local.substr(5);
  } else if (local.starts_with("msprvs1=")) {
    rest = local.substr(8);
  } else {
    return local;
  }
  const std::size_t eq = rest.find('=');
  if (eq == std::string_view::npos || rest.find('=', eq + 1) != std::string_view::npos) {
    return local;  // not exactly two parts
  }
  const std::string_view first = rest.substr(0, eq);
  const std::string_view second = rest.substr(eq + 1);
  const bool first_tag = looks_like_batv_tag(first);
  const bool second_tag = looks_like_batv_tag(second);
  if (second_tag && !first_tag) {
    return first;
  }
  return second;  // the standard order, prvs=tag=user, and when neither or both look like a tag
}

// SRS0=HHH=TT=domain=local@fwd, SRS1=HHH=fwd1==HHH=TT=domain=local@fwd2. The separator after
// "SRS0"/"SRS1" may be '=', '+' or '-'. Returns false when `local` is not SRS.
bool unwrap_srs(std::string_view local, std::string& user, std::string& domain) {
  if (local.size() < 5 || !(local.starts_with("srs0") || local.starts_with("srs1"))) {
    return false;
  }
  const char sep = local[4];
  if (sep != '=' && sep != '+' && sep != '-') {
    return false;
  }
  std::string_view rest = local.substr(5);
  if (local[3] == '1') {
    const std::size_t dbl = rest.find("==");
    if (dbl == std::string_view::npos) {
      return false;
    }
    rest = rest.substr(dbl + 2);
  }
  // rest = HHH=TT=domain=local (local may itself contain '=')
  std::size_t p1 = rest.find('=');
  if (p1 == std::string_view::npos) {
    return false;
  }
  std::size_t p2 = rest.find('=', p1 + 1);
  if (p2 == std::string_view::npos) {
    return false;
  }
  std::size_t p3 = rest.find('=', p2 + 1);
  if (p3 == std::string_view::npos || p3 == p2 + 1 || p3 + 1 >= rest.size()) {
    return false;
  }
  domain.assign(rest.substr(p2 + 1, p3 - p2 - 1));
  user.assign(rest.substr(p3 + 1));
  return true;
}

std::string fold_digit_runs(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    if (is_digit(s[i]) && (i == 0 || !is_word(s[i - 1]))) {
      std::size_t j = i;
      while (j < s.size() && is_digit(s[j])) {
        ++j;
      }
      if (j == s.size() || !is_word(s[j])) {
        out += '#';
        i = j;
        continue;
      }
      out.append(s.substr(i, j - i));
      i = j;
      continue;
    }
    out += s[i++];
  }
  return out;
}

// One pass of the rules in sender.hpp.
std::string normalize_once(std::string_view sender) {
  // The parts are views into the lowered copy (or into the SRS parts); one more string out.
  std::string lower = ascii_lower(trim_ws(sender));
  if (lower.size() >= 2 && lower.front() == '<' && lower.back() == '>') {
    lower.pop_back();
    lower.erase(0, 1);
  }
  const std::size_t at = lower.rfind('@');
  if (at == std::string::npos) {
    return lower;  // null sender or a bare local part: nothing to unwrap
  }
  std::string_view user = std::string_view(lower).substr(0, at);
  std::string_view domain = std::string_view(lower).substr(at + 1);
  std::string srs_user;
  std::string srs_domain;
  if (unwrap_srs(user, srs_user, srs_domain)) {
    user = srs_user;
    domain = srs_domain;
  }
  user = unwrap_batv(user);
  if (auto plus = user.find('+'); plus != std::string_view::npos && plus > 0) {
    user = user.substr(0, plus);
  }
  std::string out = fold_digit_runs(user);
  out.reserve(out.size() + 1 + domain.size());
  out += '@';
  out.append(domain);
  return out;
}

}  // namespace

// Passes repeat until nothing changes, so the result is idempotent (fuzz_sender checks it): one
// pass can expose more to unwrap, e.g. an SRS address wrapped in another, spaces or brackets
// inside the SRS domain. After the first pass every change shortens the string or folds a
// digit, so the loop ends; usual senders take two passes.
std::string normalize_sender(std::string_view sender) {
  std::string cur = normalize_once(sender);
  // The bound is fixed before the loop: re-reading cur.size() while each pass shrinks it ended
  // the loop early on nested brackets ("<<<<<<<>>>>>>>>", found by fuzz_sender), not idempotent.
  const std::size_t passes = cur.size() + 1;
  for (std::size_t guard = 0; guard <= passes; ++guard) {
    std::string next = normalize_once(cur);
    if (next == cur) {
      break;
    }
    cur = std::move(next);
  }
  return cur;
}

std::string_view address_domain(std::string_view address) {
  const std::size_t at = address.rfind('@');
  return at == std::string_view::npos ? std::string_view() : address.substr(at + 1);
}

}  // namespace gf::greylist
