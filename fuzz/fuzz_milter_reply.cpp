// Fuzzes the MTA's side of the milter protocol (core/milter/client.hpp): the same bytes are read
// as a stream of filter replies and as a stored message to be split for sending.
// Asserted properties:
//  - the reply decoder never claims bytes it was not given, a Complete reply is a whole packet
//    (length field + code), NeedMore consumes nothing and an Error always says why;
//  - every decoded reply is exactly one of final, modification or progress;
//  - a split message keeps header names free of blanks and ':' and values free of NUL, its body
//    is empty or ends in CRLF, and its body chunks join back to the body, none over the limit.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/milter/client.hpp"

namespace {

void check_replies(std::string_view buf) {
  gf::milter::Limits limits;
  limits.max_packet_bytes = 4096;
  while (!buf.empty()) {
    const gf::milter::ReplyOutcome out = gf::milter::decode_reply(buf, limits);
    if (out.consumed > buf.size()) {
      std::abort();
    }
    if (out.status != gf::milter::DecodeStatus::Complete) {
      if (out.consumed != 0 ||
          (out.status == gf::milter::DecodeStatus::Error && out.error.empty())) {
        std::abort();
      }
      return;
    }
    if (out.consumed < 5 || out.consumed > limits.max_packet_bytes + 4) {
      std::abort();
    }
    const gf::milter::ReplyKind kind = out.reply.kind;
    const int roles = int{gf::milter::is_final(kind)} + int{gf::milter::is_modification(kind)} +
                      int{kind == gf::milter::ReplyKind::Progress};
    if (roles != 1) {
      std::abort();
    }
    buf.remove_prefix(out.consumed);
  }
}

void check_split(std::string_view raw, std::size_t chunk) {
  const gf::Result<gf::milter::MessageParts> parts = gf::milter::split_message(raw);
  if (!parts) {
    if (parts.error().message.empty()) {
      std::abort();
    }
    return;
  }
  for (const gf::milter::Header& h : parts->headers) {
    if (h.name.empty() || h.name.find_first_of(": \t\r\n", 0) != std::string::npos ||
        h.value.find('\0') != std::string::npos) {
      std::abort();
    }
  }
  const std::string& body = parts->body;
  if (!body.empty() && (body.size() < 2 || body.compare(body.size() - 2, 2, "\r\n") != 0)) {
    std::abort();
  }
  std::string joined;
  for (std::string_view c : gf::milter::body_chunks(body, chunk)) {
    if (c.empty() || c.size() > chunk) {
      std::abort();
    }
    joined.append(c);
  }
  if (joined != body) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view buf(reinterpret_cast<const char*>(data), size);
  check_replies(buf);
  check_split(buf, 1 + size % 97);
  return 0;
}
