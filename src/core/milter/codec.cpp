#include "core/milter/codec.hpp"

#include <fmt/format.h>

#include <cstring>

#include "core/common/strings.hpp"

namespace gf::milter {
namespace {

constexpr std::size_t kLengthBytes = 4;

std::uint32_t read_u32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) |
         std::uint32_t{u[3]};
}

void put_u32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>((v >> 24) & 0xff));
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

// A packet: length prefix, command byte, payload.
std::string packet(char code, std::string_view payload) {
  std::string out;
  out.reserve(kLengthBytes + 1 + payload.size());
  put_u32(out, static_cast<std::uint32_t>(payload.size() + 1));
  out.push_back(code);
  out.append(payload);
  return out;
}

void put_cstr(std::string& out, std::string_view s) {
  out.append(s);
  out.push_back('\0');
}

// Reads NUL-terminated strings off a payload; every read is bounded by the payload.
class Reader {
 public:
  explicit Reader(std::string_view payload) : rest_(payload) {}
  bool empty() const { return rest_.empty(); }
  // False when no NUL ends the next string.
  bool cstr(std::string& out) {
    const void* nul = std::memchr(rest_.data(), '\0', rest_.size());
    if (nul == nullptr) {
      return false;
    }
    const auto len = static_cast<std::size_t>(static_cast<const char*>(nul) - rest_.data());
    out.assign(rest_.data(), len);
    rest_.remove_prefix(len + 1);
    return true;
  }
  bool byte(char& out) {
    if (rest_.empty()) {
      return false;
    }
    out = rest_[0];
    rest_.remove_prefix(1);
    return true;
  }
  bool u16(std::uint16_t& out) {
    if (rest_.size() < 2) {
      return false;
    }
    const auto* u = reinterpret_cast<const unsigned char*>(rest_.data());
    out = static_cast<std::uint16_t>((u[0] << 8) | u[1]);
    rest_.remove_prefix(2);
    return true;
  }

 private:
  std::string_view rest_;
};

using Parsed = Result<Command>;

Parsed bad(std::string message) { return fail(Errc::InvalidInput, std::move(message)); }

Parsed parse_negotiation(std::string_view p) {
  if (p.size() != 12) {
    return bad(fmt::format("option negotiation payload is {} bytes, expected 12", p.size()));
  }
  return OptionNegotiation{read_u32(p.data()), read_u32(p.data() + 4), read_u32(p.data() + 8)};
}

Parsed parse_macros(std::string_view p) {
  Reader r(p);
  Macros m;
  if (!r.byte(m.for_command)) {
    return bad("macro packet without a command code");
  }
  while (!r.empty()) {
    std::string name;
    std::string value;
    if (!r.cstr(name) || !r.cstr(value)) {
      return bad("macro name or value without a terminating NUL");
    }
    m.pairs.emplace_back(std::move(name), std::move(value));
  }
  return m;
}

Parsed parse_connect(std::string_view p) {
  Reader r(p);
  Connect c;
  char family = 0;
  if (!r.cstr(c.hostname)) {
    return bad("connect hostname without a terminating NUL");
  }
  if (!r.byte(family)) {
    return bad("connect without an address family");
  }
  switch (family) {
    case 'U':
      c.family = Family::Unknown;
      if (!r.empty()) {
        return bad("connect with family U carries trailing bytes");
      }
      return c;
    case 'L':
    case '4':
    case '6':
      c.family = static_cast<Family>(family);
      break;
    default:
      return bad(fmt::format("connect with unknown address family 0x{:02x}",
                             static_cast<unsigned char>(family)));
  }
  if (!r.u16(c.port)) {
    return bad("connect without a port");
  }
  if (!r.cstr(c.address)) {
    return bad("connect address without a terminating NUL");
  }
  if (!r.empty()) {
    return bad("connect carries trailing bytes");
  }
  return c;
}

// Exactly `n` NUL-terminated strings fill the payload.
bool strings(std::string_view p, std::initializer_list<std::string*> out) {
  Reader r(p);
  for (std::string* s : out) {
    if (!r.cstr(*s)) {
      return false;
    }
  }
  return r.empty();
}

// One or more NUL-terminated strings fill the payload.
bool string_list(std::string_view p, std::vector<std::string>& out) {
  Reader r(p);
  while (!r.empty()) {
    if (!r.cstr(out.emplace_back())) {
      return false;
    }
  }
  return !out.empty();
}

Parsed parse_payload(char code, std::string_view p) {
  auto no_payload = [&](Command c) -> Parsed {
    if (!p.empty()) {
      return bad(fmt::format("command '{}' carries {} unexpected payload bytes", code, p.size()));
    }
    return c;
  };
  switch (code) {
    case cmd::kOptionNegotiation:
      return parse_negotiation(p);
    case cmd::kMacro:
      return parse_macros(p);
    case cmd::kConnect:
      return parse_connect(p);
    case cmd::kHelo: {
      Helo h;
      return strings(p, {&h.name}) ? Parsed(h) : bad("HELO name without a terminating NUL");
    }
    case cmd::kMail: {
      Mail m;
      return string_list(p, m.args) ? Parsed(m) : bad("MAIL arguments not NUL-terminated");
    }
    case cmd::kRcpt: {
      Rcpt m;
      return string_list(p, m.args) ? Parsed(m) : bad("RCPT arguments not NUL-terminated");
    }
    case cmd::kHeader: {
      Header h;
      return strings(p, {&h.name, &h.value}) ? Parsed(h)
                                             : bad("header is not a NUL-terminated name and value");
    }
    case cmd::kBody:
      return Body{std::string(p)};
    case cmd::kEndOfMessage:
      return EndOfMessage{std::string(p)};
    case cmd::kUnknown: {
      Unknown u;
      return strings(p, {&u.line}) ? Parsed(u) : bad("unknown-command text not NUL-terminated");
    }
    case cmd::kEndOfHeaders:
      return no_payload(EndOfHeaders{});
    case cmd::kAbort:
      return no_payload(Abort{});
    case cmd::kQuit:
      return no_payload(Quit{});
    case cmd::kQuitNewConnection:
      return no_payload(QuitNewConnection{});
    case cmd::kData:
      return no_payload(Data{});
    default:
      return bad(fmt::format("unknown milter command 0x{:02x}", static_cast<unsigned char>(code)));
  }
}

DecodeOutcome error(std::string message) {
  DecodeOutcome out;
  out.status = DecodeStatus::Error;
  out.error = std::move(message);
  return out;
}

// Refuses a text that would end early on the MTA's side.
Result<void> no_nul(std::string_view what, std::string_view s) {
  if (s.find('\0') != std::string_view::npos) {
    return fail(Errc::InvalidInput, fmt::format("{} contains a NUL byte", what));
  }
  return {};
}

Result<void> valid_header(std::string_view name, std::string_view value) {
  if (name.empty()) {
    return fail(Errc::InvalidInput, "empty header name");
  }
  for (char c : name) {
    // RFC 5322 field names: printable ASCII except ':'.
    if (c <= ' ' || c == ':' || static_cast<unsigned char>(c) > 126) {
      return fail(Errc::InvalidInput,
                  fmt::format("invalid header name '{}'", sanitize_line(name, 64)));
    }
  }
  return no_nul("header value", value);
}

std::string header_payload(std::string_view name, std::string_view value) {
  std::string p;
  put_cstr(p, name);
  put_cstr(p, value);
  return p;
}

}  // namespace

PacketFrame frame_packet(std::string_view buf, const Limits& limits, std::string_view noun,
                         std::string_view code_name) {
  PacketFrame f;
  if (buf.size() < kLengthBytes) {
    return f;
  }
  const std::uint32_t len = read_u32(buf.data());
  f.status = DecodeStatus::Error;
  if (len == 0) {
    f.error = fmt::format("{} of length 0 has no {}", noun, code_name);
    return f;
  }
  if (len > limits.max_packet_bytes) {
    f.error = fmt::format("{} of {} bytes exceeds the limit of {} bytes", noun, len,
                          limits.max_packet_bytes);
    return f;
  }
  if (buf.size() - kLengthBytes < len) {
    f.status = DecodeStatus::NeedMore;
    return f;
  }
  f.status = DecodeStatus::Complete;
  f.code = buf[kLengthBytes];
  f.payload = buf.substr(kLengthBytes + 1, len - 1);
  f.consumed = kLengthBytes + len;
  return f;
}

DecodeOutcome decode_command(std::string_view buf, const Limits& limits) {
  const PacketFrame f = frame_packet(buf, limits, "milter packet", "command byte");
  if (f.status != DecodeStatus::Complete) {
    DecodeOutcome out;
    out.status = f.status;
    out.error = f.error;
    return out;
  }
  Parsed parsed = parse_payload(f.code, f.payload);
  if (!parsed) {
    return error(std::move(parsed.error().message));
  }
  DecodeOutcome out;
  out.status = DecodeStatus::Complete;
  out.consumed = f.consumed;
  out.command = std::move(*parsed);
  return out;
}

namespace {

struct CommandEncoder {
  std::string operator()(const OptionNegotiation& o) const {
    std::string p;
    put_u32(p, o.version);
    put_u32(p, o.actions);
    put_u32(p, o.steps);
    return packet(cmd::kOptionNegotiation, p);
  }
  std::string operator()(const Macros& m) const {
    std::string p(1, m.for_command);
    for (const auto& [name, value] : m.pairs) {
      put_cstr(p, name);
      put_cstr(p, value);
    }
    return packet(cmd::kMacro, p);
  }
  std::string operator()(const Connect& c) const {
    std::string p;
    put_cstr(p, c.hostname);
    p.push_back(static_cast<char>(c.family));
    if (c.family != Family::Unknown) {
      p.push_back(static_cast<char>(c.port >> 8));
      p.push_back(static_cast<char>(c.port & 0xff));
      put_cstr(p, c.address);
    }
    return packet(cmd::kConnect, p);
  }
  std::string operator()(const Helo& h) const { return packet(cmd::kHelo, h.name + '\0'); }
  static std::string list(char code, const std::vector<std::string>& args) {
    std::string p;
    for (const std::string& a : args) {
      put_cstr(p, a);
    }
    return packet(code, p);
  }
  std::string operator()(const Mail& m) const { return list(cmd::kMail, m.args); }
  std::string operator()(const Rcpt& r) const { return list(cmd::kRcpt, r.args); }
  std::string operator()(const Header& h) const {
    return packet(cmd::kHeader, header_payload(h.name, h.value));
  }
  std::string operator()(const EndOfHeaders&) const { return packet(cmd::kEndOfHeaders, {}); }
  std::string operator()(const Body& b) const { return packet(cmd::kBody, b.chunk); }
  std::string operator()(const EndOfMessage& e) const {
    return packet(cmd::kEndOfMessage, e.chunk);
  }
  std::string operator()(const Abort&) const { return packet(cmd::kAbort, {}); }
  std::string operator()(const Quit&) const { return packet(cmd::kQuit, {}); }
  std::string operator()(const QuitNewConnection&) const {
    return packet(cmd::kQuitNewConnection, {});
  }
  std::string operator()(const Data&) const { return packet(cmd::kData, {}); }
  std::string operator()(const Unknown& u) const { return packet(cmd::kUnknown, u.line + '\0'); }
};

}  // namespace

std::string encode_command(const Command& command) { return std::visit(CommandEncoder{}, command); }

std::string encode_negotiation(const OptionNegotiation& answer) {
  return CommandEncoder{}(answer);  // the same 12-byte layout in both directions
}

std::string encode_simple(char reply_code) { return packet(reply_code, {}); }

Result<std::string> encode_reply_code(std::string_view smtp_reply) {
  // "4xx text" or "5xx text": the MTA refuses anything else and falls back to its default.
  const bool shape = smtp_reply.size() >= 4 && (smtp_reply[0] == '4' || smtp_reply[0] == '5') &&
                     smtp_reply[1] >= '0' && smtp_reply[1] <= '9' && smtp_reply[2] >= '0' &&
                     smtp_reply[2] <= '9' && smtp_reply[3] == ' ';
  if (!shape) {
    return fail(Errc::InvalidInput, fmt::format("reply '{}' is not a 4xx or 5xx SMTP reply",
                                                sanitize_line(smtp_reply, 64)));
  }
  if (smtp_reply.find_first_of(std::string_view("\0\r\n", 3)) != std::string_view::npos) {
    return fail(Errc::InvalidInput, "reply text contains NUL or a line break");
  }
  std::string p;
  put_cstr(p, smtp_reply);
  return packet(reply::kReplyCode, p);
}

Result<std::string> encode_add_header(std::string_view name, std::string_view value) {
  if (auto ok = valid_header(name, value); !ok) {
    return tl::unexpected(ok.error());
  }
  return packet(reply::kAddHeader, header_payload(name, value));
}

namespace {
Result<std::string> indexed_header(char code, std::uint32_t index, std::string_view name,
                                   std::string_view value) {
  if (auto ok = valid_header(name, value); !ok) {
    return tl::unexpected(ok.error());
  }
  std::string p;
  put_u32(p, index);
  p += header_payload(name, value);
  return packet(code, p);
}
}  // namespace

Result<std::string> encode_insert_header(std::uint32_t index, std::string_view name,
                                         std::string_view value) {
  return indexed_header(reply::kInsertHeader, index, name, value);
}

Result<std::string> encode_change_header(std::uint32_t index, std::string_view name,
                                         std::string_view value) {
  return indexed_header(reply::kChangeHeader, index, name, value);
}

Result<std::string> encode_quarantine(std::string_view reason) {
  if (auto ok = no_nul("quarantine reason", reason); !ok) {
    return tl::unexpected(ok.error());
  }
  std::string p;
  put_cstr(p, reason);
  return packet(reply::kQuarantine, p);
}

}  // namespace gf::milter
