#include "io/flux/geoip_country.hpp"

#include <GeoIP.h>
#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace gf::io {

struct GeoIpCountry::Impl {
  GeoIP* v4 = nullptr;
  GeoIP* v6 = nullptr;
  std::string path;
  ~Impl() {
    if (v4 != nullptr) {
      GeoIP_delete(v4);
    }
    if (v6 != nullptr) {
      GeoIP_delete(v6);
    }
  }
};

namespace {

// libgeoip takes any file without a structure-info trailer for a country database and then
// follows its records wherever they point, so the trailer (FF FF FF, then the edition byte) is
// checked first: a wrong file is an error, not garbage countries.
bool has_trailer(const std::string& path, int edition) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  const std::streamoff size = in ? static_cast<std::streamoff>(in.tellg()) : 0;
  if (size < 6 * 256 + 4) {
    return false;
  }
  unsigned char tail[4] = {};
  in.seekg(size - 4);
  in.read(reinterpret_cast<char*>(tail), 4);
  return in && tail[0] == 0xff && tail[1] == 0xff && tail[2] == 0xff && tail[3] == edition;
}

GeoIP* open_edition(const std::string& path, int edition) {
  if (!has_trailer(path, edition)) {
    return nullptr;
  }
  GeoIP* g = GeoIP_open(path.c_str(), GEOIP_MEMORY_CACHE | GEOIP_SILENCE);
  if (g != nullptr && GeoIP_database_edition(g) != edition) {
    GeoIP_delete(g);
    return nullptr;
  }
  return g;
}

std::array<char, 2> country_of(int id) {
  const char* code = id > 0 ? GeoIP_code_by_id(id) : nullptr;
  if (code == nullptr || std::strlen(code) != 2 || std::strcmp(code, "--") == 0 ||
      std::strcmp(code, "EU") == 0 || std::strcmp(code, "AP") == 0 ||
      std::strcmp(code, "A1") == 0 || std::strcmp(code, "A2") == 0 ||
      std::strcmp(code, "O1") == 0) {
    return {0, 0};
  }
  return {code[0], code[1]};
}

}  // namespace

Result<std::unique_ptr<GeoIpCountry>> GeoIpCountry::open(const std::string& v4_path) {
  std::unique_ptr<GeoIpCountry> g(new GeoIpCountry());
  g->impl_ = std::make_unique<Impl>();
  g->impl_->path = v4_path;
  g->impl_->v4 = open_edition(v4_path, GEOIP_COUNTRY_EDITION);
  if (g->impl_->v4 == nullptr) {
    return fail(Errc::InvalidInput,
                fmt::format("{}: not a readable GeoIP country database (GeoIP.dat)", v4_path));
  }
  const auto v6 = std::filesystem::path(v4_path).parent_path() / "GeoIPv6.dat";
  std::error_code ec;
  if (std::filesystem::exists(v6, ec)) {
    g->impl_->v6 = open_edition(v6.string(), GEOIP_COUNTRY_EDITION_V6);
  }
  return g;
}

GeoIpCountry::~GeoIpCountry() = default;

flux::AsnInfo GeoIpCountry::lookup(const IpAddress& ip) const {
  flux::AsnInfo info;
  if (ip.is_v4()) {
    const unsigned long n = (static_cast<unsigned long>(ip.bytes[12]) << 24) |
                            (static_cast<unsigned long>(ip.bytes[13]) << 16) |
                            (static_cast<unsigned long>(ip.bytes[14]) << 8) | ip.bytes[15];
    info.country = country_of(GeoIP_id_by_ipnum(impl_->v4, n));
  } else if (impl_->v6 != nullptr) {
    geoipv6_t a;
    std::memcpy(&a, ip.bytes.data(), sizeof a);
    info.country = country_of(GeoIP_id_by_ipnum_v6(impl_->v6, a));
  }
  return info;
}

std::string GeoIpCountry::describe() const {
  return fmt::format("GeoIP country database {}{} (countries only, no ASN)", impl_->path,
                     impl_->v6 != nullptr ? " + GeoIPv6.dat" : "");
}

Result<std::unique_ptr<flux::AsnSource>> open_geo_source(const std::string& path,
                                                         std::string& note) {
  note.clear();
  if (path.empty()) {
    note = "geo: off (flux.geoip_db is empty)";
    return std::unique_ptr<flux::AsnSource>();
  }
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    note = fmt::format("geo: none ({} not found; Debian package geoip-database)", path);
    return std::unique_ptr<flux::AsnSource>();
  }
  auto g = GeoIpCountry::open(path);
  if (!g) {
    return tl::unexpected(g.error());
  }
  note = "geo: " + (*g)->describe();
  return std::unique_ptr<flux::AsnSource>(std::move(*g));
}

}  // namespace gf::io
