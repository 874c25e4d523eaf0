#pragma once
// Case-insensitive regular expressions from config files (postgrey's /regex/ whitelist lines),
// matched with glibc's POSIX engine, which has no exponential backtracking: a pathological
// pattern costs polynomial time, never a hang (std::regex backtracks and can run for hours).
//
// The Perl constructs found in real postgrey whitelists are translated to POSIX ERE:
// \d \w \s (and \D \W \S), \. and other escaped punctuation, (?:...) groups, lazy quantifiers
// (*? +? ??, which change nothing for a match/no-match test). Back-references and other Perl
// features are rejected with a clear message.
#include <memory>
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace gf {

class Pattern {
 public:
  [[nodiscard]] static Result<Pattern> compile(std::string_view perl_like);
  bool search(std::string_view text) const;
  const std::string& source() const { return source_; }

 private:
  struct Compiled;
  std::string source_;
  std::shared_ptr<const Compiled> re_;
};

// Exposed for tests: the POSIX ERE a Perl-like pattern becomes.
[[nodiscard]] Result<std::string> perl_to_ere(std::string_view perl_like);

}  // namespace gf
