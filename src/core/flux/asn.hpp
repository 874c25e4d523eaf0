#pragma once
// Autonomous-system data for the flux features: which network an address is routed from.
//
// AsnSource is the port; AsnTable implements it from iptoasn-style TSV text (start, end, ASN,
// country, description; IPv4 and IPv6 rows mixed, ASN 0 meaning "not routed"), and the io layer
// adds an .mmdb reader (GeoLite2-ASN, DB-IP lite). Without any source the tracker falls back to
// /16 networks and marks its verdicts "approximate". The repository ships only a tiny test
// table; full tables are downloaded by the user (see README, "Fast-flux detection").
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/common/ip.hpp"
#include "core/common/result.hpp"

namespace gf::flux {

struct AsnInfo {
  std::uint32_t asn = 0;                 // 0: unknown or not routed
  std::array<char, 2> country = {0, 0};  // ISO 3166 alpha-2, {0,0} when unknown
};

class AsnSource {
 public:
  virtual ~AsnSource() = default;
  virtual AsnInfo lookup(const IpAddress& ip) const = 0;
  virtual std::string describe() const = 0;  // "iptoasn TSV, 512 ranges"
};

class AsnTable final : public AsnSource {
 public:
  struct Stats {
    std::size_t ranges = 0;
    std::size_t skipped_lines = 0;  // malformed rows, counted, never fatal
  };
  // Parses the whole TSV text. Fails only when not a single row could be read.
  [[nodiscard]] static Result<AsnTable> parse_tsv(std::string_view text);

  AsnInfo lookup(const IpAddress& ip) const override;
  std::string describe() const override;
  const std::string* name_of(std::uint32_t asn) const;
  const Stats& stats() const { return stats_; }

 private:
  struct Range {
    std::array<std::uint8_t, 16> start;
    std::array<std::uint8_t, 16> end;
    AsnInfo info;
  };
  std::vector<Range> ranges_;  // sorted by start, non-overlapping after load
  std::unordered_map<std::uint32_t, std::string> names_;
  Stats stats_;
};

}  // namespace gf::flux
