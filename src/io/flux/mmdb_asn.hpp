#pragma once
// ASN data from a MaxMind DB file (GeoLite2-ASN, DB-IP "IP to ASN Lite") through libmaxminddb.
// Read-only memory map; lookups are thread-safe. A record without
// "autonomous_system_number" answers unknown.
#include <memory>
#include <string>

#include "core/common/result.hpp"
#include "core/flux/asn.hpp"

namespace gf::io {

class MmdbAsn final : public flux::AsnSource {
 public:
  [[nodiscard]] static Result<std::unique_ptr<MmdbAsn>> open(const std::string& path);
  ~MmdbAsn() override;
  MmdbAsn(const MmdbAsn&) = delete;
  MmdbAsn& operator=(const MmdbAsn&) = delete;

  flux::AsnInfo lookup(const IpAddress& ip) const override;
  std::string describe() const override;

 private:
  MmdbAsn() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Opens an ASN source by file type: ".mmdb" through libmaxminddb, anything else as iptoasn TSV.
[[nodiscard]] Result<std::unique_ptr<flux::AsnSource>> open_asn_source(const std::string& path);

}  // namespace gf::io
