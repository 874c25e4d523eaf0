// Fuzzes the DNS message parser and what follows it on the ingest path: every decoded name must
// be in canonical presentation form, and the observation built from a response must be sane.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "core/dns/message.hpp"
#include "core/flux/ingest.hpp"
#include "core/flux/observation.hpp"

namespace {
void check_canonical(const std::string& name) {
  if (name.empty()) {
    return;
  }
  auto c = gf::dns::canonical_name(name);
  if (!c || *c != name) {
    std::abort();  // the parser produced a name that does not read back as itself
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static gf::dns::Message msg;  // reused, as the ingest path does
  const std::span<const std::uint8_t> bytes(data, size);
  if (gf::dns::parse_message_into(bytes, msg) == gf::dns::ParseError::None) {
    check_canonical(msg.qname);
    for (const auto& r : msg.records()) {
      check_canonical(r.owner);
      check_canonical(r.target);
    }
    gf::flux::Observation obs;
    if (gf::flux::from_message(msg, gf::from_unix(1'800'000'000), 0, obs)) {
      if (obs.cname_chain.size() > 16 || obs.qname != msg.qname) {
        std::abort();
      }
    }
  }
  gf::flux::Tracker tracker({}, nullptr, nullptr);
  gf::flux::Ingest ingest(tracker);
  ingest.on_dns(bytes, gf::from_unix(1'800'000'000), 0);
  if (ingest.stats().messages != 1) {
    std::abort();
  }
  return 0;
}
