#pragma once
// Country data for the flux features from the legacy GeoIP country databases that Debian 12
// ships in the `geoip-database` package (GeoIP.dat, GeoIPv6.dat; data of December 2019), read
// through libgeoip1. It answers a country and no ASN: the tracker uses it as a fallback when no
// ASN source is configured (flux.geoip_db), so that a provider's pool in one region can be told
// from agents spread over many countries (score.cpp: one_country_approx). Both files are loaded
// into memory at open (GEOIP_MEMORY_CACHE); lookups only read, so they are thread-safe. Region
// codes that are not countries (EU, AP, A1 anonymous proxy, A2 satellite, O1 other) answer
// unknown.
#include <memory>
#include <string>

#include "core/common/result.hpp"
#include "core/flux/asn.hpp"

namespace gf::io {

class GeoIpCountry final : public flux::AsnSource {
 public:
  // `v4_path` is GeoIP.dat; GeoIPv6.dat is read from the same folder when it exists. Fails when
  // the v4 file cannot be opened or is not a country edition.
  [[nodiscard]] static Result<std::unique_ptr<GeoIpCountry>> open(const std::string& v4_path);
  ~GeoIpCountry() override;
  GeoIpCountry(const GeoIpCountry&) = delete;
  GeoIpCountry& operator=(const GeoIpCountry&) = delete;

  flux::AsnInfo lookup(const IpAddress& ip) const override;  // asn is always 0
  std::string describe() const override;

 private:
  GeoIpCountry() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// flux.geoip_db: empty = off; a path that does not exist = off (the package is only recommended),
// with `note` saying so; a file that exists but cannot be read as a country database = error.
[[nodiscard]] Result<std::unique_ptr<flux::AsnSource>> open_geo_source(const std::string& path,
                                                                       std::string& note);

}  // namespace gf::io
