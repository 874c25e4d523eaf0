#include "core/flux/observation.hpp"

#include <algorithm>

#include "core/common/strings.hpp"

namespace gf::flux {

void Observation::clear() {
  time = TimePoint{};
  qname.clear();
  qtype = 0;
  rcode = 0;
  addresses.clear();
  cname_chain.clear();
  cname_ttl_s = 0;
  ns_names.clear();
  ns_addresses.clear();
  ns_ttl_s = 0;
  source_id = 0;
}

bool from_message(const dns::Message& msg, TimePoint time, std::uint32_t source_id,
                  Observation& out) {
  out.clear();
  if (!msg.qr || msg.opcode != 0 || msg.qdcount != 1 || msg.qclass != dns::kClassIn ||
      msg.qname.empty()) {
    return false;
  }
  out.time = time;
  out.qname = msg.qname;
  out.qtype = msg.qtype;
  out.rcode = msg.rcode;
  out.source_id = source_id;
  const auto records = msg.records();

  // Follow the CNAME chain in the answer section (bounded: a chain never revisits a name).
  const std::string* current = &msg.qname;
  for (int hop = 0; hop < 16; ++hop) {
    const dns::Record* next = nullptr;
    for (const dns::Record& r : records) {
      if (r.section == dns::Section::Answer && r.type == dns::kTypeCname && r.owner == *current) {
        next = &r;
        break;
      }
    }
    if (next == nullptr || next->target == msg.qname ||
        std::find(out.cname_chain.begin(), out.cname_chain.end(), next->target) !=
            out.cname_chain.end()) {
      break;
    }
    out.cname_ttl_s =
        out.cname_chain.empty() ? next->ttl_s : std::min(out.cname_ttl_s, next->ttl_s);
    out.cname_chain.push_back(next->target);
    current = &out.cname_chain.back();
  }
  for (const dns::Record& r : records) {
    if (r.section == dns::Section::Answer && (r.type == dns::kTypeA || r.type == dns::kTypeAaaa) &&
        r.owner == *current) {
      out.addresses.push_back({r.address, r.ttl_s});
    }
  }
  // NS records for the name or a zone above it (referrals, authority sections, NS queries).
  for (const dns::Record& r : records) {
    if (r.type == dns::kTypeNs && r.section != dns::Section::Additional &&
        (r.owner == msg.qname || ends_with_label(msg.qname, r.owner)) && !r.owner.empty()) {
      if (std::find(out.ns_names.begin(), out.ns_names.end(), r.target) == out.ns_names.end()) {
        out.ns_ttl_s = out.ns_names.empty() ? r.ttl_s : std::min(out.ns_ttl_s, r.ttl_s);
        out.ns_names.push_back(r.target);
      }
    }
  }
  if (!out.ns_names.empty()) {
    for (const dns::Record& r : records) {
      if ((r.type == dns::kTypeA || r.type == dns::kTypeAaaa) &&
          r.section != dns::Section::Answer &&
          std::find(out.ns_names.begin(), out.ns_names.end(), r.owner) != out.ns_names.end()) {
        out.ns_addresses.push_back(r.address);
        out.ns_ttl_s = std::min(out.ns_ttl_s, r.ttl_s);
      }
    }
  }
  return true;
}

}  // namespace gf::flux
