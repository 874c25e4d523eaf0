#include "core/common/pattern.hpp"

#include <fmt/format.h>
#include <regex.h>

namespace gf {

struct Pattern::Compiled {
  regex_t re{};
  ~Compiled() { regfree(&re); }
};

Result<std::string> perl_to_ere(std::string_view p) {
  std::string out;
  out.reserve(p.size() + 16);
  bool in_class = false;
  // Bounds that keep glibc's regcomp small: it copies the syntax tree for every repetition, so
  // stacked quantifiers, deep groups and large counts would cost exponential memory.
  constexpr int kMaxDepth = 8;
  constexpr int kMaxCount = 50;
  enum class Prev { Start, Atom, Quantifier, GroupClose, GroupOpen };
  Prev prev = Prev::Start;
  int depth = 0;
  auto bad = [](const char* why) { return fail(Errc::InvalidInput, why); };
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\0') {
      return fail(Errc::InvalidInput, "NUL in pattern");
    }
    if (in_class) {
      if (c == '\\' && i + 1 < p.size()) {
        const char e = p[++i];
        switch (e) {
          case 'd':
            out += "0-9";
            break;
          case 'w':
            out += "[:alnum:]_";
            break;
          case 's':
            out += "[:space:]";
            break;
          default:
            out += e;  // inside a POSIX class a backslash is literal: drop it
        }
        continue;
      }
      if (c == ']') {
        in_class = false;
        prev = Prev::Atom;
      }
      out += c;
      continue;
    }
    switch (c) {
      case '[':
        in_class = true;
        out += c;
        if (i + 1 < p.size() && p[i + 1] == '^') {
          out += p[++i];
        }
        if (i + 1 < p.size() && p[i + 1] == ']') {
          out += p[++i];
        }
        break;
      case '\\': {
        if (i + 1 >= p.size()) {
          return fail(Errc::InvalidInput, "pattern ends with a backslash");
        }
        const char e = p[++i];
        switch (e) {
          case 'd':
            out += "[0-9]";
            break;
          case 'D':
            out += "[^0-9]";
            break;
          case 'w':
            out += "[[:alnum:]_]";
            break;
          case 'W':
            out += "[^[:alnum:]_]";
            break;
          case 's':
            out += "[[:space:]]";
            break;
          case 'S':
            out += "[^[:space:]]";
            break;
          default:
            if ((e >= '0' && e <= '9') || (e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z')) {
              return fail(Errc::InvalidInput,
                          fmt::format("unsupported escape \\{} (back-references and Perl "
                                      "classes other than \\d \\w \\s are not supported)",
                                      e));
            }
            out += '\\';
            out += e;
        }
        break;
      }
      case '(':
        if (i + 2 < p.size() && p[i + 1] == '?' && p[i + 2] == ':') {
          i += 2;
        } else if (i + 1 < p.size() && p[i + 1] == '?') {
          return fail(Errc::InvalidInput, "unsupported (? group (only (?:...) is supported)");
        }
        if (++depth > kMaxDepth) {
          return bad("groups nested too deeply");
        }
        out += '(';
        prev = Prev::GroupOpen;
        continue;
      case ')':
        if (--depth < 0) {
          return bad("unbalanced )");
        }
        out += ')';
        prev = Prev::GroupClose;
        continue;
      case '*':
      case '+':
      case '?':
        if (prev == Prev::Quantifier || prev == Prev::Start || prev == Prev::GroupOpen) {
          return bad("a quantifier must follow a character, class or group, once");
        }
        out += c;
        if (i + 1 < p.size() && p[i + 1] == '?') {
          ++i;  // lazy quantifier: same match set
        }
        prev = Prev::Quantifier;
        continue;
      case '|':
      case '^':
        out += c;
        prev = Prev::Start;
        continue;
      case '{': {
        const std::size_t close = p.find('}', i);
        if (close == std::string_view::npos) {
          return bad("unterminated {");
        }
        if (prev != Prev::Atom) {
          return bad("{n,m} may follow only a character or class");
        }
        const std::string_view body = p.substr(i + 1, close - i - 1);
        int n = 0;
        for (char d : body) {
          if (d == ',') {
            n = 0;
          } else if (d >= '0' && d <= '9') {
            n = n * 10 + (d - '0');
            if (n > kMaxCount) {
              return bad("repetition count over 50");
            }
          } else {
            return bad("bad {n,m} repetition");
          }
        }
        if (body.empty() || body.back() == ',') {
          return bad("{n,m} needs an upper bound");
        }
        out.append(p.substr(i, close - i + 1));
        i = close;
        if (i + 1 < p.size() && p[i + 1] == '?') {
          ++i;
        }
        prev = Prev::Quantifier;
        continue;
      }
      default:
        out += c;
    }
    prev = Prev::Atom;
  }
  if (in_class) {
    return fail(Errc::InvalidInput, "unterminated [ class");
  }
  if (depth != 0) {
    return bad("unbalanced (");
  }
  return out;
}

Result<Pattern> Pattern::compile(std::string_view perl_like) {
  auto ere = perl_to_ere(perl_like);
  if (!ere) {
    return tl::unexpected(ere.error());
  }
  regex_t re{};
  const int rc = regcomp(&re, ere->c_str(), REG_EXTENDED | REG_ICASE | REG_NOSUB);
  if (rc != 0) {
    char msg[256];
    regerror(rc, &re, msg, sizeof msg);
    return fail(Errc::InvalidInput, fmt::format("bad regex: {}", msg));
  }
  auto compiled = std::make_shared<Compiled>();
  compiled->re = re;  // Compiled now owns the buffers and frees them once
  Pattern p;
  p.source_ = std::string(perl_like);
  p.re_ = std::move(compiled);
  return p;
}

bool Pattern::search(std::string_view text) const {
  if (!re_ || text.size() > 4096) {
    return false;
  }
  const std::string s(text);
  if (s.find('\0') != std::string::npos) {
    return false;
  }
  return regexec(&re_->re, s.c_str(), 0, nullptr, 0) == 0;
}

}  // namespace gf
