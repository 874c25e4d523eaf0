#pragma once
// The milter protocol (version 6, as Postfix >= 2.6 and Sendmail 8.14 speak it), the codec half.
//
// Every packet in both directions is a 4-byte big-endian length, then a command byte, then
// length - 1 bytes of payload. The MTA sends commands (connect, helo, envelope, headers, body
// chunks, end of message, abort, quit); the filter answers most of them with one reply packet,
// except the steps the two sides agreed in option negotiation to skip or not to answer.
//
// Flow: the adapter appends received bytes to a buffer and calls decode_command() on it until it
// answers NeedMore; each Complete result carries one typed Command and says how many bytes it
// consumed. An Error means the connection is beyond repair (a packet over the limit, an unknown
// command, a payload that does not parse): the adapter logs the one-line message and closes that
// connection only. Replies are built by the encode_* functions. Which command needs a reply, and
// message boundaries, are kept by milter::Session (session.hpp), not here.
//
// Nothing here allocates more than the packet limit per call, reads outside the buffer, or throws.
// encode_command() exists for tests, fuzzing and load generators that play the MTA.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/common/result.hpp"

namespace gf::milter {

inline constexpr std::uint32_t kProtocolVersion = 6;

// Commands, MTA -> filter (SMFIC_*).
namespace cmd {
inline constexpr char kAbort = 'A';
inline constexpr char kBody = 'B';
inline constexpr char kConnect = 'C';
inline constexpr char kMacro = 'D';
inline constexpr char kEndOfMessage = 'E';
inline constexpr char kHelo = 'H';
inline constexpr char kQuitNewConnection = 'K';
inline constexpr char kHeader = 'L';
inline constexpr char kMail = 'M';
inline constexpr char kEndOfHeaders = 'N';
inline constexpr char kOptionNegotiation = 'O';
inline constexpr char kQuit = 'Q';
inline constexpr char kRcpt = 'R';
inline constexpr char kData = 'T';
inline constexpr char kUnknown = 'U';
}  // namespace cmd

// Replies, filter -> MTA (SMFIR_*), the ones greyflux sends.
namespace reply {
inline constexpr char kAccept = 'a';
inline constexpr char kContinue = 'c';
inline constexpr char kDiscard = 'd';
inline constexpr char kAddHeader = 'h';
inline constexpr char kInsertHeader = 'i';
inline constexpr char kChangeHeader = 'm';
inline constexpr char kOptionNegotiation = 'O';
inline constexpr char kProgress = 'p';
inline constexpr char kQuarantine = 'q';
inline constexpr char kReject = 'r';
inline constexpr char kSkip = 's';
inline constexpr char kTempfail = 't';
inline constexpr char kReplyCode = 'y';
}  // namespace reply

// Actions the filter may take at end of message (SMFIF_*).
namespace action {
inline constexpr std::uint32_t kAddHeaders = 0x01;
inline constexpr std::uint32_t kChangeBody = 0x02;
inline constexpr std::uint32_t kAddRcpt = 0x04;
inline constexpr std::uint32_t kDeleteRcpt = 0x08;
inline constexpr std::uint32_t kChangeHeaders = 0x10;
inline constexpr std::uint32_t kQuarantine = 0x20;
inline constexpr std::uint32_t kChangeFrom = 0x40;
inline constexpr std::uint32_t kAddRcptWithArgs = 0x80;
inline constexpr std::uint32_t kSetSymbolList = 0x100;
}  // namespace action

// Protocol steps (SMFIP_*): the MTA offers them, the filter picks a subset.
namespace step {
inline constexpr std::uint32_t kNoConnect = 0x1;
inline constexpr std::uint32_t kNoHelo = 0x2;
inline constexpr std::uint32_t kNoMail = 0x4;
inline constexpr std::uint32_t kNoRcpt = 0x8;
inline constexpr std::uint32_t kNoBody = 0x10;
inline constexpr std::uint32_t kNoHeaders = 0x20;
inline constexpr std::uint32_t kNoEndOfHeaders = 0x40;
inline constexpr std::uint32_t kNoReplyHeader = 0x80;  // SMFIP_NR_HDR
inline constexpr std::uint32_t kNoUnknown = 0x100;
inline constexpr std::uint32_t kNoData = 0x200;
inline constexpr std::uint32_t kSkip = 0x400;  // the MTA understands SMFIR_SKIP
inline constexpr std::uint32_t kRcptRejected = 0x800;
inline constexpr std::uint32_t kNoReplyConnect = 0x1000;
inline constexpr std::uint32_t kNoReplyHelo = 0x2000;
inline constexpr std::uint32_t kNoReplyMail = 0x4000;
inline constexpr std::uint32_t kNoReplyRcpt = 0x8000;
inline constexpr std::uint32_t kNoReplyData = 0x10000;
inline constexpr std::uint32_t kNoReplyUnknown = 0x20000;
inline constexpr std::uint32_t kNoReplyEndOfHeaders = 0x40000;
inline constexpr std::uint32_t kNoReplyBody = 0x80000;
inline constexpr std::uint32_t kHeaderLeadingSpace = 0x100000;
}  // namespace step

struct Limits {
  // One packet's length field (command byte + payload). Postfix and Sendmail send body chunks of
  // at most 65535 bytes; 1 MiB leaves room for Sendmail's SMFIP_MDS_1M and long macro lists.
  std::size_t max_packet_bytes = 1024 * 1024;
  std::size_t max_message_bytes = 64 * 1024 * 1024;  // headers + body of one message
  std::size_t max_recipients = 1000;
  std::size_t max_macro_bytes = 64 * 1024;  // names + values kept per connection
};

struct OptionNegotiation {
  std::uint32_t version = 0;
  std::uint32_t actions = 0;
  std::uint32_t steps = 0;
  bool operator==(const OptionNegotiation&) const = default;
};
struct Macros {
  char for_command = 0;  // the command these macros belong to
  std::vector<std::pair<std::string, std::string>> pairs;
  bool operator==(const Macros&) const = default;
};
enum class Family : char { Unknown = 'U', Unix = 'L', Inet = '4', Inet6 = '6' };
struct Connect {
  std::string hostname;
  Family family = Family::Unknown;
  std::uint16_t port = 0;  // 0 for Unknown and Unix
  std::string address;     // IP text, or the socket path for Unix; empty for Unknown
  bool operator==(const Connect&) const = default;
};
struct Helo {
  std::string name;
  bool operator==(const Helo&) const = default;
};
struct Mail {
  std::vector<std::string> args;  // args[0] is the sender "<a@b>", the rest ESMTP parameters
  bool operator==(const Mail&) const = default;
};
struct Rcpt {
  std::vector<std::string> args;  // args[0] is the recipient
  bool operator==(const Rcpt&) const = default;
};
struct Header {
  std::string name;
  std::string value;
  bool operator==(const Header&) const = default;
};
struct EndOfHeaders {
  bool operator==(const EndOfHeaders&) const = default;
};
struct Body {
  std::string chunk;
  bool operator==(const Body&) const = default;
};
struct EndOfMessage {
  std::string chunk;  // a last body chunk; Sendmail and Postfix send it empty
  bool operator==(const EndOfMessage&) const = default;
};
struct Abort {
  bool operator==(const Abort&) const = default;
};
struct Quit {
  bool operator==(const Quit&) const = default;
};
struct QuitNewConnection {
  bool operator==(const QuitNewConnection&) const = default;
};
struct Data {
  bool operator==(const Data&) const = default;
};
struct Unknown {
  std::string line;  // the SMTP command the MTA did not recognise
  bool operator==(const Unknown&) const = default;
};

using Command =
    std::variant<OptionNegotiation, Macros, Connect, Helo, Mail, Rcpt, Header, EndOfHeaders, Body,
                 EndOfMessage, Abort, Quit, QuitNewConnection, Data, Unknown>;

enum class DecodeStatus { NeedMore, Complete, Error };

struct DecodeOutcome {
  DecodeStatus status = DecodeStatus::NeedMore;
  std::size_t consumed = 0;  // bytes of the buffer used by a Complete command
  Command command;
  std::string error;  // for Error: one line, safe to log
};

// The length-prefixed frame at the front of `buf`, either direction: its code byte and payload
// once it is whole. `noun` and `code_name` word the error line ("milter packet", "command byte").
struct PacketFrame {
  DecodeStatus status = DecodeStatus::NeedMore;
  char code = 0;
  std::string_view payload;  // into `buf`
  std::size_t consumed = 0;  // length prefix + code + payload
  std::string error;         // for Error: one line, safe to log
};
PacketFrame frame_packet(std::string_view buf, const Limits& limits, std::string_view noun,
                         std::string_view code_name);

// Decodes the first packet at the front of `buf`. NeedMore never consumes anything.
DecodeOutcome decode_command(std::string_view buf, const Limits& limits);

// The wire form of a command (length prefix included).
std::string encode_command(const Command& command);

// Filter replies. Texts with a NUL are refused: the field would end early on the MTA's side.
std::string encode_negotiation(const OptionNegotiation& answer);
// Continue, Accept, Reject, Tempfail, Discard, Progress, Skip: a bare reply code.
std::string encode_simple(char reply_code);
// "451 4.7.1 Greylisted, try again later": a 4xx or 5xx code, an optional enhanced status, text.
[[nodiscard]] Result<std::string> encode_reply_code(std::string_view smtp_reply);
[[nodiscard]] Result<std::string> encode_add_header(std::string_view name, std::string_view value);
// index counts from 0 (before the first header); Postfix and Sendmail agree on that.
[[nodiscard]] Result<std::string> encode_insert_header(std::uint32_t index, std::string_view name,
                                                       std::string_view value);
// index is the 1-based occurrence of `name`; an empty value deletes the header.
[[nodiscard]] Result<std::string> encode_change_header(std::uint32_t index, std::string_view name,
                                                       std::string_view value);
[[nodiscard]] Result<std::string> encode_quarantine(std::string_view reason);

}  // namespace gf::milter
