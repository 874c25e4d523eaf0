#pragma once
// The admin socket's commands (`greyflux greylist|whitelist|stats`), the codec half.
//
// A connection carries one command: a line of words separated by spaces or tabs, ended by "\n"
// (a "\r" before it is a separator too). The commands:
//
//   greylist list [PATTERN]      greylist show PATTERN      greylist delete PATTERN
//   whitelist list               whitelist add|remove client|recipient ENTRY
//   stats
//
// Flow: the admin door appends the received bytes to a buffer and calls frame_command() until
// it stops answering NeedMore; a Complete line goes to parse_command(), which returns the
// Command or an error. The adapter answers "error: <message>\n" for a parse error and closes
// the connection on a framing error. Nothing here throws, and a line longer than
// kMaxLineBytes is refused before it is split. Error messages are one line, printable ASCII,
// with at most kMaxEchoBytes of the client's text in them: safe to log and to send back.
//
// Semantics the parser fixes: a PATTERN is matched case-insensitively against store keys, so
// it is returned lower-cased; a whitelist ENTRY is returned as given (the whitelist parses it
// and has its own errors). Extra words are an error, never ignored.
#include <cstddef>
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace gf::admin {

inline constexpr std::size_t kMaxLineBytes = 4096;  // one command line, without its "\n"
inline constexpr std::size_t kMaxEchoBytes = 40;    // client text quoted in an error

enum class Verb {
  GreylistList,    // pattern may be empty (every triplet)
  GreylistShow,    // pattern not empty
  GreylistDelete,  // pattern not empty
  WhitelistList,
  WhitelistAdd,     // list + entry
  WhitelistRemove,  // list + entry
  Stats,
};

enum class ListKind { Client, Recipient };

struct Command {
  Verb verb = Verb::Stats;
  std::string pattern;               // greylist *: lower-cased
  ListKind list = ListKind::Client;  // whitelist add/remove
  std::string entry;                 // whitelist add/remove: as given

  bool operator==(const Command&) const = default;
};

enum class FrameStatus { NeedMore, Complete, Error };

struct FrameOutcome {
  FrameStatus status = FrameStatus::NeedMore;
  std::string_view line;  // Complete: the command line, without "\n"; a view into the buffer
  std::string error;      // Error: one line, safe to log
};

// Finds the command line at the front of `buffer`: NeedMore until a "\n" arrives, Error when
// the line is (or already is, without its "\n") longer than kMaxLineBytes.
[[nodiscard]] FrameOutcome frame_command(std::string_view buffer);

// Parses one command line (no "\n" inside; a "\r" or "\n" anywhere is only a separator).
[[nodiscard]] Result<Command> parse_command(std::string_view line);

// The canonical text of a command: parse_command(format_command(c)) == c for every parsed c.
[[nodiscard]] std::string format_command(const Command& c);

// "usage: greylist list [PATTERN] | ... | stats"
[[nodiscard]] std::string_view usage();

}  // namespace gf::admin
