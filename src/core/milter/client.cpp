#include "core/milter/client.hpp"

#include <fmt/format.h>

#include <cstring>

namespace gf::milter {
namespace {

constexpr std::size_t kLengthBytes = 4;

std::uint32_t read_u32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) |
         std::uint32_t{u[3]};
}

// Reads a payload front to back; every read is bounded by it.
class Fields {
 public:
  explicit Fields(std::string_view payload) : rest_(payload) {}
  bool empty() const { return rest_.empty(); }
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
  bool u32(std::uint32_t& out) {
    if (rest_.size() < 4) {
      return false;
    }
    out = read_u32(rest_.data());
    rest_.remove_prefix(4);
    return true;
  }

 private:
  std::string_view rest_;
};

using Parsed = Result<Reply>;

Parsed bad(std::string message) { return fail(Errc::InvalidInput, std::move(message)); }

Parsed parse_negotiation(std::string_view p) {
  Fields f(p);
  Reply r;
  r.kind = ReplyKind::Negotiation;
  if (!f.u32(r.negotiation.version) || !f.u32(r.negotiation.actions) ||
      !f.u32(r.negotiation.steps)) {
    return bad(
        fmt::format("negotiation reply payload is {} bytes, expected at least 12", p.size()));
  }
  while (!f.empty()) {
    auto& [stage, names] = r.macro_lists.emplace_back();
    if (!f.u32(stage) || !f.cstr(names)) {
      return bad("negotiation reply carries a malformed macro list");
    }
  }
  return r;
}

// "4xx text", "5xx-first line": what Postfix and Sendmail accept from SMFIR_REPLYCODE.
bool smtp_reply_shape(std::string_view s) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  return s.size() >= 4 && (s[0] == '4' || s[0] == '5') && digit(s[1]) && digit(s[2]) &&
         (s[3] == ' ' || s[3] == '-');
}

Parsed parse_strings(ReplyKind kind, std::string_view p) {
  Fields f(p);
  Reply r;
  r.kind = kind;
  switch (kind) {
    case ReplyKind::ReplyCode:
      if (!f.cstr(r.text) || !f.empty() || !smtp_reply_shape(r.text)) {
        return bad("reply code is not one NUL-terminated 4xx or 5xx SMTP reply");
      }
      return r;
    case ReplyKind::Quarantine:
    case ReplyKind::AddRcpt:
    case ReplyKind::DeleteRcpt:
      if (!f.cstr(r.text) || !f.empty()) {
        return bad(
            fmt::format("reply '{}' is not one NUL-terminated string", static_cast<char>(kind)));
      }
      return r;
    case ReplyKind::AddRcptWithArgs:
    case ReplyKind::ChangeFrom:
      if (!f.cstr(r.text)) {
        return bad(
            fmt::format("reply '{}' without a NUL-terminated address", static_cast<char>(kind)));
      }
      while (!f.empty()) {
        if (!f.cstr(r.args.emplace_back())) {
          return bad(
              fmt::format("reply '{}' arguments not NUL-terminated", static_cast<char>(kind)));
        }
      }
      return r;
    case ReplyKind::InsertHeader:
    case ReplyKind::ChangeHeader:
      if (!f.u32(r.index)) {
        return bad(fmt::format("header reply '{}' without an index", static_cast<char>(kind)));
      }
      [[fallthrough]];
    case ReplyKind::AddHeader:
      if (!f.cstr(r.name) || !f.cstr(r.value) || !f.empty()) {
        return bad(fmt::format("header reply '{}' is not a NUL-terminated name and value",
                               static_cast<char>(kind)));
      }
      return r;
    default:
      return bad("internal: not a string reply");
  }
}

Reply bare_reply(ReplyKind kind) {
  Reply r;
  r.kind = kind;
  return r;
}

Parsed parse_reply(char code, std::string_view p) {
  const auto kind = static_cast<ReplyKind>(code);
  switch (kind) {
    case ReplyKind::Negotiation:
      return parse_negotiation(p);
    case ReplyKind::Continue:
    case ReplyKind::Accept:
    case ReplyKind::Reject:
    case ReplyKind::Tempfail:
    case ReplyKind::Discard:
    case ReplyKind::Skip:
    case ReplyKind::Progress:
    case ReplyKind::Shutdown:
    case ReplyKind::ConnectionFail:
      if (!p.empty()) {
        return bad(fmt::format("reply '{}' carries {} unexpected payload bytes", code, p.size()));
      }
      return bare_reply(kind);
    case ReplyKind::ReplaceBody: {
      Reply r = bare_reply(kind);
      r.text = std::string(p);
      return r;
    }
    case ReplyKind::ReplyCode:
    case ReplyKind::Quarantine:
    case ReplyKind::AddRcpt:
    case ReplyKind::DeleteRcpt:
    case ReplyKind::AddRcptWithArgs:
    case ReplyKind::ChangeFrom:
    case ReplyKind::InsertHeader:
    case ReplyKind::ChangeHeader:
    case ReplyKind::AddHeader:
      return parse_strings(kind, p);
  }
  return bad(fmt::format("unknown milter reply 0x{:02x}", static_cast<unsigned char>(code)));
}

ReplyOutcome reply_error(std::string message) {
  ReplyOutcome out;
  out.status = DecodeStatus::Error;
  out.error = std::move(message);
  return out;
}

}  // namespace

ReplyOutcome decode_reply(std::string_view buf, const Limits& limits) {
  const PacketFrame f = frame_packet(buf, limits, "milter reply", "reply code");
  if (f.status != DecodeStatus::Complete) {
    ReplyOutcome out;
    out.status = f.status;
    out.error = f.error;
    return out;
  }
  Parsed parsed = parse_reply(f.code, f.payload);
  if (!parsed) {
    return reply_error(std::move(parsed.error().message));
  }
  ReplyOutcome out;
  out.status = DecodeStatus::Complete;
  out.consumed = f.consumed;
  out.reply = std::move(*parsed);
  return out;
}

bool is_modification(ReplyKind kind) {
  switch (kind) {
    case ReplyKind::Quarantine:
    case ReplyKind::AddHeader:
    case ReplyKind::InsertHeader:
    case ReplyKind::ChangeHeader:
    case ReplyKind::AddRcpt:
    case ReplyKind::AddRcptWithArgs:
    case ReplyKind::DeleteRcpt:
    case ReplyKind::ChangeFrom:
    case ReplyKind::ReplaceBody:
      return true;
    default:
      return false;
  }
}

bool is_final(ReplyKind kind) { return kind != ReplyKind::Progress && !is_modification(kind); }

bool step_skipped(char command_code, std::uint32_t filter_steps) {
  std::uint32_t flag = 0;
  switch (command_code) {
    case cmd::kConnect:
      flag = step::kNoConnect;
      break;
    case cmd::kHelo:
      flag = step::kNoHelo;
      break;
    case cmd::kMail:
      flag = step::kNoMail;
      break;
    case cmd::kRcpt:
      flag = step::kNoRcpt;
      break;
    case cmd::kData:
      flag = step::kNoData;
      break;
    case cmd::kHeader:
      flag = step::kNoHeaders;
      break;
    case cmd::kEndOfHeaders:
      flag = step::kNoEndOfHeaders;
      break;
    case cmd::kBody:
      flag = step::kNoBody;
      break;
    case cmd::kUnknown:
      flag = step::kNoUnknown;
      break;
    default:
      return false;  // negotiation, macros, end of message, abort, quit are never skipped
  }
  return (filter_steps & flag) != 0;
}

bool reply_expected(char command_code, std::uint32_t filter_steps) {
  std::uint32_t no_reply = 0;
  switch (command_code) {
    case cmd::kOptionNegotiation:
    case cmd::kEndOfMessage:
      return true;
    case cmd::kConnect:
      no_reply = step::kNoReplyConnect;
      break;
    case cmd::kHelo:
      no_reply = step::kNoReplyHelo;
      break;
    case cmd::kMail:
      no_reply = step::kNoReplyMail;
      break;
    case cmd::kRcpt:
      no_reply = step::kNoReplyRcpt;
      break;
    case cmd::kData:
      no_reply = step::kNoReplyData;
      break;
    case cmd::kHeader:
      no_reply = step::kNoReplyHeader;
      break;
    case cmd::kEndOfHeaders:
      no_reply = step::kNoReplyEndOfHeaders;
      break;
    case cmd::kBody:
      no_reply = step::kNoReplyBody;
      break;
    case cmd::kUnknown:
      no_reply = step::kNoReplyUnknown;
      break;
    default:
      return false;  // macros, abort, quit, quit-new-connection
  }
  return (filter_steps & no_reply) == 0;
}

namespace {

// The next line of `s` from `pos` without its LF or CRLF; `pos` moves past the line end.
std::string_view next_line(std::string_view s, std::size_t& pos) {
  const std::size_t start = pos;
  std::size_t end = s.find('\n', start);
  if (end == std::string_view::npos) {
    pos = s.size();
    end = s.size();
  } else {
    pos = end + 1;
  }
  std::string_view line = s.substr(start, end - start);
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  return line;
}

// RFC 5322 field name: printable ASCII except ':' and space, at least one character.
std::size_t field_name_length(std::string_view line) {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return 0;
  }
  for (std::size_t i = 0; i < colon; ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if (c <= ' ' || c > 126) {
      return 0;
    }
  }
  return colon;
}

}  // namespace

Result<MessageParts> split_message(std::string_view raw) {
  MessageParts parts;
  std::size_t pos = 0;
  if (raw.substr(0, 5) == "From ") {
    next_line(raw, pos);
  }
  std::size_t body_start = raw.size();
  while (pos < raw.size()) {
    const std::size_t line_start = pos;
    const std::string_view line = next_line(raw, pos);
    if (line.empty()) {
      body_start = pos;  // the blank line separates; it is not part of the body
      break;
    }
    if ((line[0] == ' ' || line[0] == '\t') && !parts.headers.empty()) {
      parts.headers.back().value.append("\n").append(line);
      continue;
    }
    const std::size_t name_len = field_name_length(line);
    if (name_len == 0) {
      body_start = line_start;  // not a header field: the body starts here
      break;
    }
    std::string_view value = line.substr(name_len + 1);
    while (!value.empty() && (value[0] == ' ' || value[0] == '\t')) {
      value.remove_prefix(1);  // Postfix drops the blanks after the colon (no SMFIP_HDR_LEADSPC)
    }
    parts.headers.push_back(Header{std::string(line.substr(0, name_len)), std::string(value)});
  }
  for (const Header& h : parts.headers) {
    if (h.value.find('\0') != std::string::npos) {
      return fail(Errc::InvalidInput, fmt::format("header {} contains a NUL byte", h.name));
    }
  }
  const std::string_view body = raw.substr(std::min(body_start, raw.size()));
  parts.body.reserve(body.size() + body.size() / 32);
  std::size_t bpos = 0;
  while (bpos < body.size()) {
    parts.body.append(next_line(body, bpos)).append("\r\n");
  }
  return parts;
}

std::vector<std::string_view> body_chunks(std::string_view body, std::size_t max_chunk) {
  std::vector<std::string_view> chunks;
  for (std::size_t off = 0; off < body.size(); off += max_chunk) {
    chunks.push_back(body.substr(off, max_chunk));
  }
  return chunks;
}

}  // namespace gf::milter
