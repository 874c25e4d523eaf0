#include "io/flux/mmdb_asn.hpp"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>

#include <cstring>

#include "io/sys/file.hpp"

namespace gf::io {

struct MmdbAsn::Impl {
  MMDB_s db{};
  std::string path;
};

Result<std::unique_ptr<MmdbAsn>> MmdbAsn::open(const std::string& path) {
  std::unique_ptr<MmdbAsn> m(new MmdbAsn());
  m->impl_ = std::make_unique<Impl>();
  m->impl_->path = path;
  const int rc = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &m->impl_->db);
  if (rc != MMDB_SUCCESS) {
    m->impl_.reset();
    return fail(Errc::InvalidInput, path + ": " + MMDB_strerror(rc));
  }
  return m;
}

MmdbAsn::~MmdbAsn() {
  if (impl_) {
    MMDB_close(&impl_->db);
  }
}

flux::AsnInfo MmdbAsn::lookup(const IpAddress& ip) const {
  sockaddr_storage ss{};
  if (ip.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, ip.bytes.data() + 12, 4);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, ip.bytes.data(), 16);
  }
  int mmdb_error = 0;
  MMDB_lookup_result_s r =
      MMDB_lookup_sockaddr(&impl_->db, reinterpret_cast<sockaddr*>(&ss), &mmdb_error);
  flux::AsnInfo info;
  if (mmdb_error != MMDB_SUCCESS || !r.found_entry) {
    return info;
  }
  MMDB_entry_data_s d{};
  if (MMDB_get_value(&r.entry, &d, "autonomous_system_number", nullptr) == MMDB_SUCCESS &&
      d.has_data) {
    if (d.type == MMDB_DATA_TYPE_UINT32) {
      info.asn = d.uint32;
    } else if (d.type == MMDB_DATA_TYPE_UINT16) {
      info.asn = d.uint16;
    } else if (d.type == MMDB_DATA_TYPE_UINT64) {
      info.asn = static_cast<std::uint32_t>(d.uint64);
    }
  }
  if (MMDB_get_value(&r.entry, &d, "country", "iso_code", nullptr) == MMDB_SUCCESS && d.has_data &&
      d.type == MMDB_DATA_TYPE_UTF8_STRING && d.data_size == 2) {
    info.country = {d.utf8_string[0], d.utf8_string[1]};
  }
  return info;
}

std::string MmdbAsn::describe() const {
  return std::string("MaxMind DB ") +
         (impl_->db.metadata.database_type != nullptr ? impl_->db.metadata.database_type : "?") +
         " (" + impl_->path + ")";
}

Result<std::unique_ptr<flux::AsnSource>> open_asn_source(const std::string& path) {
  if (path.ends_with(".mmdb")) {
    auto m = MmdbAsn::open(path);
    if (!m) {
      return tl::unexpected(m.error());
    }
    return std::unique_ptr<flux::AsnSource>(std::move(*m));
  }
  auto text = read_file(path);
  if (!text) {
    return tl::unexpected(text.error());
  }
  auto t = flux::AsnTable::parse_tsv(*text);
  if (!t) {
    return fail(t.error().code, path + ": " + t.error().message);
  }
  return std::unique_ptr<flux::AsnSource>(std::make_unique<flux::AsnTable>(std::move(*t)));
}

}  // namespace gf::io
