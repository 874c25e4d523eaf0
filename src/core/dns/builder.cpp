#include "core/dns/builder.hpp"

namespace gf::dns {

Builder::Builder(std::uint16_t id, std::string_view qname, std::uint16_t qtype,
                 std::uint8_t rcode) {
  buf_.reserve(512);
  put16(id);
  buf_.push_back(0x81);                                              // QR, RD
  buf_.push_back(static_cast<std::uint8_t>(0x80 | (rcode & 0x0F)));  // RA
  put16(1);
  put16(0);
  put16(0);
  put16(0);
  put_name(qname);
  put16(qtype);
  put16(kClassIn);
}

void Builder::put16(std::uint16_t v) {
  buf_.push_back(static_cast<std::uint8_t>(v >> 8));
  buf_.push_back(static_cast<std::uint8_t>(v));
}

void Builder::put32(std::uint32_t v) {
  put16(static_cast<std::uint16_t>(v >> 16));
  put16(static_cast<std::uint16_t>(v));
}

void Builder::put_name(std::string_view name) {
  // Split the presentation name into canonical wire labels; an invalid name becomes the root.
  auto wire = name_from_text(name);
  std::vector<std::uint8_t> w = wire ? *wire : std::vector<std::uint8_t>{0};
  std::size_t pos = 0;
  while (w[pos] != 0) {
    auto rest = name_to_text(std::span<const std::uint8_t>(w).subspan(pos));
    const std::string suffix = rest ? *rest : std::string();
    for (const auto& [text, off] : written_) {
      if (text == suffix) {
        put16(static_cast<std::uint16_t>(0xC000 | off));
        return;
      }
    }
    if (buf_.size() < 0x3FFF) {
      written_.emplace_back(suffix, static_cast<std::uint16_t>(buf_.size()));
    }
    const std::size_t len = w[pos];
    buf_.insert(buf_.end(), w.begin() + static_cast<long>(pos),
                w.begin() + static_cast<long>(pos + 1 + len));
    pos += 1 + len;
  }
  buf_.push_back(0);
}

void Builder::begin_record(Section s, std::string_view owner, std::uint16_t type,
                           std::uint32_t ttl_s) {
  ++counts_[static_cast<int>(s)];
  put_name(owner);
  put16(type);
  put16(kClassIn);
  put32(ttl_s);
}

void Builder::add_address(Section s, std::string_view owner, const IpAddress& ip,
                          std::uint32_t ttl_s) {
  const bool v4 = ip.is_v4();
  begin_record(s, owner, v4 ? kTypeA : kTypeAaaa, ttl_s);
  put16(v4 ? 4 : 16);
  buf_.insert(buf_.end(), ip.bytes.begin() + (v4 ? 12 : 0), ip.bytes.end());
}

void Builder::add_name(Section s, std::string_view owner, std::uint16_t type,
                       std::string_view target, std::uint32_t ttl_s) {
  begin_record(s, owner, type, ttl_s);
  const std::size_t len_at = buf_.size();
  put16(0);
  put_name(target);
  const std::size_t rdlen = buf_.size() - len_at - 2;
  buf_[len_at] = static_cast<std::uint8_t>(rdlen >> 8);
  buf_[len_at + 1] = static_cast<std::uint8_t>(rdlen);
}

const std::vector<std::uint8_t>& Builder::finish() {
  buf_[6] = static_cast<std::uint8_t>(counts_[0] >> 8);
  buf_[7] = static_cast<std::uint8_t>(counts_[0]);
  buf_[8] = static_cast<std::uint8_t>(counts_[1] >> 8);
  buf_[9] = static_cast<std::uint8_t>(counts_[1]);
  buf_[10] = static_cast<std::uint8_t>(counts_[2] >> 8);
  buf_[11] = static_cast<std::uint8_t>(counts_[2]);
  return buf_;
}

}  // namespace gf::dns
