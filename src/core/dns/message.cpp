#include "core/dns/message.hpp"

#include <cstring>

namespace gf::dns {
namespace {

inline std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}

// Walks a name without building its text: for records of types the detector ignores.
ParseError skip_name(std::span<const std::uint8_t> msg, std::size_t offset, std::size_t& next) {
  std::size_t pos = offset;
  std::size_t wire = 0;
  while (true) {
    if (pos >= msg.size()) {
      return ParseError::Truncated;
    }
    const std::uint8_t len = msg[pos];
    if ((len & 0xC0) == 0xC0) {
      if (pos + 1 >= msg.size()) {
        return ParseError::Truncated;
      }
      // The owner text is not needed, but the pointer must still be sane.
      const std::size_t target = (std::size_t{len & 0x3Fu} << 8) | msg[pos + 1];
      if (target >= pos) {
        return ParseError::BadPointer;
      }
      next = pos + 2;
      return ParseError::None;
    }
    if ((len & 0xC0) != 0) {
      return ParseError::LabelTooLong;
    }
    wire += std::size_t{len} + 1;
    if (wire > kMaxNameWire) {
      return ParseError::NameTooLong;
    }
    if (len == 0) {
      next = pos + 1;
      return ParseError::None;
    }
    pos += std::size_t{len} + 1;
  }
}

bool plain_char(std::uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '*';
}

}  // namespace

std::string_view to_string(ParseError e) {
  switch (e) {
    case ParseError::None:
      return "ok";
    case ParseError::Truncated:
      return "truncated";
    case ParseError::BadPointer:
      return "bad_pointer";
    case ParseError::CompressionLoop:
      return "compression_loop";
    case ParseError::LabelTooLong:
      return "label_too_long";
    case ParseError::NameTooLong:
      return "name_too_long";
    case ParseError::BadRdata:
      return "bad_rdata";
    case ParseError::NotResponse:
      return "not_response";
    case ParseError::Count_:
      break;
  }
  return "unknown";
}

void append_label_text(std::string& text, const std::uint8_t* label, std::size_t len) {
  // Fast path: a label of lower-case letters, digits and hyphens is copied as it is.
  std::size_t plain = 0;
  while (plain < len && ((label[plain] >= 'a' && label[plain] <= 'z') ||
                         (label[plain] >= '0' && label[plain] <= '9') || label[plain] == '-')) {
    ++plain;
  }
  text.append(reinterpret_cast<const char*>(label), plain);
  for (std::size_t i = plain; i < len; ++i) {
    std::uint8_t c = label[i];
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<std::uint8_t>(c + 32);
    }
    if (plain_char(c)) {
      text.push_back(static_cast<char>(c));
    } else {
      const char esc[4] = {'\\', static_cast<char>('0' + c / 100),
                           static_cast<char>('0' + (c / 10) % 10), static_cast<char>('0' + c % 10)};
      text.append(esc, 4);
    }
  }
}

ParseError read_name(std::span<const std::uint8_t> msg, std::size_t offset, std::size_t& next,
                     std::string& text) {
  text.clear();
  std::size_t pos = offset;
  // Every pointer must land before the start of the segment that contains it; the segment start
  // therefore strictly decreases and no sequence of pointers can loop.
  std::size_t segment_start = offset;
  bool jumped = false;
  int jumps = 0;
  std::size_t wire = 0;
  while (true) {
    if (pos >= msg.size()) {
      return ParseError::Truncated;
    }
    const std::uint8_t len = msg[pos];
    if ((len & 0xC0) == 0xC0) {
      if (pos + 1 >= msg.size()) {
        return ParseError::Truncated;
      }
      const std::size_t target = (std::size_t{len & 0x3Fu} << 8) | msg[pos + 1];
      if (!jumped) {
        next = pos + 2;
      }
      if (++jumps > kMaxPointerJumps) {
        return ParseError::CompressionLoop;
      }
      if (target >= segment_start) {
        return target >= msg.size() ? ParseError::BadPointer : ParseError::CompressionLoop;
      }
      jumped = true;
      pos = target;
      segment_start = target;
      continue;
    }
    if ((len & 0xC0) != 0) {
      return ParseError::LabelTooLong;
    }
    wire += std::size_t{len} + 1;
    if (wire > kMaxNameWire) {
      return ParseError::NameTooLong;
    }
    if (len == 0) {
      if (!jumped) {
        next = pos + 1;
      }
      return ParseError::None;
    }
    if (pos + 1 + len > msg.size()) {
      return ParseError::Truncated;
    }
    if (!text.empty()) {
      text.push_back('.');
    }
    append_label_text(text, msg.data() + pos + 1, len);
    pos += std::size_t{len} + 1;
  }
}

void Message::reset() {
  id = 0;
  qr = aa = tc = rd = ra = false;
  opcode = rcode = 0;
  qdcount = ancount = nscount = arcount = 0;
  qname.clear();
  qtype = qclass = 0;
  skipped_records = 0;
  used_ = 0;
}

Record& Message::add_record() {
  if (used_ == records_.size()) {
    records_.emplace_back();
  }
  Record& r = records_[used_++];
  r.target.clear();
  r.address = IpAddress{};
  return r;
}

ParseError parse_message_into(std::span<const std::uint8_t> bytes, Message& out) {
  out.reset();
  if (bytes.size() < 12) {
    return ParseError::Truncated;
  }
  const std::uint8_t* h = bytes.data();
  out.id = be16(h);
  out.qr = (h[2] & 0x80) != 0;
  out.opcode = static_cast<std::uint8_t>((h[2] >> 3) & 0x0F);
  out.aa = (h[2] & 0x04) != 0;
  out.tc = (h[2] & 0x02) != 0;
  out.rd = (h[2] & 0x01) != 0;
  out.ra = (h[3] & 0x80) != 0;
  out.rcode = static_cast<std::uint8_t>(h[3] & 0x0F);
  out.qdcount = be16(h + 4);
  out.ancount = be16(h + 6);
  out.nscount = be16(h + 8);
  out.arcount = be16(h + 10);

  std::size_t pos = 12;
  // Names already decoded in this message, by the offset they start at: an owner written as a
  // pointer to one of them (the usual case: a pointer to the question name) is copied, not
  // decoded again. Only successfully decoded names are entered, so the text is the same.
  struct Known {
    std::size_t offset;
    std::ptrdiff_t record;  // index into out.records(), or -1 for the question name
  };
  Known known[8];
  std::size_t n_known = 0;
  for (std::uint32_t i = 0; i < out.qdcount; ++i) {
    std::size_t next = 0;
    ParseError e = i == 0 ? read_name(bytes, pos, next, out.qname) : skip_name(bytes, pos, next);
    if (e != ParseError::None) {
      return e;
    }
    if (next + 4 > bytes.size()) {
      return ParseError::Truncated;
    }
    if (i == 0) {
      known[n_known++] = {pos, -1};
      out.qtype = be16(bytes.data() + next);
      out.qclass = be16(bytes.data() + next + 2);
    }
    pos = next + 4;
  }

  const std::uint32_t total = std::uint32_t{out.ancount} + out.nscount + out.arcount;
  for (std::uint32_t i = 0; i < total; ++i) {
    const Section section = i < out.ancount                 ? Section::Answer
                            : i < out.ancount + out.nscount ? Section::Authority
                                                            : Section::Additional;
    const std::size_t owner_pos = pos;
    std::size_t after_owner = 0;
    ParseError e = skip_name(bytes, owner_pos, after_owner);
    if (e != ParseError::None) {
      return e;
    }
    if (after_owner + 10 > bytes.size()) {
      return ParseError::Truncated;
    }
    const std::uint8_t* f = bytes.data() + after_owner;
    const std::uint16_t type = be16(f);
    const std::uint16_t klass = be16(f + 2);
    std::uint32_t ttl = be32(f + 4);
    if (ttl & 0x80000000u) {
      ttl = 0;
    }
    const std::size_t rdlen = be16(f + 8);
    const std::size_t rdata = after_owner + 10;
    if (rdata + rdlen > bytes.size()) {
      return ParseError::Truncated;
    }
    pos = rdata + rdlen;
    if (type != kTypeA && type != kTypeAaaa && type != kTypeCname && type != kTypeNs) {
      ++out.skipped_records;
      continue;
    }
    Record& r = out.add_record();
    r.section = section;
    r.type = type;
    r.klass = klass;
    r.ttl_s = ttl;
    std::size_t ignored = 0;
    const std::string* cached = nullptr;
    if (after_owner == owner_pos + 2 && (bytes[owner_pos] & 0xC0) == 0xC0) {
      const std::size_t target =
          (std::size_t{bytes[owner_pos] & 0x3Fu} << 8) | bytes[owner_pos + 1];
      for (std::size_t k = 0; k < n_known; ++k) {
        if (known[k].offset == target) {
          // Indexes stay valid when add_record() grows the vector; pointers would not.
          cached = known[k].record < 0
                       ? &out.qname
                       : &out.records()[static_cast<std::size_t>(known[k].record)].target;
          break;
        }
      }
    }
    if (cached != nullptr) {
      r.owner.assign(*cached);
    } else {
      e = read_name(bytes, owner_pos, ignored, r.owner);
      if (e != ParseError::None) {
        return e;
      }
    }
    if (type == kTypeA) {
      if (rdlen != 4) {
        return ParseError::BadRdata;
      }
      static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
      std::memcpy(r.address.bytes.data(), kMapped, 12);
      std::memcpy(r.address.bytes.data() + 12, bytes.data() + rdata, 4);
    } else if (type == kTypeAaaa) {
      if (rdlen != 16) {
        return ParseError::BadRdata;
      }
      std::memcpy(r.address.bytes.data(), bytes.data() + rdata, 16);
    } else {
      // CNAME and NS hold one name that must end exactly at the end of the RDATA.
      std::size_t end = 0;
      e = read_name(bytes.first(rdata + rdlen), rdata, end, r.target);
      if (e != ParseError::None) {
        return e == ParseError::Truncated ? ParseError::BadRdata : e;
      }
      if (end != rdata + rdlen) {
        return ParseError::BadRdata;
      }
      if (n_known < 8) {
        known[n_known++] = {rdata, static_cast<std::ptrdiff_t>(out.records().size() - 1)};
      }
    }
  }
  return ParseError::None;
}

Result<Message> parse_message(std::span<const std::uint8_t> bytes) {
  Message m;
  const ParseError e = parse_message_into(bytes, m);
  if (e != ParseError::None) {
    return fail(Errc::InvalidInput, std::string("dns: ") + std::string(to_string(e)));
  }
  return m;
}

Result<std::vector<std::uint8_t>> name_from_text(std::string_view text) {
  std::vector<std::uint8_t> wire;
  if (text == "." || text.empty()) {
    wire.push_back(0);
    return wire;
  }
  std::uint8_t label[64];
  std::size_t len = 0;
  bool any = false;
  auto flush = [&]() -> bool {
    if (len == 0) {
      return false;  // empty label ("a..b", leading dot)
    }
    wire.push_back(static_cast<std::uint8_t>(len));
    wire.insert(wire.end(), label, label + len);
    len = 0;
    return wire.size() + 1 <= kMaxNameWire;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    std::uint8_t octet = 0;
    if (c == '.') {
      if (!flush()) {
        return fail(Errc::InvalidInput, "empty label or name too long");
      }
      any = false;
      if (i + 1 == text.size()) {
        break;  // the final dot of an absolute name
      }
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= text.size()) {
        return fail(Errc::InvalidInput, "dangling escape");
      }
      const char d = text[i + 1];
      if (d >= '0' && d <= '9') {
        if (i + 3 >= text.size()) {
          return fail(Errc::InvalidInput, "short \\DDD escape");
        }
        int v = 0;
        for (int k = 1; k <= 3; ++k) {
          const char x = text[i + k];
          if (x < '0' || x > '9') {
            return fail(Errc::InvalidInput, "bad \\DDD escape");
          }
          v = v * 10 + (x - '0');
        }
        if (v > 255) {
          return fail(Errc::InvalidInput, "\\DDD escape over 255");
        }
        octet = static_cast<std::uint8_t>(v);
        i += 3;
      } else {
        octet = static_cast<std::uint8_t>(d);
        i += 1;
      }
    } else {
      octet = static_cast<std::uint8_t>(c);
    }
    if (octet >= 'A' && octet <= 'Z') {
      octet = static_cast<std::uint8_t>(octet + 32);
    }
    if (len == 63) {
      return fail(Errc::InvalidInput, "label over 63 octets");
    }
    label[len++] = octet;
    any = true;
  }
  if (any && !flush()) {
    return fail(Errc::InvalidInput, "name over 255 octets");
  }
  wire.push_back(0);
  if (wire.size() > kMaxNameWire) {
    return fail(Errc::InvalidInput, "name over 255 octets");
  }
  return wire;
}

Result<std::string> name_to_text(std::span<const std::uint8_t> wire) {
  std::string text;
  std::size_t pos = 0;
  while (pos < wire.size()) {
    const std::size_t len = wire[pos];
    if (len == 0) {
      return text;
    }
    if (len > 63 || pos + 1 + len > wire.size()) {
      return fail(Errc::InvalidInput, "bad wire name");
    }
    if (!text.empty()) {
      text.push_back('.');
    }
    append_label_text(text, wire.data() + pos + 1, len);
    pos += 1 + len;
  }
  return fail(Errc::InvalidInput, "wire name without root label");
}

Result<std::string> canonical_name(std::string_view text) {
  auto wire = name_from_text(text);
  if (!wire) {
    return tl::unexpected(wire.error());
  }
  return name_to_text(*wire);
}

}  // namespace gf::dns
