#pragma once
// spamd protocol codec: SPAMC/1.x requests in, SPAMD/1.x replies out, as spamc, spamass-milter,
// Exim, Haraka and amavis speak it to SpamAssassin's spamd.
//
// A connection carries exactly one request:
//   "<METHOD> SPAMC/<version>\r\n" header lines "Name: value\r\n" ... "\r\n" <message bytes>
// and the server closes the connection after its reply. The message ends after Content-length
// bytes, or at end of input (the client's half-close) when there is no Content-length. Version
// 1.0 requests ("old protocol") carry no headers at all: the message follows the request line.
// With "Compress: zlib" the Content-length counts the compressed bytes.
//
// Flow: the adapter appends received bytes to a buffer and calls parse_request(buf, eof) after
// every read. The parser looks only at the request line and headers until the body is complete
// (so re-parsing a growing buffer costs O(headers), not O(message)), then returns Ready with the
// (inflated) message. Error carries the exact reply line to send before closing (EX_PROTOCOL,
// EX_UNAVAILABLE, EX_DATAERR for an over-limit message). SKIP is Ready with no reply.
// format_*() build the replies byte for byte as spamd 4.0 does for the same request version.
//
// Threading: pure functions. Errors: never throws on input; every malformed request is an
// Error outcome with a reply line that is safe to send and to log.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gf::spamd {

enum class Method { Check, Symbols, Report, ReportIfSpam, Process, Headers, Ping, Skip, Tell };

[[nodiscard]] std::string_view to_string(Method m);

// sysexits.h codes, as spamd reports them.
enum class ExitCode : int {
  Ok = 0,
  Usage = 64,
  DataErr = 65,
  NoInput = 66,
  NoUser = 67,
  NoHost = 68,
  Unavailable = 69,
  Software = 70,
  OsErr = 71,
  OsFile = 72,
  CantCreat = 73,
  IoErr = 74,
  TempFail = 75,
  Protocol = 76,
  NoPerm = 77,
  Config = 78,
  Timeout = 79,
};

[[nodiscard]] std::string_view exit_name(ExitCode c);  // "EX_OK", "EX_PROTOCOL", ...

struct Limits {
  std::size_t max_line_bytes = 8 * 1024;          // request line or one header line
  std::size_t max_headers = 255;                  // as spamd
  std::size_t max_message_bytes = 10 * 1024 * 1024;  // after inflation; more is EX_DATAERR
  std::size_t max_compressed_bytes = 10 * 1024 * 1024;
};

struct Request {
  Method method = Method::Check;
  int version_milli = 0;  // "1.5" -> 1500 (compared as spamd compares numbers)
  std::optional<std::size_t> content_length;
  std::string user;
  bool compress_zlib = false;
  std::string message_class;  // TELL: "spam" or "ham" (lower case), else empty
  bool set_local = false;
  bool set_remote = false;
  bool remove_local = false;
  bool remove_remote = false;
  std::string message;  // the message, inflated
  std::size_t wire_bytes = 0;  // bytes of the whole request as received
};

enum class ParseStatus { NeedMore, Ready, Error };

struct ParseOutcome {
  ParseStatus status = ParseStatus::NeedMore;
  Request request;       // for Ready
  std::string error;     // for Error: the reply line, "SPAMD/1.0 76 Bad header line: ...\r\n"
  std::string log;       // for Error: one line for the log, without the status prefix
};

// Parses the request at the front of `buf`. `eof` says the client has half-closed (or closed):
// no more bytes will come. Never reads past `buf`.
[[nodiscard]] ParseOutcome parse_request(std::string_view buf, bool eof, const Limits& limits);

// The error reply spamd sends for a protocol violation (code 76), an unavailable service (69)
// or a timeout (79), and greyflux's over-limit reply (65).
[[nodiscard]] std::string protocol_error(std::string_view what);
[[nodiscard]] std::string unavailable_error(std::string_view what);
[[nodiscard]] std::string timeout_error(std::string_view what);
[[nodiscard]] std::string too_big_error(std::size_t limit_bytes);

// What the analysis said about one message, in the form the replies need.
struct Verdict {
  bool is_spam = false;
  double score = 0.0;
  double required = 5.0;
  std::vector<std::string> symbols;  // names of the symbols that fired
  std::string report;                // REPORT body (text, CRLF or LF as produced)
  std::string rewritten;             // PROCESS: the message with X-Spam-* headers added
};

// "Spam: True ; 7.3 / 5.0" (REPORT_IFSPAM says Yes/No), with spamd's rounding rule: a message
// under the threshold never shows a score equal to it.
[[nodiscard]] std::string spam_header(const Request& req, const Verdict& v);
// spamd's score text: one decimal, and for a non-spam that would round up to the threshold,
// the threshold minus 0.1.
[[nodiscard]] std::string score_text(double score, double required, bool is_spam);

// The reply to a Ready request of any method but PING, SKIP and TELL.
[[nodiscard]] std::string format_reply(const Request& req, const Verdict& v);
// PING: "SPAMD/1.5 0 PONG\r\n".
[[nodiscard]] std::string format_pong();
// TELL: what was done ("local" in did_set or did_remove).
[[nodiscard]] std::string format_tell_reply(bool did_set_local, bool did_remove_local);

// Request builders (tests, benchmarks, the conformance client).
[[nodiscard]] std::string build_request(Method m, std::string_view message,
                                        std::string_view extra_headers = {},
                                        std::string_view version = "1.5");

// zlib inflate with an output bound; nullopt on corrupt data or when the bound is exceeded
// (`too_big` tells which).
[[nodiscard]] std::optional<std::string> inflate_zlib(std::string_view in, std::size_t max_out,
                                                      bool& too_big);
[[nodiscard]] std::string deflate_zlib(std::string_view in);

}  // namespace gf::spamd
