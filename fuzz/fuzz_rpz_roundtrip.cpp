// RPZ writer round trip: names and addresses taken from the input are written as a zone and
// read back; what was written must come back exactly (names that cannot be expressed, or that
// would read back as triggers, are counted as skipped and must be absent). The raw input is
// also fed to the zone reader, and the rbldnsd writers must keep the RFC 5782 test entries.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/common/strings.hpp"
#include "core/dns/message.hpp"
#include "core/flux/rpz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)gf::flux::parse_rpz(text);

  gf::flux::RpzContent in;
  std::size_t k = 0;
  for (std::string_view piece : gf::split(text, '\n')) {
    if (++k > 64) {
      break;
    }
    if (auto ip = gf::parse_ip(piece)) {
      in.agent_ips.push_back(*ip);
    } else if (auto name = gf::dns::canonical_name(piece); name && !name->empty()) {
      (k % 3 == 0 ? in.nsdnames : in.names).push_back(*name);
    }
  }
  gf::flux::RpzOptions o;
  o.serial = 7;
  o.rpz_ip = true;
  o.rpz_nsdname = true;
  gf::flux::RpzWriteStats st;
  const std::string zone = gf::flux::write_rpz(in, o, &st);
  auto back = gf::flux::parse_rpz(zone);
  if (!back || back->serial != 7u || back->origin != o.origin) {
    std::abort();
  }
  in.normalise();
  // Everything read back was written, and everything written (not skipped) is read back.
  for (const auto& n : back->content.names) {
    if (!std::binary_search(in.names.begin(), in.names.end(), n)) {
      std::abort();
    }
  }
  if (back->content.names.size() + st.skipped < in.names.size() ||
      back->content.agent_ips != in.agent_ips) {
    std::abort();
  }
  if (back->wildcards != back->content.names) {
    std::abort();
  }
  const std::string dnset = gf::flux::write_rbldnsd_dnset(in.names, "x");
  const std::string ipset = gf::flux::write_rbldnsd_ip4set(in.agent_ips, "x");
  if (dnset.find("\ntest\n") == std::string::npos ||
      ipset.find("\n127.0.0.2\n") == std::string::npos ||
      ipset.find("\n127.0.0.1\n") != std::string::npos) {
    std::abort();
  }
  return 0;
}
