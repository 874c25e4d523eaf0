#include "families.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <random>
#include <set>

#include "core/dns/builder.hpp"
#include "core/dns/message.hpp"

namespace gf::families {
namespace {

constexpr std::uint32_t kResidential = 4200000000u;  // + 0..599
constexpr std::uint32_t kCloudA = 4200200001u, kCloudB = 4200200002u, kMail = 4200200003u;
constexpr std::uint32_t kCdn = 4200300000u;      // + 0..2
constexpr std::uint32_t kHoster = 4200400000u;   // + 0..15
constexpr std::uint32_t kDnsProv = 4200500000u;  // + 0..1
constexpr std::int64_t kStart = 1767225600;      // 2026-01-01T00:00:00Z
constexpr std::int64_t kHour = 3600;

IpAddress v4(std::uint32_t a) {
  IpAddress ip;
  ip.bytes[10] = ip.bytes[11] = 0xff;
  for (int i = 0; i < 4; ++i) {
    ip.bytes[12 + i] = static_cast<std::uint8_t>(a >> (24 - 8 * i));
  }
  return ip;
}

std::uint32_t addr(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

class Gen {
 public:
  Gen(std::uint64_t seed, double scale, const Variation& v)
      : rng_(seed * 7919 + 17), scale_(scale), v_(v) {}

  std::uint64_t u(std::uint64_t lo, std::uint64_t hi) {
    return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng_);
  }
  int i(int lo, int hi) {
    return static_cast<int>(u(static_cast<std::uint64_t>(lo), static_cast<std::uint64_t>(hi)));
  }
  double p() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  int n(int base) { return std::max(1, static_cast<int>(base * scale_ * (0.7 + 0.6 * p()))); }
  int n_flux(int base) {
    return std::max(1, static_cast<int>(base * v_.flux_factor * scale_ * (0.7 + 0.6 * p())));
  }
  template <class T>
  T pick(const std::vector<T>& v) {
    return v[u(0, v.size() - 1)];
  }

  // Address pools in the plan.
  std::uint32_t residential() { return addr(10, i(0, 127), i(0, 255), i(1, 254)); }
  std::uint32_t cloud(int which) {  // 0: cloud A (64 /16s), 1: cloud B (32), 2: mail (32)
    return cloud(which, i(0, regions(which) - 1));
  }
  // A provider's region: 16 /16s in one country (cloud A has 4 regions, cloud B and mail 2). A
  // load balancer's nodes and a mail pool are drawn from one region (FamilyAsn: region_country).
  static int regions(int which) { return which == 0 ? 4 : 2; }
  std::uint32_t cloud(int which, int region) {
    const int base = which == 0 ? 128 : which == 1 ? 192 : 224;
    return addr(10, base + 16 * region + i(0, 15), i(0, 255), i(1, 254));
  }
  // A residential address of an ISP in `country` (FamilyAsn: 20 countries by ISP).
  std::uint32_t residential_in(char country) {
    const FamilyAsn plan;
    for (;;) {
      const std::uint32_t a = residential();
      if (plan.lookup(v4(a)).country[1] == country) {
        return a;
      }
    }
  }
  std::uint32_t cdn(int asns) {
    return addr(100, 64 + 3 * i(0, 20) + i(0, asns - 1), i(0, 255), i(1, 254));
  }
  std::uint32_t hoster(int h) { return addr(172, 16 + h, i(0, 255), i(1, 254)); }

  std::vector<std::int64_t> times(std::int64_t from, std::int64_t to, int count) {
    std::vector<std::int64_t> t;
    for (int k = 0; k < count; ++k) {
      t.push_back(from + static_cast<std::int64_t>(u(
                             0, static_cast<std::uint64_t>(std::max<std::int64_t>(1, to - from)))));
    }
    std::sort(t.begin(), t.end());
    return t;
  }

  void emit(std::int64_t t, const std::string& qname, std::uint16_t qtype,
            const std::vector<std::string>& cnames, const std::vector<std::uint32_t>& addrs,
            std::uint32_t ttl, const std::vector<std::string>& ns = {},
            const std::vector<std::uint32_t>& glue = {}, std::uint32_t ns_ttl = 0,
            const std::string& zone = {}) {
    ttl = static_cast<std::uint32_t>(ttl * v_.ttl_factor);
    ns_ttl = static_cast<std::uint32_t>(ns_ttl * v_.ttl_factor);
    dns::Builder b(++id_, qname, qtype);
    std::string owner = qname;
    for (const auto& c : cnames) {
      b.add_name(dns::Section::Answer, owner, dns::kTypeCname, c, 300);
      owner = c;
    }
    for (std::uint32_t a : addrs) {
      b.add_address(dns::Section::Answer, owner, v4(a), ttl);
    }
    for (const auto& s : ns) {
      b.add_name(qtype == dns::kTypeNs ? dns::Section::Answer : dns::Section::Authority,
                 zone.empty() ? qname : zone, dns::kTypeNs, s, ns_ttl);
    }
    for (std::size_t k = 0; k < glue.size() && !ns.empty(); ++k) {
      b.add_address(dns::Section::Additional, ns[k % ns.size()], v4(glue[k]), ns_ttl);
    }
    c_.responses.push_back({t, b.finish()});
  }

  void label(const std::string& name, bool flux, const std::string& kind) {
    c_.labels.push_back({name, flux, kind});
  }

  // A fast-flux name: `k_lo..k_hi` agents per answer out of a churning residential pool.
  struct FluxShape {
    int k_lo = 5, k_hi = 12;
    std::vector<std::uint32_t> ttls = {0, 30, 60, 120, 180, 300, 600};
    int lookups_lo = 3, lookups_hi = 40;
    int pool_lo = 150, pool_hi = 3000;
    int join_per_lookup = 3;  // up to this many new agents per lookup
    char country = 0;         // 'A'..'T': every agent in that one country (0: world-wide)
  };
  std::uint32_t agent(const FluxShape& s) {
    return s.country == 0 ? residential() : residential_in(s.country);
  }
  void flux_name(const std::string& name, const std::string& kind, std::int64_t from,
                 std::int64_t to, const FluxShape& s) {
    label(name, true, kind);
    std::vector<std::uint32_t> pool;
    for (int k = i(s.pool_lo, s.pool_hi); k > 0; --k) {
      pool.push_back(agent(s));
    }
    const std::uint32_t ttl = pick(s.ttls);
    for (std::int64_t t : times(from, to, i(s.lookups_lo, s.lookups_hi))) {
      for (int j = i(0, s.join_per_lookup); j > 0; --j) {
        pool.push_back(agent(s));
      }
      std::set<std::uint32_t> answer;
      const int k = std::min<int>(static_cast<int>(pool.size()), i(s.k_lo, s.k_hi));
      while (static_cast<int>(answer.size()) < k) {
        answer.insert(pick(pool));
      }
      emit(t, name, dns::kTypeA, {}, {answer.begin(), answer.end()}, ttl);
      if (pool.size() > 30 && p() < 0.3) {
        pool.erase(pool.begin() + static_cast<long>(u(0, pool.size() - 1)));
      }
    }
  }

  std::string flux_domain(int k) {
    static const char* const w[] = {"secure", "login", "pharma", "bank", "verify", "deal", "pill"};
    return fmt::format("{}{}-{}.test", w[k % 7], k, w[(k / 7) % 7]);
  }

  // Benign kinds, each looked up `looks` times between from and to.
  void cdn_name(const std::string& name, bool cname, std::int64_t from, std::int64_t to,
                int looks) {
    // An answer comes from one edge cluster (a /24, as Akamai, CloudFront and Fastly answer);
    // the cluster changes between lookups, over 5-60 clusters in 1-3 ASNs (many /16s).
    label(name, false, cname ? "cdn-cname-unlisted" : "cdn-direct");
    const int asns = i(1, 3);
    std::vector<std::uint32_t> clusters;
    for (int k = i(5, 60); k > 0; --k) {
      clusters.push_back(cdn(asns) & 0xFFFFFF00u);
    }
    const std::string edge =
        fmt::format("e{}.edge{}.cdnco{}.example", u(0, 99999), i(0, 9), i(0, 4));
    const std::uint32_t ttl = pick<std::uint32_t>({20, 20, 30, 60});
    for (std::int64_t t : times(from, to, looks)) {
      const std::uint32_t c24 = pick(clusters);
      std::set<std::uint32_t> a;
      for (int k = i(2, 8); k > 0; --k) {
        a.insert(c24 | static_cast<std::uint32_t>(i(1, 254)));
      }
      emit(t, name, dns::kTypeA,
           cname ? std::vector<std::string>{edge} : std::vector<std::string>{},
           {a.begin(), a.end()}, ttl);
    }
  }
  void cloud_lb(const std::string& name, bool cname, std::int64_t from, std::int64_t to,
                int looks) {
    label(name, false, cname ? "cloud-lb-cname" : "cloud-lb-direct");
    const int which = i(0, 1);
    const int region = i(0, regions(which) - 1);
    std::vector<std::uint32_t> nodes;
    for (int k = i(4, 40); k > 0; --k) {
      nodes.push_back(cloud(which, region));
    }
    const std::string lb = fmt::format("lb-{}.region{}.elbco.example", u(0, 999999), i(1, 9));
    for (std::int64_t t : times(from, to, looks)) {
      if (p() < 0.1) {  // scaling: a node is replaced
        nodes[u(0, nodes.size() - 1)] = cloud(which, region);
      }
      std::set<std::uint32_t> a;
      for (int k = i(2, 8); k > 0; --k) {
        a.insert(pick(nodes));
      }
      emit(t, name, dns::kTypeA, cname ? std::vector<std::string>{lb} : std::vector<std::string>{},
           {a.begin(), a.end()}, 60);
    }
  }
  void ntp_name(const std::string& name, const std::string& kind,
                const std::vector<std::uint32_t>& volunteers, std::int64_t from, std::int64_t to,
                int looks) {
    label(name, false, kind);
    for (std::int64_t t : times(from, to, looks)) {
      std::set<std::uint32_t> a;
      while (a.size() < 4) {
        a.insert(pick(volunteers));
      }
      emit(t, name, dns::kTypeA, {}, {a.begin(), a.end()}, 130);
    }
  }
  std::vector<std::uint32_t> ntp_volunteers() {
    std::vector<std::uint32_t> v;
    for (int k = 0; k < 3000; ++k) {
      const double r = p();
      v.push_back(r < 0.4 ? hoster(i(0, 15)) : r < 0.7 ? cloud(i(0, 1)) : residential());
    }
    return v;
  }
  void mail_pool(const std::string& name, int style, std::int64_t from, std::int64_t to,
                 int looks) {
    // 0: outlook-like (TTL 10, 2-4 A from a big pool over many /16s of one ASN);
    // 1: yahoo-like (3-4 A of ~20 hosts, TTL 300); 2: gmail-like MX host (1 A, stable, TTL 300).
    label(name, false,
          style == 0   ? "mail-pool-ttl10"
          : style == 1 ? "mail-pool-rr"
                       : "mail-mx-host");
    std::vector<std::uint32_t> pool;
    const int region = i(0, regions(2) - 1);
    for (int k = style == 0 ? i(100, 2000) : style == 1 ? i(12, 24) : 1; k > 0; --k) {
      pool.push_back(cloud(2, region));
    }
    for (std::int64_t t : times(from, to, looks)) {
      std::set<std::uint32_t> a;
      const int k = style == 0 ? i(2, 4) : style == 1 ? i(3, 4) : 1;
      while (static_cast<int>(a.size()) < std::min<int>(k, static_cast<int>(pool.size()))) {
        a.insert(pick(pool));
      }
      emit(t, name, dns::kTypeA, {}, {a.begin(), a.end()}, style == 0 ? 10 : 300);
    }
  }
  void plain_benign(const std::string& name, std::int64_t from, std::int64_t to, int looks) {
    // Anycast pair, round robin at one hoster, dynamic DNS, static: the everyday names.
    const int kind = i(0, 3);
    if (kind == 0) {
      label(name, false, "anycast");
      const std::uint32_t a = addr(198, 18 + i(0, 1), i(0, 255), i(1, 250));
      for (std::int64_t t : times(from, to, looks)) {
        emit(t, name, dns::kTypeA, {}, {a, a + 1}, 300);
      }
    } else if (kind == 1) {
      label(name, false, "round-robin");
      const int h = i(0, 15);
      const std::uint32_t base = addr(172, 16 + h, i(0, 200), 0);
      const int size = i(8, 150);
      for (std::int64_t t : times(from, to, looks)) {
        std::set<std::uint32_t> a;
        const int off = i(0, size - 1);
        for (int k = i(4, 16); k > 0; --k) {
          const int j = (off + k) % size;
          a.insert(base + static_cast<std::uint32_t>((j / 250) << 8) +
                   static_cast<std::uint32_t>(j % 250 + 1));
        }
        emit(t, name, dns::kTypeA, {}, {a.begin(), a.end()}, pick<std::uint32_t>({60, 120, 300}));
      }
    } else if (kind == 2) {
      label(name, false, "dynamic-dns");
      std::uint32_t a = residential();
      for (std::int64_t t : times(from, to, looks)) {
        if (p() < 0.1) {
          a = (a & 0xFFFFF000u) | static_cast<std::uint32_t>(i(1, 4094));
        }
        emit(t, name, dns::kTypeA, {}, {a}, 60);
      }
    } else {
      label(name, false, "static");
      const std::uint32_t a = addr(192, 0, 2, i(1, 254));
      for (std::int64_t t : times(from, to, looks)) {
        emit(t, name, dns::kTypeA, {}, {a}, pick<std::uint32_t>({3600, 86400}));
      }
    }
  }
  // Any benign name of the mixed families.
  void any_benign(int idx, std::int64_t from, std::int64_t to, int looks,
                  const std::vector<std::uint32_t>& volunteers) {
    const double r = p();
    const std::string name = fmt::format("b{}.site{}.example", idx, u(0, 999));
    if (r < 0.15) {
      cdn_name(name, p() < 0.7, from, to, looks);
    } else if (r < 0.30) {
      cloud_lb(name, p() < 0.5, from, to, looks);
    } else if (r < 0.35) {
      ntp_name(fmt::format("{}.ntp{}.pool.ntp.org", idx % 4, idx), "ntp-pool", volunteers, from, to,
               looks);
    } else if (r < 0.45) {
      mail_pool(fmt::format("mx{}.mailco{}.example", idx % 4, idx), i(0, 2), from, to, looks);
    } else {
      plain_benign(name, from, to, looks);
    }
  }

  Capture take() {
    std::stable_sort(c_.responses.begin(), c_.responses.end(),
                     [](const Response& a, const Response& b) { return a.time_s < b.time_s; });
    return std::move(c_);
  }
  Capture& capture() { return c_; }

 private:
  std::mt19937_64 rng_;
  double scale_;
  Variation v_;
  std::uint16_t id_ = 0;
  Capture c_;
};

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
void one_country(Gen& g, Capture& c) {
  for (int k = 0, n = g.n_flux(600); k < n; ++k) {
    Gen::FluxShape s;
    s.country = static_cast<char>('A' + g.i(0, 19));
    const bool small = k % 2 == 1;
    if (small) {
      s.k_lo = 3;
      s.k_hi = 6;
      s.ttls = {60, 120, 300};
      s.pool_lo = 6;
      s.pool_hi = 20;
      s.join_per_lookup = 1;
    }
    g.flux_name(g.flux_domain(k), small ? "flux-one-country-small" : "flux-one-country", c.start_s,
                c.end_s, s);
  }
  for (int k = 0, n = g.n(3000); k < n; ++k) {
    const std::string name = fmt::format("b{}.geo{}.example", k, g.u(0, 99));
    const int looks = g.i(1, 40);
    const double r = g.p();
    if (r < 0.25) {
      g.label(name, false, r < 0.125 ? "mail-pool-2-regions" : "lb-2-regions");
      const int which = r < 0.125 ? 2 : 0;
      std::vector<std::uint32_t> pool;
      for (int j = r < 0.125 ? g.i(100, 2000) : g.i(4, 40); j > 0; --j) {
        pool.push_back(g.cloud(which, j % 2));
      }
      for (std::int64_t t : g.times(c.start_s, c.end_s, looks)) {
        std::set<std::uint32_t> a;
        for (int j = g.i(2, r < 0.125 ? 4 : 8); j > 0; --j) {
          a.insert(g.pick(pool));
        }
        g.emit(t, name, dns::kTypeA, {}, {a.begin(), a.end()}, r < 0.125 ? 10 : 60);
      }
    } else if (r < 0.55) {
      g.cloud_lb(name, g.p() < 0.5, c.start_s, c.end_s, looks);
    } else if (r < 0.85) {
      g.mail_pool(fmt::format("mx{}.mailco{}.example", k % 4, k), g.i(0, 1), c.start_s, c.end_s,
                  looks);
    } else {
      g.plain_benign(name, c.start_s, c.end_s, looks);
    }
  }
}

// Added to break the NS-host churn rule (NS host names whose own addresses keep changing): flux
// whose NS hosts keep an agent for a while (each host's agent replaced on about a third of the
// lookups, NS TTL up to an hour), seen through a resolver with minimal responses; beside benign
// zones whose name servers sit on home lines that the ISP renumbers every 4-24 h (TTL 1-10 min),
// and zones at DNS providers whose NS hosts have a 5-minute TTL.
void ns_sticky(Gen& g, Capture& c) {
  for (int k = 0, n = g.n_flux(600); k < n; ++k) {
    const std::string domain = g.flux_domain(k);
    const std::string name = k % 2 ? "www." + domain : domain;
    g.label(name, true, "flux-ns-sticky");
    std::vector<std::string> ns;
    std::vector<std::uint32_t> current;
    for (int j = g.i(2, 4); j > 0; --j) {
      ns.push_back(fmt::format("ns{}.{}", j, domain));
      current.push_back(g.residential());
    }
    const auto host = [&](std::size_t j, std::int64_t) {
      if (g.p() < 0.35) {
        current[j] = g.residential();  // the agent went offline: another takes its place
      }
      return current[j];
    };
    zone_lookups(g, c, domain, name, g.hoster(g.i(0, 15)), g.pick<std::uint32_t>({300, 600, 3600}),
                 ns, host, g.pick<std::uint32_t>({300, 600, 1800, 3600}));
  }
  for (int k = 0, n = g.n(3000); k < n; ++k) {
    const std::string domain = fmt::format("home{}-{}.example", k, g.u(0, 999));
    const std::string name = k % 2 ? "www." + domain : domain;
    std::vector<std::string> ns;
    if (g.p() < 0.6) {
      g.label(name, false, "home-hosted-ns");
      std::vector<std::uint32_t> line;
      std::vector<std::int64_t> next;
      for (int j = g.i(1, 2); j > 0; --j) {
        ns.push_back(fmt::format("ns{}.{}", j, domain));
        line.push_back(g.residential());
        next.push_back(c.start_s + g.i(0, 24 * static_cast<int>(kHour)));
      }
      const auto host = [&](std::size_t j, std::int64_t t) {
        while (t > next[j]) {  // the ISP reassigns the line's address
          line[j] = g.residential();
          next[j] += g.i(4 * static_cast<int>(kHour), 24 * static_cast<int>(kHour));
        }
        return line[j];
      };
      zone_lookups(g, c, domain, name, line[0], 300, ns, host,
                   g.pick<std::uint32_t>({60, 120, 300, 600}));
    } else {
      g.label(name, false, "provider-ns-short-ttl");
      std::vector<std::uint32_t> fixed;
      const int prov = g.i(0, 1);
      for (int j = g.i(2, 4); j > 0; --j) {
        const int host_id = g.i(1, 400);
        ns.push_back(fmt::format("ns{}.shortdns{}.example", host_id, prov));
        // One address per host name, the same for every zone it serves.
        fixed.push_back(addr(198, 18 + static_cast<std::uint32_t>(prov),
                             static_cast<std::uint32_t>(host_id % 250),
                             static_cast<std::uint32_t>(host_id / 250 + 1)));
      }
      const auto host = [&](std::size_t j, std::int64_t) { return fixed[j]; };
      zone_lookups(g, c, domain, name, g.hoster(g.i(0, 15)), 300, ns, host, 300);
    }
  }
}

// Added to break the big-churning-set exception and the no-data withdrawal: big single-region
// load balancers (60-400 nodes over one provider region's /16s, 5-8 per answer, TTL 60, nodes
// replaced), the exception's benign counterpart; and flux networks answering 3-4 agents at a time
// from pools of hundreds (world-wide, and all in one country), below its answer size.
void big_pools(Gen& g, Capture& c) {
  for (int k = 0, n = g.n_flux(600); k < n; ++k) {
    Gen::FluxShape s;
    s.k_lo = 3;
    s.k_hi = 4;
    s.ttls = {60, 120, 180, 300};
    const bool one = k % 2 == 1;
    if (one) {
      s.country = static_cast<char>('A' + g.i(0, 19));
    }
    g.flux_name(g.flux_domain(k), one ? "flux-3-4-one-country" : "flux-3-4-per-answer", c.start_s,
                c.end_s, s);
  }
  for (int k = 0, n = g.n(3000); k < n; ++k) {
    const std::string name = fmt::format("www.big{}-{}.example", k, g.u(0, 999));
    const int looks = g.i(1, 40);
    if (k % 2 == 0) {
      g.label(name, false, "big-lb-one-region");
      const int which = g.i(0, 1);
      const int region = g.i(0, Gen::regions(which) - 1);
      std::vector<std::uint32_t> nodes;
      for (int j = g.i(60, 400); j > 0; --j) {
        nodes.push_back(g.cloud(which, region));
      }
      for (std::int64_t t : g.times(c.start_s, c.end_s, looks)) {
        if (g.p() < 0.2) {
          nodes[g.u(0, nodes.size() - 1)] = g.cloud(which, region);
        }
        std::set<std::uint32_t> a;
        for (int j = g.i(5, 8); j > 0; --j) {
          a.insert(g.pick(nodes));
        }
        g.emit(t, name, dns::kTypeA, {}, {a.begin(), a.end()}, 60);
      }
    } else if (k % 4 == 1) {
      g.cloud_lb(name, false, c.start_s, c.end_s, looks);
    } else {
      g.mail_pool(fmt::format("mx{}.mailco{}.example", k % 4, k), 0, c.start_s, c.end_s, looks);
    }
  }
}

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
      {"big-pools", big_pools}};
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
      "quiet",     "seen-once", "slow-flux",  "ns-flux",     "ns-flux-minimal", "small-botnet",
      "cdn-cloud", "ntp-pool",  "mail-pools", "one-country", "ns-sticky",       "big-pools"};
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
