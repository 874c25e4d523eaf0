#pragma once
// Mail message analysis input: one RFC 5322 message (bytes as received) walked into the pieces
// the scanner needs, with GMime 3 doing the MIME parsing.
//
// Why GMime lives in src/core: it is a pure parsing library. greyflux only hands it memory
// streams (g_mime_stream_mem), never files, sockets or its crypto contexts, so the core stays
// free of I/O; GLib's global state is limited to g_mime_init(), run once under std::call_once.
//
// Flow of parse_message(raw, limits):
//   GMime parser (memory stream, parser warnings collected as defects)  ->  headers: decoded
//   Subject, From/Reply-To addresses, Received hops, Message-ID, X-Mailer/User-Agent  ->  depth-
//   first walk of the MIME tree (multipart, message/rfc822) bounded by max_parts and max_depth
//   ->  each text/plain and text/html leaf: transfer encoding (base64, quoted-printable) decoded
//   by GMime, charset converted to UTF-8 (unknown charset: windows-1252 fallback, counted as a
//   defect), HTML turned into text with its hrefs kept  ->  URIs extracted from text and hrefs
//   ->  every other leaf recorded as (content type, file name).
// A message GMime cannot make sense of still yields headers and raw text, plus defects.
//
// Threading: parse_message may run on many threads at once (no shared mutable state after
// init). Errors: none; any byte string is accepted and bounded (text and URI counts capped).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gf::mime {

struct Limits {
  std::size_t max_parts = 200;          // leaves and containers walked; more is a defect
  std::size_t max_depth = 20;           // nesting of multiparts / attached messages
  std::size_t max_text_bytes = 256 * 1024;  // UTF-8 body text kept for analysis
  std::size_t max_uris = 200;
  std::size_t max_received = 20;
  std::size_t head_bytes = 4096;  // raw bytes kept in Message::head (byte n-gram features)
};

struct Address {
  std::string name;    // display name, UTF-8
  std::string addr;    // local@domain, as written
  std::string domain;  // lower case, after the last '@'
};

struct Attachment {
  std::string content_type;  // lower case "type/subtype"
  std::string filename;      // UTF-8, may be empty
  std::size_t size = 0;      // decoded bytes (0 when not decoded)
};

struct Message {
  std::string subject;
  std::vector<Address> from;
  std::vector<Address> reply_to;
  std::string to;  // decoded To header
  std::string message_id;  // without angle brackets
  std::string mailer;      // X-Mailer, else User-Agent
  std::vector<std::string> received;  // Received headers, newest first, unfolded
  std::vector<std::string> header_names;  // every top-level header name, in order
  std::string text;            // plain text of the body parts, UTF-8, bounded
  std::string html_text;       // text of the HTML parts (also appended to `text`)
  std::vector<std::string> uris;  // from text and href/src, deduplicated, in order found
  std::vector<Attachment> attachments;
  std::vector<std::string> charsets;  // declared charsets of text parts (lower case)
  std::vector<std::string> defects;   // short names: "multipart-without-boundary", ...
  std::size_t parts = 0;  // MIME objects walked
  std::size_t max_depth = 0;
  bool has_text_plain = false;
  bool has_text_html = false;
  bool header_8bit = false;  // raw 8-bit bytes in the header block
  std::size_t raw_bytes = 0;
  std::string head;  // the first Limits::head_bytes bytes of the message, as received
};

[[nodiscard]] Message parse_message(std::string_view raw, const Limits& limits = {});

}  // namespace gf::mime
