#pragma once
// Scenario families built to break the flux scorers (issue 12), not to pass them.
//
// Each family is a labelled synthetic capture: time-ordered DNS response messages (built with
// dns::Builder, read back through the production Ingest path) and a label per name. A family
// stresses one thing the default fixture does not: flux names that go quiet hours before the
// capture ends, names seen once, slow flux, double flux where only the NS set fluxes, CDN and
// cloud load balancers, the NTP pool, mail providers' pools. Sizes, TTLs, timings and the
// capture length vary with the seed. Addresses come from private, shared, benchmark and
// documentation ranges with private-use ASNs (FamilyAsn); nothing is sent anywhere.
#include <cstdint>
#include <string>
#include <vector>

#include "core/flux/asn.hpp"

namespace gf::families {

struct Response {
  std::int64_t time_s = 0;
  std::vector<std::uint8_t> wire;
};

struct Labelled {
  std::string name;
  bool flux = false;
  std::string kind;
};

struct Capture {
  std::vector<Response> responses;  // sorted by time
  std::vector<Labelled> labels;
  std::int64_t start_s = 0, end_s = 0;
};

// The address plan: 10.0/9 residential (600 ISPs by /20), 10.128/10 and 10.192/11 two clouds,
// 10.224/11 a mail provider, 100.64/10 a CDN (3 ASNs by /16), 172.16/12 16 hosters,
// 198.18/15 two DNS providers (anycast).
class FamilyAsn final : public flux::AsnSource {
 public:
  flux::AsnInfo lookup(const IpAddress& ip) const override;
  std::string describe() const override { return "synthetic family plan"; }
};

// The same plan's countries alone, no ASN: what a country database (Debian's GeoIP.dat) says.
// Residential ISPs are spread over 20 countries; a provider region (16 /16s) is in one country;
// CDN edge clusters are in many.
class FamilyGeo final : public flux::AsnSource {
 public:
  flux::AsnInfo lookup(const IpAddress& ip) const override;
  std::string describe() const override { return "synthetic family plan, countries only"; }
};

const std::vector<std::string>& family_names();
// Departures from the generator's defaults, to check that results do not hang on them.
struct Variation {
  double ttl_factor = 1.0;   // every TTL (answers, NS, glue) multiplied by this
  double flux_factor = 1.0;  // flux names per family multiplied by this (the flux:benign ratio)
  // A botnet serves 1..this many flux domains of a family (uniform); 1: a pool per domain.
  int domains_per_botnet = 16;
};

// `scale` multiplies the name counts (1.0: 600 flux and 3,000 benign names in a mixed family).
Capture build_family(const std::string& family, std::uint64_t seed, double scale,
                     const Variation& variation = {});

}  // namespace gf::families
