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
        out += '(';
        break;
      case '*':
      case '+':
      case '?':
      case '}':
        out += c;
        if (i + 1 < p.size() && p[i + 1] == '?') {
          ++i;  // lazy quantifier: same match set
        }
        break;
      default:
        out += c;
    }
  }
  if (in_class) {
    return fail(Errc::InvalidInput, "unterminated [ class");
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
