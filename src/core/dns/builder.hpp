#pragma once
// Builds DNS response messages: for the fixture generator, tests and fuzz seeds. Names are
// compressed against every name already written (suffix match on whole names), as servers do.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/ip.hpp"
#include "core/dns/message.hpp"

namespace gf::dns {

class Builder {
 public:
  // A response header: QR=1, RD=1, RA=1 and the given rcode; one question.
  Builder(std::uint16_t id, std::string_view qname, std::uint16_t qtype, std::uint8_t rcode = 0);

  void add_address(Section s, std::string_view owner, const IpAddress& ip, std::uint32_t ttl_s);
  void add_name(Section s, std::string_view owner, std::uint16_t type, std::string_view target,
                std::uint32_t ttl_s);
  // Records must be added answer first, then authority, then additional.
  const std::vector<std::uint8_t>& finish();

 private:
  void put_name(std::string_view name);
  void begin_record(Section s, std::string_view owner, std::uint16_t type, std::uint32_t ttl_s);
  void put16(std::uint16_t v);
  void put32(std::uint32_t v);

  std::vector<std::uint8_t> buf_;
  std::vector<std::pair<std::string, std::uint16_t>> written_;  // suffix text -> offset
  std::uint16_t counts_[3] = {0, 0, 0};
};

}  // namespace gf::dns
