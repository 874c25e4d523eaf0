#pragma once
// Client and recipient whitelists in postgrey's file formats, read unchanged.
//
// Client file, one entry a line ('#' starts a comment):
//   /regex/            matched case-insensitively against the verified client name
//   192.0.2.1          an address;  192.0.2.0/24, 2001:db8::/32  a network
//   192.0.2 / 192.0    a partial IPv4 address (as postgrey: a /24 network)
//   example.com        that host name or any name below it
// Recipient file:
//   /regex/            matched against the whole recipient address
//   user@domain        that address (also user+ext@domain);  user@  that user at any domain
//   domain             any address at that domain or below it
// Lines that fit no form are reported as warnings and skipped, as postgrey does; a regex that
// does not compile is a warning too. Regexes run on glibc's POSIX engine (see pattern.hpp), so
// no pattern can make a request hang. Host name entries never match the name "unknown", which
// Postfix sends when the client has no verified name.
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/common/ip.hpp"
#include "core/common/pattern.hpp"

namespace gf::greylist {

struct ParseWarning {
  std::string source;
  int line = 0;
  std::string message;
};

class ClientWhitelist {
 public:
  // Adds the entries of one file's text; returns the warnings for lines that were skipped.
  std::vector<ParseWarning> add_text(std::string_view text, std::string_view source);
  // Adds one entry; false if it fits no form.
  bool add_entry(std::string_view entry, std::string* why = nullptr);
  bool remove_entry(std::string_view entry);

  // client_name is Postfix's verified name (or "unknown").
  bool matches(const IpAddress& ip, std::string_view client_name) const;
  std::size_t size() const { return entries_.size(); }
  const std::vector<std::string>& entries() const { return entries_; }

 private:
  std::vector<std::string> entries_;  // as written, for listing and removal
  std::vector<Cidr> networks_;
  std::unordered_set<std::string> names_;  // lowercase host names and domain suffixes
  std::vector<Pattern> regexes_;
};

class RecipientWhitelist {
 public:
  std::vector<ParseWarning> add_text(std::string_view text, std::string_view source);
  bool add_entry(std::string_view entry, std::string* why = nullptr);
  bool remove_entry(std::string_view entry);

  bool matches(std::string_view recipient) const;
  std::size_t size() const { return entries_.size(); }
  const std::vector<std::string>& entries() const { return entries_; }

 private:
  std::vector<std::string> entries_;
  std::unordered_set<std::string> addresses_;  // user@domain
  std::unordered_set<std::string> users_;      // user (from "user@")
  std::unordered_set<std::string> domains_;    // domain suffixes
  std::vector<Pattern> regexes_;
};

}  // namespace gf::greylist
