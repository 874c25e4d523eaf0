#pragma once
// The MTA's side of the milter protocol: what a program that plays Postfix needs on top of
// codec.hpp (whose encode_command() already writes every MTA command). Used by the load generator
// bench/milter_load.cpp and by tests that talk to a milter as Postfix would.
//
// Flow: the caller splits a stored RFC 5322 message into the header fields and the CRLF body the
// MTA sends (split_message, body_chunks), writes the commands with encode_command(), skipping the
// steps the filter asked to skip (step_skipped) and reading a reply only where one is due
// (reply_expected). Replies from the filter are read with decode_reply(), the same streaming
// shape as decode_command(): NeedMore / Complete / Error. At end of message the filter sends any
// number of modifications (is_modification) and then one final reply (is_final).
//
// Pure: no sockets, no clock. Nothing throws; untrusted bytes (the filter's replies, the stored
// message) come back as errors with one loggable line. Memory is bounded by the input and, for
// replies, by Limits::max_packet_bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/result.hpp"
#include "core/milter/codec.hpp"

namespace gf::milter {

// Every reply a filter may send (SMFIR_*), including the modifications greyflux never sends.
enum class ReplyKind : char {
  Negotiation = 'O',
  Continue = 'c',
  Accept = 'a',
  Reject = 'r',
  Tempfail = 't',
  Discard = 'd',
  ReplyCode = 'y',  // an SMTP reply: 4xx works as a tempfail, 5xx as a reject
  Skip = 's',       // no more body chunks for this message
  Progress = 'p',   // keep waiting
  Quarantine = 'q',
  AddHeader = 'h',
  InsertHeader = 'i',
  ChangeHeader = 'm',
  AddRcpt = '+',
  AddRcptWithArgs = '2',
  DeleteRcpt = '-',
  ChangeFrom = 'e',
  ReplaceBody = 'b',
  Shutdown = '4',
  ConnectionFail = 'f',
};

struct Reply {
  ReplyKind kind = ReplyKind::Continue;
  OptionNegotiation negotiation;  // Negotiation
  // Negotiation (v6): the macros the filter wants per stage (SMFIM_* index, space-separated names).
  std::vector<std::pair<std::uint32_t, std::string>> macro_lists;
  // ReplyCode: the SMTP reply; Quarantine: the reason; AddRcpt/DeleteRcpt/ChangeFrom: the
  // address; ReplaceBody: the chunk.
  std::string text;
  std::vector<std::string> args;  // AddRcptWithArgs / ChangeFrom: the ESMTP arguments after it
  std::uint32_t index = 0;        // InsertHeader / ChangeHeader
  std::string name;               // header replies
  std::string value;
};

struct ReplyOutcome {
  DecodeStatus status = DecodeStatus::NeedMore;
  std::size_t consumed = 0;
  Reply reply;
  std::string error;  // for Error: one line, safe to log
};

// Decodes the first reply packet at the front of `buf`. NeedMore never consumes anything. Strict
// like decode_command(): exact payload shapes, no trailing bytes, a length over
// limits.max_packet_bytes fails before its payload arrives.
ReplyOutcome decode_reply(std::string_view buf, const Limits& limits);

// The reply that ends the filter's answer to a command (everything but modifications and
// Progress).
bool is_final(ReplyKind kind);
// A change to the message (headers, recipients, sender, body) or a quarantine request.
bool is_modification(ReplyKind kind);

// With the steps the filter asked for in negotiation: whether the MTA leaves `command_code` out
// (SMFIP_NO*), and whether it waits for a reply after sending it (SMFIP_NR_*; negotiation and end
// of message are always answered; macros, abort and quit never are).
bool step_skipped(char command_code, std::uint32_t filter_steps);
bool reply_expected(char command_code, std::uint32_t filter_steps);

// A stored message as the MTA hands it to a milter: the header fields in order (the value
// without the blanks after the colon, folded lines joined with "\n" and their leading whitespace
// kept, as Postfix sends them) and the body with CRLF line ends. A leading mbox "From " line is
// dropped; a line that is not a header field ends the header section and starts the body.
struct MessageParts {
  std::vector<Header> headers;
  std::string body;
};
// Errors: a NUL byte in a header field (the milter field would end early).
[[nodiscard]] Result<MessageParts> split_message(std::string_view raw);

// The body cut into chunks of at most `max_chunk` bytes (Postfix: 65535), views into `body`.
// An empty body has no chunks. Precondition: max_chunk > 0.
std::vector<std::string_view> body_chunks(std::string_view body, std::size_t max_chunk = 65535);

}  // namespace gf::milter
