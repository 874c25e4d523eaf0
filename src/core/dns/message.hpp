#pragma once
// DNS messages (RFC 1035) from untrusted bytes: the decoder every passive source feeds.
//
// Flow: a source hands the bytes of one message to parse_message_into(), which fills a Message
// the caller keeps and reuses (names and record slots keep their capacity, so a long capture
// allocates almost nothing after warm-up). Only what the flux detector needs is kept: the
// question, and A, AAAA, CNAME and NS records of every section; other records are validated,
// counted and skipped.
//
// Error contract: never throws, never reads outside the buffer, never loops. Compression
// pointers must point strictly backwards (which alone rules out loops) and at most
// kMaxPointerJumps are followed; labels over 63 octets (the reserved 01/10 label types), names
// over 255 octets, records running past the end and bad RDATA lengths are reported as a
// ParseError that a source counts. Names come out in presentation form: lower-case, without the
// final dot, with \DDD escapes for octets outside [a-z0-9-_] and "\." for a dot inside a label.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/ip.hpp"
#include "core/common/result.hpp"

namespace gf::dns {

inline constexpr std::uint16_t kTypeA = 1;
inline constexpr std::uint16_t kTypeNs = 2;
inline constexpr std::uint16_t kTypeCname = 5;
inline constexpr std::uint16_t kTypeSoa = 6;
inline constexpr std::uint16_t kTypeAaaa = 28;
inline constexpr std::uint16_t kTypeAny = 255;
inline constexpr std::uint16_t kClassIn = 1;
inline constexpr int kMaxPointerJumps = 64;
inline constexpr std::size_t kMaxNameWire = 255;

enum class ParseError : std::uint8_t {
  None = 0,
  Truncated,        // the message ends inside a header, name or record
  BadPointer,       // a compression pointer at or beyond itself, or past the end
  CompressionLoop,  // more than kMaxPointerJumps pointers in one name
  LabelTooLong,     // label type 01 or 10 (a length byte over 63)
  NameTooLong,      // a name over 255 octets in wire form
  BadRdata,         // A/AAAA with the wrong length, a name not filling its RDATA
  NotResponse,      // a query (QR=0) handed to a response-only caller
  Count_,
};
std::string_view to_string(ParseError e);

enum class Section : std::uint8_t { Answer, Authority, Additional };

struct Record {
  Section section = Section::Answer;
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
  std::uint32_t ttl_s = 0;  // values with the top bit set are read as 0 (RFC 2181 8)
  std::string owner;        // presentation form
  IpAddress address;        // A and AAAA
  std::string target;       // CNAME and NS
};

class Message {
 public:
  std::uint16_t id = 0;
  bool qr = false, aa = false, tc = false, rd = false, ra = false;
  std::uint8_t opcode = 0;
  std::uint8_t rcode = 0;
  std::uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
  std::string qname;  // first question only ("" when QDCOUNT is 0)
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;
  std::uint32_t skipped_records = 0;  // records of other types

  std::span<const Record> records() const { return {records_.data(), used_}; }
  void reset();
  Record& add_record();  // reuses a slot left by a previous message

 private:
  std::vector<Record> records_;
  std::size_t used_ = 0;
};

// Decodes one message into `out` (reset first). Returns ParseError::None on success.
[[nodiscard]] ParseError parse_message_into(std::span<const std::uint8_t> bytes, Message& out);

// Convenience form for tests and one-off callers.
[[nodiscard]] Result<Message> parse_message(std::span<const std::uint8_t> bytes);

// Reads a (possibly compressed) name at `offset`; on success `next` is the offset just after the
// name as it is written at `offset` and `text` holds its presentation form.
[[nodiscard]] ParseError read_name(std::span<const std::uint8_t> msg, std::size_t offset,
                                   std::size_t& next, std::string& text);

// Presentation text <-> wire labels, for writers and round-trip checks. name_from_text accepts
// escapes (\DDD, \X), an optional final dot, and is case-insensitive; "" or "." is the root.
[[nodiscard]] Result<std::vector<std::uint8_t>> name_from_text(std::string_view text);
// Canonical presentation form of an uncompressed wire name (lower-case, no final dot).
[[nodiscard]] Result<std::string> name_to_text(std::span<const std::uint8_t> wire);
// name_to_text(name_from_text(text)): the canonical spelling of a name, or an error.
[[nodiscard]] Result<std::string> canonical_name(std::string_view text);

// Appends one label's octets to `text` in presentation form.
void append_label_text(std::string& text, const std::uint8_t* label, std::size_t len);

}  // namespace gf::dns
