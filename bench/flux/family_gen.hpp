#pragma once
// The generator behind the scenario families (families.hpp): the address plan's pools, the
// benign kinds and the flux shapes, shared by families.cpp (the issue-12 families) and
// family_break.cpp (the families added to break the rules that fixed them). Seeded, no I/O.
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/dns/builder.hpp"
#include "core/dns/message.hpp"
#include "families.hpp"

namespace gf::families {

inline constexpr std::uint32_t kResidential = 4200000000u;  // + 0..599
inline constexpr std::uint32_t kCloudA = 4200200001u, kCloudB = 4200200002u, kMail = 4200200003u;
inline constexpr std::uint32_t kCdn = 4200300000u;      // + 0..2
inline constexpr std::uint32_t kHoster = 4200400000u;   // + 0..15
inline constexpr std::uint32_t kDnsProv = 4200500000u;  // + 0..1
inline constexpr std::int64_t kStart = 1767225600;      // 2026-01-01T00:00:00Z
inline constexpr std::int64_t kHour = 3600;

inline IpAddress v4(std::uint32_t a) {
  IpAddress ip;
  ip.bytes[10] = ip.bytes[11] = 0xff;
  for (int i = 0; i < 4; ++i) {
    ip.bytes[12 + i] = static_cast<std::uint8_t>(a >> (24 - 8 * i));
  }
  return ip;
}

inline std::uint32_t addr(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
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
  // Another address of the ISP (ASN) that `a` belongs to: a home line renumbered by its ISP.
  std::uint32_t residential_same_isp(std::uint32_t a) {
    const FamilyAsn plan;
    const std::uint32_t isp = plan.lookup(v4(a)).asn;
    for (;;) {
      const std::uint32_t b = residential();
      if (b != a && plan.lookup(v4(b)).asn == isp) {
        return b;
      }
    }
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
    bool lone = false;        // the botnet serves this one domain (whatever the variation says)
  };
  std::uint32_t agent(const FluxShape& s) {
    return s.country == 0 ? residential() : residential_in(s.country);
  }
  // A botnet lends its agents to 1..Variation::domains_per_botnet domains of one shape in turn
  // (Holz et al. 2008, Konte et al. 2009: a few flux networks serve many domains); joins and
  // departures change the shared pool. With 1 every name has a pool of its own (the generator
  // before agents were shared, RNG draws included).
  struct Botnet {
    std::vector<std::uint32_t> agents;
    std::size_t base = 0;  // its size when made: a new domain finds it back at that size
    int domains_left = 0;
    char country = 0;
  };
  std::vector<std::uint32_t>& botnet_pool(const FluxShape& s, std::vector<std::uint32_t>& own,
                                          FluxShape& shape) {
    shape = s;
    if (v_.domains_per_botnet <= 1 || s.lone) {
      for (int k = i(s.pool_lo, s.pool_hi); k > 0; --k) {
        own.push_back(agent(s));
      }
      return own;
    }
    Botnet& b = botnets_[{s.pool_lo, s.pool_hi, s.country != 0, s.k_lo}];
    if (b.domains_left == 0) {
      b.agents.clear();
      b.country = s.country;
      for (int k = i(s.pool_lo, s.pool_hi); k > 0; --k) {
        b.agents.push_back(agent(s));
      }
      b.base = b.agents.size();
      b.domains_left = i(1, v_.domains_per_botnet);
    } else {
      while (b.agents.size() > b.base) {  // the agents that joined for the last domain, some left
        b.agents.erase(b.agents.begin() + static_cast<long>(u(0, b.agents.size() - 1)));
      }
    }
    --b.domains_left;
    shape.country = b.country;
    return b.agents;
  }
  void flux_name(const std::string& name, const std::string& kind, std::int64_t from,
                 std::int64_t to, const FluxShape& shape_in) {
    label(name, true, kind);
    std::vector<std::uint32_t> own;
    FluxShape s;
    std::vector<std::uint32_t>& pool = botnet_pool(shape_in, own, s);
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
  std::map<std::tuple<int, int, bool, int>, Botnet> botnets_;  // by shape
};

// A zone looked up 3-40 times over the capture: the name's A record, half the time the
// domain's NS set, and each name server's A record (60% of the time), whose address at time t
// is host_addr(j, t).
void zone_lookups(Gen& g, const Capture& c, const std::string& domain, const std::string& name,
                  std::uint32_t a, std::uint32_t a_ttl, const std::vector<std::string>& ns,
                  const std::function<std::uint32_t(std::size_t, std::int64_t)>& host_addr,
                  std::uint32_t ns_ttl);

// The families of family_break.cpp.
void one_country(Gen& g, Capture& c);
void ns_sticky(Gen& g, Capture& c);
void big_pools(Gen& g, Capture& c);
void shared_platforms(Gen& g, Capture& c);
void dense_sharing(Gen& g, Capture& c);

}  // namespace gf::families
