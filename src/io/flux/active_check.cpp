#include "io/flux/active_check.hpp"

#include <unbound.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include "core/dns/message.hpp"
#include "core/flux/tracker.hpp"

namespace gf::io {
namespace {

struct CtxDeleter {
  void operator()(ub_ctx* c) const { ub_ctx_delete(c); }
};

TimePoint wall_now() {
  return std::chrono::time_point_cast<Seconds>(std::chrono::system_clock::now());
}

}  // namespace

Result<CheckStats> active_check(const std::vector<std::string>& names, flux::Ingest& ingest,
                                const CheckOptions& o) {
  std::unique_ptr<ub_ctx, CtxDeleter> ctx(ub_ctx_create());
  if (!ctx) {
    return fail(Errc::Io, "ub_ctx_create failed");
  }
  ub_ctx_set_option(ctx.get(), "do-not-query-localhost:", "no");
  if (!o.forwarder.empty()) {
    if (int rc = ub_ctx_set_fwd(ctx.get(), o.forwarder.c_str()); rc != 0) {
      return fail(Errc::Config, "resolver '" + o.forwarder + "': " + ub_strerror(rc));
    }
    // Let the configured resolver answer for the RFC 6761 test names instead of libunbound's
    // built-in NXDOMAIN zone (lab and fixture zones live there). This finalises the context,
    // so it comes after every option.
    ub_ctx_zone_add(ctx.get(), "test.", "nodefault");
  }
  CheckStats st;
  std::uint32_t source_id = 0;
  auto resolve = [&](const std::string& name, int type, std::uint32_t& max_ttl,
                     dns::Message* keep) -> bool {
    ub_result* r = nullptr;
    ++st.lookups;
    const int rc = ub_resolve(ctx.get(), name.c_str(), type, 1, &r);
    if (rc != 0 || r == nullptr) {
      ++st.failures;
      return false;
    }
    bool ok = false;
    if (r->answer_packet != nullptr && r->answer_len > 0) {
      const std::span<const std::uint8_t> pkt(static_cast<const std::uint8_t*>(r->answer_packet),
                                              static_cast<std::size_t>(r->answer_len));
      if (r->havedata) {
        max_ttl = std::max(max_ttl, static_cast<std::uint32_t>(std::max(0, r->ttl)));
      }
      if (keep != nullptr) {
        ok = dns::parse_message_into(pkt, *keep) == dns::ParseError::None;
      } else {
        ingest.on_dns(pkt, wall_now(), source_id);
        ok = true;
      }
    }
    if (r->rcode == 2) {
      ++st.failures;
    }
    ub_resolve_free(r);
    return ok;
  };

  for (int round = 1; round <= o.rounds; ++round) {
    std::uint32_t max_ttl = 0;
    for (const std::string& name : names) {
      if (o.progress) {
        o.progress(round, o.rounds, "resolving " + name);
      }
      resolve(name, dns::kTypeA, max_ttl, nullptr);
      resolve(name, dns::kTypeAaaa, max_ttl, nullptr);
      if (!o.name_servers) {
        continue;
      }
      // Name servers of the registrable domain and their addresses, as one NS observation.
      const std::string domain =
          o.registrable ? o.registrable(name) : flux::naive_registrable_domain(name);
      dns::Message ns_msg;
      std::uint32_t ignored = 0;
      if (domain.empty() || !resolve(domain, dns::kTypeNs, ignored, &ns_msg)) {
        continue;
      }
      flux::Observation obs;
      obs.time = wall_now();
      obs.qname = domain;
      obs.qtype = dns::kTypeNs;
      for (const dns::Record& rec : ns_msg.records()) {
        if (rec.type == dns::kTypeNs && rec.section == dns::Section::Answer) {
          obs.ns_ttl_s = obs.ns_names.empty() ? rec.ttl_s : std::min(obs.ns_ttl_s, rec.ttl_s);
          obs.ns_names.push_back(rec.target);
        }
      }
      for (std::size_t i = 0; i < obs.ns_names.size() && i < 4; ++i) {
        dns::Message a_msg;
        if (resolve(obs.ns_names[i], dns::kTypeA, ignored, &a_msg)) {
          for (const dns::Record& rec : a_msg.records()) {
            if (rec.type == dns::kTypeA && rec.section == dns::Section::Answer) {
              obs.ns_addresses.push_back(rec.address);
              obs.ns_ttl_s = std::min(obs.ns_ttl_s, rec.ttl_s);
            }
          }
        }
      }
      if (!obs.ns_names.empty()) {
        ingest.on_observation(obs);
      }
    }
    if (round == o.rounds) {
      break;
    }
    const auto wait = std::min<std::chrono::seconds>(std::chrono::seconds(max_ttl + 1), o.max_wait);
    if (o.progress) {
      o.progress(round, o.rounds, "waiting " + std::to_string(wait.count()) + "s (TTL+1)");
    }
    std::this_thread::sleep_for(wait);
    st.waited += wait;
  }
  return st;
}

}  // namespace gf::io
