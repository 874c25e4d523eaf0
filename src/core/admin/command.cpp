#include "core/admin/command.hpp"

#include <fmt/format.h>

#include <array>

#include "core/common/strings.hpp"

namespace gf::admin {
namespace {

constexpr std::string_view kUsage =
    "usage: greylist list [PATTERN] | greylist show PATTERN | greylist delete PATTERN | "
    "whitelist add|remove client|recipient ENTRY | whitelist list | stats";

// The most words any command has; one more tells "too many" apart.
constexpr std::size_t kMaxWords = 4;

bool is_separator(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && !is_separator(c)) || u == 0x7f;
}

// The client's text as an error may quote it: printable ASCII, bounded.
std::string echo(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, kMaxEchoBytes)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  if (s.size() > kMaxEchoBytes) {
    out += "...";
  }
  return out;
}

struct Words {
  std::array<std::string_view, kMaxWords + 1> w{};
  std::size_t n = 0;  // at most kMaxWords + 1: the last slot only says "too many"

  std::string_view operator[](std::size_t i) const { return i < n ? w[i] : std::string_view(); }
};

Words split_words(std::string_view line) {
  Words out;
  std::size_t i = 0;
  while (i < line.size() && out.n <= kMaxWords) {
    while (i < line.size() && is_separator(line[i])) {
      ++i;
    }
    const std::size_t start = i;
    while (i < line.size() && !is_separator(line[i])) {
      ++i;
    }
    if (i > start) {
      out.w[out.n++] = line.substr(start, i - start);
    }
  }
  return out;
}

tl::unexpected<Error> bad(std::string message) {
  return fail(Errc::InvalidInput, std::move(message));
}

Result<Command> parse_greylist(const Words& w) {
  Command c;
  const std::string_view sub = w[1];
  if (sub == "list") {
    c.verb = Verb::GreylistList;
  } else if (sub == "show") {
    c.verb = Verb::GreylistShow;
  } else if (sub == "delete") {
    c.verb = Verb::GreylistDelete;
  } else if (sub.empty()) {
    return bad("greylist needs list, show or delete; " + std::string(kUsage));
  } else {
    return bad(fmt::format("greylist: unknown subcommand '{}' (list, show or delete)", echo(sub)));
  }
  if (w.n > 3) {
    return bad(fmt::format("greylist {} takes one PATTERN (no spaces)", sub));
  }
  c.pattern = ascii_lower(w[2]);
  if (c.pattern.empty() && c.verb == Verb::GreylistShow) {
    return bad("greylist show needs a PATTERN (an address, sender, recipient or domain)");
  }
  if (c.pattern.empty() && c.verb == Verb::GreylistDelete) {
    return bad("greylist delete needs a PATTERN");
  }
  return c;
}

Result<Command> parse_whitelist(const Words& w) {
  Command c;
  const std::string_view sub = w[1];
  if (sub == "list") {
    if (w.n > 2) {
      return bad("whitelist list takes no arguments");
    }
    c.verb = Verb::WhitelistList;
    return c;
  }
  if (sub == "add") {
    c.verb = Verb::WhitelistAdd;
  } else if (sub == "remove") {
    c.verb = Verb::WhitelistRemove;
  } else if (sub.empty()) {
    return bad("whitelist needs add, remove or list; " + std::string(kUsage));
  } else {
    return bad(fmt::format("whitelist: unknown subcommand '{}' (add, remove or list)", echo(sub)));
  }
  const std::string_view kind = w[2];
  if (kind == "client") {
    c.list = ListKind::Client;
  } else if (kind == "recipient") {
    c.list = ListKind::Recipient;
  } else if (kind.empty()) {
    return bad(fmt::format("whitelist {} needs client|recipient and an ENTRY", sub));
  } else {
    return bad(fmt::format("whitelist {}: '{}' is neither client nor recipient", sub, echo(kind)));
  }
  if (w.n < 4) {
    return bad(fmt::format("whitelist {} {} needs an ENTRY", sub, kind));
  }
  if (w.n > 4) {
    return bad(fmt::format("whitelist {} {} takes one ENTRY (no spaces)", sub, kind));
  }
  c.entry = std::string(w[3]);
  return c;
}

}  // namespace

FrameOutcome frame_command(std::string_view buffer) {
  FrameOutcome out;
  const std::size_t nl = buffer.find('\n');
  const std::size_t line_bytes = nl == std::string_view::npos ? buffer.size() : nl;
  if (line_bytes > kMaxLineBytes) {
    out.status = FrameStatus::Error;
    out.error = "admin command too long";
    return out;
  }
  if (nl != std::string_view::npos) {
    out.status = FrameStatus::Complete;
    out.line = buffer.substr(0, nl);
  }
  return out;
}

Result<Command> parse_command(std::string_view line) {
  if (line.size() > kMaxLineBytes) {
    return bad(
        fmt::format("admin command too long ({} bytes, at most {})", line.size(), kMaxLineBytes));
  }
  for (char c : line) {
    if (is_control(c)) {
      return bad(fmt::format("admin command contains control byte 0x{:02x}",
                             static_cast<unsigned char>(c)));
    }
  }
  const Words w = split_words(line);
  const std::string_view verb = w[0];
  if (verb == "greylist") {
    return parse_greylist(w);
  }
  if (verb == "whitelist") {
    return parse_whitelist(w);
  }
  if (verb == "stats") {
    if (w.n > 1) {
      return bad("stats takes no arguments");
    }
    return Command{};
  }
  if (verb.empty()) {
    return bad("empty command; " + std::string(kUsage));
  }
  return bad(fmt::format("unknown command '{}'; {}", echo(verb), kUsage));
}

std::string format_command(const Command& c) {
  const std::string_view list = c.list == ListKind::Client ? "client" : "recipient";
  switch (c.verb) {
    case Verb::GreylistList:
      return c.pattern.empty() ? "greylist list" : "greylist list " + c.pattern;
    case Verb::GreylistShow:
      return "greylist show " + c.pattern;
    case Verb::GreylistDelete:
      return "greylist delete " + c.pattern;
    case Verb::WhitelistList:
      return "whitelist list";
    case Verb::WhitelistAdd:
      return fmt::format("whitelist add {} {}", list, c.entry);
    case Verb::WhitelistRemove:
      return fmt::format("whitelist remove {} {}", list, c.entry);
    case Verb::Stats:
      return "stats";
  }
  return "stats";
}

std::string_view usage() { return kUsage; }

}  // namespace gf::admin
