// Fuzzes the milter codec and session as the server drives them: a byte stream from the MTA is
// decoded packet by packet and every command goes through a Session.
// Asserted properties:
//  - the decoder never claims bytes it was not given, and Complete always consumes something;
//  - decoding is strict, so encode_command(decoded) reproduces the consumed bytes exactly and
//    decodes back to the same command;
//  - the session's state stays within its limits, and every reply it writes is one whole packet.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/milter/codec.hpp"
#include "core/milter/session.hpp"

namespace {

std::uint32_t read_u32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

void check_packet(const std::string& bytes) {
  if (bytes.size() < 5 ||
      read_u32(reinterpret_cast<const unsigned char*>(bytes.data())) != bytes.size() - 4) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gf::milter;
  Limits limits;
  limits.max_packet_bytes = 4096;
  limits.max_message_bytes = 8192;
  limits.max_recipients = 8;
  limits.max_macro_bytes = 512;
  // The first byte picks the steps greyflux asks for, so no-reply paths get explored too.
  std::uint32_t steps = 0;
  if (size > 0) {
    steps = (std::uint32_t{data[0]} * 0x2d2d2dU) & 0x1fffffU;
    ++data;
    --size;
  }
  Session session(limits, OptionNegotiation{kProtocolVersion, 0x1ff, steps});
  std::string_view buf(reinterpret_cast<const char*>(data), size);
  while (!buf.empty()) {
    DecodeOutcome out = decode_command(buf, limits);
    if (out.consumed > buf.size()) {
      std::abort();
    }
    if (out.status != DecodeStatus::Complete) {
      if (out.consumed != 0 || (out.status == DecodeStatus::Error && out.error.empty())) {
        std::abort();
      }
      break;
    }
    if (out.consumed < 5) {
      std::abort();
    }
    const std::string again = encode_command(out.command);
    if (again != buf.substr(0, out.consumed)) {
      std::abort();
    }
    DecodeOutcome round = decode_command(again, limits);
    if (round.status != DecodeStatus::Complete || !(round.command == out.command)) {
      std::abort();
    }
    buf.remove_prefix(out.consumed);

    gf::Result<Step> step = session.on_command(out.command);
    if (!step) {
      break;  // a protocol error closes the connection
    }
    if (!step->reply.empty()) {
      check_packet(step->reply);
    }
    if (session.macro_bytes() > limits.max_macro_bytes ||
        session.recipients().size() > limits.max_recipients) {
      std::abort();
    }
    if (step->next == Next::Close) {
      break;
    }
  }
  return 0;
}
