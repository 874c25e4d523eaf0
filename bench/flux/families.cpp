#include "families.hpp"

#include "family_gen.hpp"

namespace gf::families {
namespace {

// Names that go quiet 1-24 h before the capture ends (36-54 h long).
void quiet(Gen& g, Capture& c) {
  const auto vol = g.ntp_volunteers();
  Gen::FluxShape s;
  for (int k = 0, n = g.n_flux(600); k < n; ++k) {
    const std::int64_t gap = g.i(1 * kHour, 24 * kHour);
    const std::int64_t active = g.i(20 * 60, 6 * kHour);
    g.flux_name((k % 2 ? "www." : "") + g.flux_domain(k), "flux-quiet", c.end_s - gap - active,
                c.end_s - gap, s);
  }
  for (int k = 0, n = g.n(3000); k < n; ++k) {
    const std::int64_t gap = g.i(1 * kHour, 24 * kHour);
    const std::int64_t active = g.i(20 * 60, 6 * kHour);
    g.any_benign(k, c.end_s - gap - active, c.end_s - gap, g.i(2, 40), vol);
  }
}

// Every name looked up exactly once.
void seen_once(Gen& g, Capture& c) {
  const auto vol = g.ntp_volunteers();
  Gen::FluxShape s;
  s.lookups_lo = s.lookups_hi = 1;
  for (int k = 0, n = g.n_flux(600); k < n; ++k) {
    s.k_lo = g.i(3, 6);  // some flux networks answer with 3-4 agents
    s.k_hi = g.i(s.k_lo, 12);
    g.flux_name(g.flux_domain(k), "flux-once", c.start_s, c.end_s, s);
  }
  for (int k = 0, n = g.n(3000); k < n; ++k) {
    g.any_benign(k, c.start_s, c.end_s, 1, vol);
  }
}

// Slow flux: 2-3 agents per answer, TTL 30-60 min, one new agent per lookup or so.
void slow_flux(Gen& g, Capture& c) {
  Gen::FluxShape s;
  s.k_lo = 2;
  s.k_hi = 3;
  s.ttls = {1800, 2400, 3000, 3600};
  s.join_per_lookup = 2;
  s.pool_lo = 20;
  s.pool_hi = 400;
  for (int k = 0, n = g.n_flux(600); k < n; ++k) {
    g.flux_name(g.flux_domain(k), "flux-slow", c.start_s, c.end_s, s);
  }
  // Benign names shaped alike: small round robin (2-3 of 3-8 hosts at one hoster, TTL 30-60
  // min), cloud load balancers, dynamic DNS.
  for (int k = 0, n = g.n(3000); k < n; ++k) {
    const std::string name = fmt::format("b{}.rr{}.example", k, g.u(0, 99));
    const double r = g.p();
    if (r < 0.4) {
      g.label(name, false, "small-round-robin");
      std::vector<std::uint32_t> hosts;
      const int h = g.i(0, 15);
      for (int j = g.i(3, 8); j > 0; --j) {
        hosts.push_back(g.hoster(h));
      }
      const std::uint32_t ttl = g.pick<std::uint32_t>({1800, 3600});
      for (std::int64_t t : g.times(c.start_s, c.end_s, g.i(3, 40))) {
        std::set<std::uint32_t> a;
        for (int j = g.i(2, 3); j > 0; --j) {
          a.insert(g.pick(hosts));
        }
        g.emit(t, name, dns::kTypeA, {}, {a.begin(), a.end()}, ttl);
      }
    } else if (r < 0.7) {
      g.cloud_lb(name, g.p() < 0.5, c.start_s, c.end_s, g.i(3, 40));
    } else {
      g.plain_benign(name, c.start_s, c.end_s, g.i(3, 40));
    }
  }
}

// Double flux where only the NS set fluxes: a stable A at a hoster, name servers inside the
// domain whose glue addresses are agents that change with every answer.
void ns_flux(Gen& g, Capture& c) {
  for (int k = 0, n = g.n_flux(600); k < n; ++k) {
    const std::string domain = g.flux_domain(k);
    const std::string name = k % 2 ? "www." + domain : domain;
    g.label(name, true, "flux-ns-only");
    const std::uint32_t a = g.hoster(g.i(0, 15));
    std::vector<std::uint32_t> pool;
    for (int j = g.i(100, 2000); j > 0; --j) {
      pool.push_back(g.residential());
    }
    const std::uint32_t ns_ttl = g.pick<std::uint32_t>({0, 60, 180, 300, 600});
    const std::uint32_t a_ttl = g.pick<std::uint32_t>({300, 600, 3600});
    for (std::int64_t t : g.times(c.start_s, c.end_s, g.i(3, 40))) {
      std::vector<std::string> ns;
      std::vector<std::uint32_t> glue;
      for (int j = g.i(2, 4); j > 0; --j) {
        ns.push_back(fmt::format("ns{}.{}", g.i(1, 12), domain));
        glue.push_back(g.pick(pool));
      }
      if (g.p() < 0.7) {
        g.emit(t, name, dns::kTypeA, {}, {a}, a_ttl, ns, glue, ns_ttl, domain);
      } else {
        g.emit(t, name, dns::kTypeA, {}, {a}, a_ttl);
        g.emit(t + 1, domain, dns::kTypeNs, {}, {}, 0, ns, glue, ns_ttl, domain);
      }
    }
  }
  // Benign: domains served by two DNS providers (anycast, stable), also seen with authority
  // data, plus names whose provider changed once during the capture.
  for (int k = 0, n = g.n(3000); k < n; ++k) {
    const std::string domain = fmt::format("site{}-{}.example", k, g.u(0, 999));
    const std::string name = k % 2 ? "www." + domain : domain;
    g.label(name, false, "multi-provider-dns");
    const std::uint32_t a = g.hoster(g.i(0, 15));
    std::vector<std::string> ns;
    std::vector<std::uint32_t> glue;
    for (int j = g.i(2, 8); j > 0; --j) {
      ns.push_back(fmt::format("ns{}.dnsprov{}.example", j, j % 2));
      glue.push_back(addr(198, 18 + static_cast<std::uint32_t>(j % 2), g.i(0, 255), g.i(1, 254)));
    }
    const bool moves = g.p() < 0.1;
    const std::int64_t move_at = g.i(static_cast<int>(c.start_s), static_cast<int>(c.end_s));
    for (std::int64_t t : g.times(c.start_s, c.end_s, g.i(3, 40))) {
      std::vector<std::string> cur = ns;
      if (moves && t > move_at) {
        for (auto& s : cur) {
          s = "new-" + s;
        }
      }
      if (g.p() < 0.7) {
        g.emit(t, name, dns::kTypeA, {}, {a}, 300, cur, glue, 86400, domain);
      } else {
        g.emit(t, name, dns::kTypeA, {}, {a}, 300);
        g.emit(t + 1, domain, dns::kTypeNs, {}, {}, 0, cur, glue, 86400, domain);
      }
    }
  }
}

}  // namespace

// A zone looked up 3-40 times over the capture: the name's A record, half the time the
// domain's NS set, and each name server's A record (60% of the time), whose address at time t
// is host_addr(j, t).
void zone_lookups(Gen& g, const Capture& c, const std::string& domain, const std::string& name,
                  std::uint32_t a, std::uint32_t a_ttl, const std::vector<std::string>& ns,
                  const std::function<std::uint32_t(std::size_t, std::int64_t)>& host_addr,
                  std::uint32_t ns_ttl) {
  for (std::int64_t t : g.times(c.start_s, c.end_s, g.i(3, 40))) {
    g.emit(t, name, dns::kTypeA, {}, {a}, a_ttl);
    if (g.p() < 0.5) {
      g.emit(t + 1, domain, dns::kTypeNs, {}, {}, 0, ns, {}, ns_ttl, domain);
    }
    for (std::size_t j = 0; j < ns.size(); ++j) {
      if (g.p() < 0.6) {
        g.emit(t + 2, ns[j], dns::kTypeA, {}, {host_addr(j, t)}, ns_ttl);
      }
    }
  }
}

namespace {

// Added with the fixes for ns-flux (to break them): the same NS-only double flux seen through a
// resolver with minimal responses: no authority section, no glue. The NS set shows only in NS
// queries for the domain (names, no addresses) and in the resolver's A lookups of the name
// servers, whose answers are the agents. Benign: zones at two DNS providers seen the same way.
void ns_flux_minimal(Gen& g, Capture& c) {
  auto zone = [&](const std::string& domain, const std::string& name, bool flux) {
    g.label(name, flux, flux ? "flux-ns-minimal" : "dns-provider-minimal");
    const std::uint32_t a = g.hoster(g.i(0, 15));
    std::vector<std::uint32_t> pool;
    for (int j = flux ? g.i(100, 2000) : 0; j > 0; --j) {
      pool.push_back(g.residential());
    }
    std::vector<std::string> ns;
    std::vector<std::uint32_t> fixed;
    for (int j = g.i(2, 4); j > 0; --j) {
      ns.push_back(flux ? fmt::format("ns{}.{}", j, domain)
                        : fmt::format("ns{}.dnsprov{}.example", g.i(1, 40), j % 2));
      fixed.push_back(addr(198, 18 + static_cast<std::uint32_t>(j % 2), g.i(0, 255), g.i(1, 254)));
    }
    const std::uint32_t ns_ttl = flux ? g.pick<std::uint32_t>({0, 60, 180, 300, 600}) : 86400;
    const std::uint32_t a_ttl = g.pick<std::uint32_t>({300, 600, 3600});
    zone_lookups(
        g, c, domain, name, a, a_ttl, ns,
        [&](std::size_t j, std::int64_t) { return flux ? g.pick(pool) : fixed[j]; }, ns_ttl);
  };
  for (int k = 0, n = g.n_flux(600); k < n; ++k) {
    const std::string domain = g.flux_domain(k);
    zone(domain, k % 2 ? "www." + domain : domain, true);
  }
  for (int k = 0, n = g.n(3000); k < n; ++k) {
    const std::string domain = fmt::format("site{}-{}.example", k, g.u(0, 999));
    zone(domain, k % 2 ? "www." + domain : domain, false);
  }
}

// Added to break the stable-set rule (no ASN data): small botnets, 6-20 agents answered again and
// again (3-6 per answer, TTL 60-300), one new agent now and then. Benign: cloud load balancers,
// round robins and mail pools of the same sizes.
void small_botnet(Gen& g, Capture& c) {
  Gen::FluxShape s;
  s.k_lo = 3;
  s.k_hi = 6;
  s.ttls = {60, 120, 300};
  s.pool_lo = 6;
  s.pool_hi = 20;
  s.join_per_lookup = 1;
  for (int k = 0, n = g.n_flux(600); k < n; ++k) {
    g.flux_name(g.flux_domain(k), "flux-small-botnet", c.start_s, c.end_s, s);
  }
  for (int k = 0, n = g.n(3000); k < n; ++k) {
    const std::string name = fmt::format("b{}.lb{}.example", k, g.u(0, 99));
    const int looks = g.i(3, 40);
    const double r = g.p();
    if (r < 0.4) {
      g.cloud_lb(name, g.p() < 0.5, c.start_s, c.end_s, looks);
    } else if (r < 0.7) {
      g.mail_pool(fmt::format("mx{}.mailco{}.example", k % 4, k), g.i(0, 1), c.start_s, c.end_s,
                  looks);
    } else {
      g.plain_benign(name, c.start_s, c.end_s, looks);
    }
  }
}

// Added to break the one-country rule (geo data, no ASN data): botnets whose agents all sit in
// one country (the usual flux shape, and small botnets of 6-20 agents), beside provider pools
// that span countries: a mail pool over two regions (an EU-wide pool), a load balancer answering
// from two regions (global server load balancing), and the single-region pools.

void cdn_cloud(Gen& g, Capture& c) {
  for (int k = 0, n = g.n(3000); k < n; ++k) {
    const std::string name = fmt::format("www.shop{}-{}.example", k, g.u(0, 999));
    const int looks = g.i(1, 60);
    switch (k % 4) {
      case 0:
        g.cdn_name(name, true, c.start_s, c.end_s, looks);
        break;
      case 1:
        g.cdn_name(name, false, c.start_s, c.end_s, looks);
        break;
      case 2:
        g.cloud_lb(name, true, c.start_s, c.end_s, looks);
        break;
      default:
        g.cloud_lb(name, false, c.start_s, c.end_s, looks);
    }
  }
}

void ntp(Gen& g, Capture& c) {
  const auto vol = g.ntp_volunteers();
  static const char* const zones[] = {"", "europe.", "asia.", "debian.", "android.", "ubuntu."};
  for (int k = 0, n = g.n(600); k < n; ++k) {
    g.ntp_name(fmt::format("{}.{}z{}.pool.ntp.org", k % 4, zones[k % 6], k), "ntp-pool", vol,
               c.start_s, c.end_s, g.i(1, 60));
    g.ntp_name(fmt::format("{}.timepool{}.example", k % 4, k), "ntp-like-unlisted", vol, c.start_s,
               c.end_s, g.i(1, 60));
  }
}

void mail(Gen& g, Capture& c) {
  for (int k = 0, n = g.n(3000); k < n; ++k) {
    g.mail_pool(fmt::format("mx{}.mailco{}.example", k % 4, k), k % 3, c.start_s, c.end_s,
                g.i(1, 60));
  }
}

const std::map<std::string, std::function<void(Gen&, Capture&)>>& table() {
  static const std::map<std::string, std::function<void(Gen&, Capture&)>> t = {
      {"quiet", quiet},
      {"seen-once", seen_once},
      {"slow-flux", slow_flux},
      {"ns-flux", ns_flux},
      {"ns-flux-minimal", ns_flux_minimal},
      {"small-botnet", small_botnet},
      {"cdn-cloud", cdn_cloud},
      {"ntp-pool", ntp},
      {"mail-pools", mail},
      {"one-country", one_country},
      {"ns-sticky", ns_sticky},
      {"big-pools", big_pools},
      {"shared-platforms", shared_platforms},
      {"dense-sharing", dense_sharing}};
  return t;
}

}  // namespace

flux::AsnInfo FamilyAsn::lookup(const IpAddress& ip) const {
  if (!ip.is_v4()) {
    return {};
  }
  const std::uint32_t a = ip.bytes[12], b = ip.bytes[13], c = ip.bytes[14];
  static const char kCc[] = "ABCDEFGHIJKLMNOPQRST";
  if (a == 10 && b < 128) {
    const std::uint32_t asn = ((b << 4 | c >> 4) * 7919u + 13u) % 600;
    return {kResidential + asn, {'X', kCc[asn % 20]}};
  }
  if (a == 10) {
    // Regions of 16 /16s, each in one country (cloud A: 4, cloud B: 2, mail: 2).
    static const char kRegion[8] = {'A', 'E', 'K', 'P', 'A', 'F', 'A', 'E'};
    return {b < 192 ? kCloudA : b < 224 ? kCloudB : kMail, {'X', kRegion[(b - 128) / 16]}};
  }
  if (a == 100 && b >= 64 && b < 128) {
    return {kCdn + (b - 64) % 3, {'X', kCc[(b * 7) % 20]}};  // edge clusters world-wide
  }
  if (a == 172 && b >= 16 && b < 32) {
    return {kHoster + b - 16, {'X', kCc[b - 16]}};
  }
  if (a == 198 && (b == 18 || b == 19)) {
    return {kDnsProv + b - 18, {'X', 'B'}};
  }
  if (a == 192 && b == 0) {
    return {kHoster + 99, {'X', 'C'}};
  }
  return {};
}

flux::AsnInfo FamilyGeo::lookup(const IpAddress& ip) const {
  return {0, FamilyAsn().lookup(ip).country};
}

const std::vector<std::string>& family_names() {
  static const std::vector<std::string> names = {
      "quiet",        "seen-once", "slow-flux",       "ns-flux",    "ns-flux-minimal",
      "small-botnet", "cdn-cloud", "ntp-pool",        "mail-pools", "one-country",
      "ns-sticky",    "big-pools", "shared-platforms", "dense-sharing"};
  return names;
}

Capture build_family(const std::string& family, std::uint64_t seed, double scale,
                     const Variation& variation) {
  Gen g(seed, scale, variation);
  Capture& c = g.capture();
  c.start_s = kStart;
  const std::int64_t hours = family == "quiet" ? g.i(36, 54) : g.i(6, 24);
  c.end_s = kStart + hours * kHour;
  table().at(family)(g, c);
  Capture out = g.take();
  // The capture ends with its last response; the quiet family's end is set by a late query
  // for an unrelated static name, so that the gap before the end is real.
  if (family == "quiet") {
    dns::Builder b(1, "late.static.example", dns::kTypeA);
    b.add_address(dns::Section::Answer, "late.static.example", v4(addr(192, 0, 2, 1)), 86400);
    out.responses.push_back({out.end_s, b.finish()});
  }
  return out;
}

}  // namespace gf::families