// The admin command codec (core/admin/command.hpp): framing, every command, every error.
#include "core/admin/command.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gf::admin {
namespace {

Command parsed(std::string_view line) {
  auto c = parse_command(line);
  EXPECT_TRUE(c.has_value()) << line << ": " << (c ? "" : c.error().message);
  return c ? *c : Command{};
}

std::string error_of(std::string_view line) {
  auto c = parse_command(line);
  EXPECT_FALSE(c.has_value()) << line << " parsed as " << (c ? format_command(*c) : "");
  if (c) {
    return {};
  }
  EXPECT_EQ(c.error().code, Errc::InvalidInput);
  EXPECT_EQ(c.error().message.find('\n'), std::string::npos) << "one line";
  return c.error().message;
}

TEST(AdminFrame, NeedsTheNewline) {
  EXPECT_EQ(frame_command("").status, FrameStatus::NeedMore);
  EXPECT_EQ(frame_command("stats").status, FrameStatus::NeedMore);
  const FrameOutcome f = frame_command("stats\nleftover");
  ASSERT_EQ(f.status, FrameStatus::Complete);
  EXPECT_EQ(f.line, "stats");
  const FrameOutcome empty = frame_command("\n");
  ASSERT_EQ(empty.status, FrameStatus::Complete);
  EXPECT_EQ(empty.line, "");
}

TEST(AdminFrame, RefusesALineOverTheLimitWithOrWithoutItsNewline) {
  const std::string at_limit(kMaxLineBytes, 'x');
  EXPECT_EQ(frame_command(at_limit).status, FrameStatus::NeedMore);
  EXPECT_EQ(frame_command(at_limit + "\n").status, FrameStatus::Complete);
  const FrameOutcome open = frame_command(at_limit + "x");
  EXPECT_EQ(open.status, FrameStatus::Error);
  EXPECT_EQ(open.error, "admin command too long");
  EXPECT_EQ(frame_command(at_limit + "x\n").status, FrameStatus::Error);
}

TEST(AdminCommand, ParsesEveryCommand) {
  EXPECT_EQ(parsed("stats"), Command{});
  EXPECT_EQ(parsed("greylist list"), (Command{Verb::GreylistList, "", ListKind::Client, ""}));
  EXPECT_EQ(parsed("greylist list 192.0.2"),
            (Command{Verb::GreylistList, "192.0.2", ListKind::Client, ""}));
  EXPECT_EQ(parsed("greylist show a@x.example"),
            (Command{Verb::GreylistShow, "a@x.example", ListKind::Client, ""}));
  EXPECT_EQ(parsed("greylist delete x.example"),
            (Command{Verb::GreylistDelete, "x.example", ListKind::Client, ""}));
  EXPECT_EQ(parsed("whitelist list"), (Command{Verb::WhitelistList, "", ListKind::Client, ""}));
  EXPECT_EQ(parsed("whitelist add client 198.51.100.0/24"),
            (Command{Verb::WhitelistAdd, "", ListKind::Client, "198.51.100.0/24"}));
  EXPECT_EQ(parsed("whitelist remove recipient postmaster@"),
            (Command{Verb::WhitelistRemove, "", ListKind::Recipient, "postmaster@"}));
}

TEST(AdminCommand, PatternsAreLowerCasedAndEntriesKeptAsGiven) {
  EXPECT_EQ(parsed("greylist show A@X.Example").pattern, "a@x.example");
  EXPECT_EQ(parsed("whitelist add recipient PostMaster@Example.ORG").entry,
            "PostMaster@Example.ORG");
  // Bytes above ASCII pass through (a pattern may be UTF-8); only ASCII letters change case.
  EXPECT_EQ(parsed("greylist list \xc3\x89T\xc3\xa9").pattern, "\xc3\x89t\xc3\xa9");
}

TEST(AdminCommand, SpacesTabsAndCarriageReturnsSeparateWords) {
  EXPECT_EQ(parsed("  stats  "), Command{});
  EXPECT_EQ(parsed("stats\r"), Command{});
  EXPECT_EQ(parsed("\twhitelist\t add  client\t10.0.0.1 \r").entry, "10.0.0.1");
}

TEST(AdminCommand, EmptyAndUnknownCommandsNameTheUsage) {
  EXPECT_EQ(error_of(""), "empty command; " + std::string(usage()));
  EXPECT_EQ(error_of(" \t "), "empty command; " + std::string(usage()));
  EXPECT_EQ(error_of("reboot now"), "unknown command 'reboot'; " + std::string(usage()));
  EXPECT_EQ(error_of("STATS"), "unknown command 'STATS'; " + std::string(usage()));
  EXPECT_TRUE(usage().starts_with("usage: greylist list [PATTERN]"));
}

TEST(AdminCommand, GreylistErrors) {
  EXPECT_EQ(error_of("greylist"), "greylist needs list, show or delete; " + std::string(usage()));
  EXPECT_EQ(error_of("greylist purge"),
            "greylist: unknown subcommand 'purge' (list, show or delete)");
  EXPECT_EQ(error_of("greylist show"),
            "greylist show needs a PATTERN (an address, sender, recipient or domain)");
  EXPECT_EQ(error_of("greylist delete"), "greylist delete needs a PATTERN");
  EXPECT_EQ(error_of("greylist list a b"), "greylist list takes one PATTERN (no spaces)");
  EXPECT_EQ(error_of("greylist delete a b c d e f g h"),
            "greylist delete takes one PATTERN (no spaces)");
}

TEST(AdminCommand, WhitelistErrors) {
  EXPECT_EQ(error_of("whitelist"), "whitelist needs add, remove or list; " + std::string(usage()));
  EXPECT_EQ(error_of("whitelist drop client x"),
            "whitelist: unknown subcommand 'drop' (add, remove or list)");
  EXPECT_EQ(error_of("whitelist list client"), "whitelist list takes no arguments");
  EXPECT_EQ(error_of("whitelist add"), "whitelist add needs client|recipient and an ENTRY");
  EXPECT_EQ(error_of("whitelist remove sender a@b"),
            "whitelist remove: 'sender' is neither client nor recipient");
  EXPECT_EQ(error_of("whitelist add client"), "whitelist add client needs an ENTRY");
  EXPECT_EQ(error_of("whitelist add client not a/valid"),
            "whitelist add client takes one ENTRY (no spaces)");
}

TEST(AdminCommand, StatsTakesNoArguments) {
  EXPECT_EQ(error_of("stats now"), "stats takes no arguments");
}

TEST(AdminCommand, ControlBytesAndOverlongLinesAreRefused) {
  EXPECT_EQ(error_of(std::string("stats\0", 6)), "admin command contains control byte 0x00");
  EXPECT_EQ(error_of("greylist list a\x1b[2J"), "admin command contains control byte 0x1b");
  EXPECT_EQ(error_of("greylist list \x7f"), "admin command contains control byte 0x7f");
  const std::string longest = "greylist list " + std::string(kMaxLineBytes - 14, 'a');
  EXPECT_EQ(parsed(longest).pattern.size(), kMaxLineBytes - 14);
  EXPECT_EQ(error_of(longest + "a"), "admin command too long (4097 bytes, at most 4096)");
}

TEST(AdminCommand, ErrorsQuoteAtMostABoundedPrintablePrefix) {
  const std::string word = "\xff" + std::string(100, 'z');
  const std::string e = error_of(word);
  EXPECT_EQ(e, "unknown command '?" + std::string(kMaxEchoBytes - 1, 'z') + "...'; " +
                   std::string(usage()));
}

TEST(AdminCommand, FormatIsCanonicalAndParsesBack) {
  for (std::string_view line :
       {"stats", "greylist list", "greylist list 192.0.2", "greylist show a@x.example",
        "greylist delete x", "whitelist list", "whitelist add client 10.0.0.0/8",
        "whitelist remove recipient postmaster@"}) {
    const Command c = parsed(line);
    EXPECT_EQ(format_command(c), line);
    EXPECT_EQ(parsed(format_command(c)), c);
  }
}

}  // namespace
}  // namespace gf::admin
