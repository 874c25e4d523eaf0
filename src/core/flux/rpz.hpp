#pragma once
// Outputs for resolvers and DNSBL servers: a Response Policy Zone and rbldnsd data files.
//
// write_rpz() produces a complete zone: $ORIGIN, SOA (serial from next_serial(), which always
// increases), NS, then per flux name "name CNAME ." and "*.name CNAME ." (NXDOMAIN for the name
// and everything below it), optional "32.d.c.b.a.rpz-ip CNAME ." rules for agent addresses (IPv6:
// "128.<groups reversed, zz for the longest zero run>.rpz-ip") and "ns.rpz-nsdname CNAME ." for
// the name servers of double-flux names. Owner names are relative to the origin and already in
// canonical escaped form; a name too long to fit under the origin is left out and counted.
//
// parse_rpz() reads back what write_rpz() writes (and the common single-line forms of other
// zones): it serves the round-trip fuzz target and reads the previous serial before a rewrite.
// The adapter writes the text atomically (temp file + rename); nothing here touches files.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/ip.hpp"
#include "core/common/result.hpp"
#include "core/common/time.hpp"

namespace gf::flux {

struct RpzContent {
  std::vector<std::string> names;     // get NXDOMAIN, with their subdomains
  std::vector<IpAddress> agent_ips;   // rpz-ip /32 and /128 triggers
  std::vector<std::string> nsdnames;  // rpz-nsdname triggers
  void normalise();                   // sort and de-duplicate each list
  friend bool operator==(const RpzContent&, const RpzContent&) = default;
};

struct RpzOptions {
  std::string origin = "rpz.greyflux.local";
  std::uint32_t serial = 1;
  std::uint32_t ttl_s = 300;
  bool wildcard = true;
  bool rpz_ip = false;
  bool rpz_nsdname = false;
};

struct RpzWriteStats {
  std::size_t names = 0, ips = 0, nsdnames = 0, skipped = 0;
};

std::string write_rpz(const RpzContent& content, const RpzOptions& options,
                      RpzWriteStats* stats = nullptr);
// The lines write_rpz() writes for one flux name ("name CNAME .\n*.name CNAME .\n"); empty
// when the name cannot be written under the origin.
std::string rpz_name_rules(std::string_view name, const RpzOptions& options);

struct ParsedRpz {
  std::string origin;
  std::optional<std::uint32_t> serial;
  RpzContent content;
  std::vector<std::string> wildcards;  // names that had a "*.name" rule
  std::size_t skipped_lines = 0;
};
[[nodiscard]] Result<ParsedRpz> parse_rpz(std::string_view text);

// Strictly greater than `previous` (RFC 1982 arithmetic is not needed while it stays below 2^31
// ahead): the current Unix time when that is larger, previous + 1 otherwise.
std::uint32_t next_serial(std::optional<std::uint32_t> previous, TimePoint now);

// rpz-ip owner label sequence for a single address: "32.4.3.2.1.rpz-ip",
// "128.1.zz.db8.2001.rpz-ip".
std::string rpz_ip_owner(const IpAddress& ip);
[[nodiscard]] Result<IpAddress> parse_rpz_ip_owner(std::string_view owner);  // "...rpz-ip" part

// rbldnsd "dnset": the RFC 5782 test entry "test" is listed (and "invalid" is not), each name
// with its subdomains. "ip4set": 127.0.0.2 is listed (127.0.0.1 is not); IPv6 agents are left
// out (ip4set holds IPv4 only) and counted in `skipped_v6`.
std::string write_rbldnsd_dnset(const std::vector<std::string>& names, std::string_view text);
std::string write_rbldnsd_ip4set(const std::vector<IpAddress>& ips, std::string_view text,
                                 std::size_t* skipped_v6 = nullptr);

}  // namespace gf::flux
