#include "fixture_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/dns/builder.hpp"

namespace gf::fixtures {
namespace {

constexpr std::uint32_t kResidentialAsnBase = 4200000000u;  // private-use 32-bit ASNs
constexpr int kResidentialAsns = 600;
constexpr std::uint32_t kAkamaiLikeAsn = 4200100001u;  // and +1
constexpr std::uint32_t kAnycastAsn = 4200100010u;
constexpr std::uint32_t kHosterAsnBase = 4200100020u;  // 16 hosters
constexpr std::uint32_t kStaticAsnBase = 4200100040u;  // 3 TEST-NETs

IpAddress v4(std::uint32_t a) {
  IpAddress ip;
  ip.bytes[10] = ip.bytes[11] = 0xff;
  ip.bytes[12] = static_cast<std::uint8_t>(a >> 24);
  ip.bytes[13] = static_cast<std::uint8_t>(a >> 16);
  ip.bytes[14] = static_cast<std::uint8_t>(a >> 8);
  ip.bytes[15] = static_cast<std::uint8_t>(a);
  return ip;
}

IpAddress v6(std::uint16_t g2, std::uint16_t g3, std::uint64_t low) {
  IpAddress ip;
  const std::uint16_t g[4] = {0x2001, 0x0db8, g2, g3};
  for (int i = 0; i < 4; ++i) {
    ip.bytes[2 * i] = static_cast<std::uint8_t>(g[i] >> 8);
    ip.bytes[2 * i + 1] = static_cast<std::uint8_t>(g[i]);
  }
  for (int i = 0; i < 8; ++i) {
    ip.bytes[8 + i] = static_cast<std::uint8_t>(low >> (56 - 8 * i));
  }
  return ip;
}

std::string ip4(std::uint32_t a) {
  return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

// 10.0.0.0/8 in /20 blocks, each given to one of 600 synthetic residential ISPs (scattered).
std::uint32_t residential_asn_of_block(std::uint32_t block) {
  return kResidentialAsnBase + (block * 7919u + 13u) % kResidentialAsns;
}

const char* const kCountries[] = {"XA", "XB", "XC", "XD", "XE", "XF", "XG", "XH", "XI", "XJ",
                                  "XK", "XL", "XM", "XN", "XO", "XP", "XQ", "XR", "XS", "XT"};

std::string asn_table() {
  struct Row {
    std::uint32_t start, end, asn;
    std::string cc, name;
  };
  std::vector<Row> rows;
  for (std::uint32_t b = 0; b < 4096; ++b) {
    const std::uint32_t s = (10u << 24) | (b << 12);
    const std::uint32_t asn = residential_asn_of_block(b);
    rows.push_back({s, s + 4095, asn, kCountries[(asn - kResidentialAsnBase) % 20],
                    fmt::format("SYNTH-RESIDENTIAL-{}", asn - kResidentialAsnBase)});
  }
  for (std::uint32_t b = 0; b < 64; ++b) {  // 100.64.0.0/10: two CDN-like networks
    const std::uint32_t s = (100u << 24) | ((64u + b) << 16);
    rows.push_back({s, s + 65535, kAkamaiLikeAsn + (b < 32 ? 0 : 1), "XA", "SYNTH-CDN"});
  }
  rows.push_back({(198u << 24) | (18u << 16), (198u << 24) | (19u << 16) | 0xFFFF, kAnycastAsn,
                  "XB", "SYNTH-ANYCAST"});
  for (std::uint32_t b = 0; b < 16; ++b) {  // 172.16.0.0/12: 16 hosters
    const std::uint32_t s = (172u << 24) | ((16u + b) << 16);
    rows.push_back(
        {s, s + 65535, kHosterAsnBase + b, kCountries[b], fmt::format("SYNTH-HOSTER-{}", b)});
  }
  const std::uint32_t nets[3] = {(192u << 24) | (0u << 16) | (2u << 8),
                                 (198u << 24) | (51u << 16) | (100u << 8),
                                 (203u << 24) | (0u << 16) | (113u << 8)};
  for (int i = 0; i < 3; ++i) {
    rows.push_back({nets[i], nets[i] + 255, kStaticAsnBase + static_cast<std::uint32_t>(i), "XC",
                    fmt::format("SYNTH-STATIC-{}", i)});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.start < b.start; });
  std::string out =
      "# Synthetic iptoasn-style table for the greyflux flux fixtures: documentation, shared,\n"
      "# private and benchmark ranges with private-use ASNs. Not real routing data.\n";
  for (const Row& r : rows) {
    out += fmt::format("{}\t{}\t{}\t{}\t{}\n", ip4(r.start), ip4(r.end), r.asn, r.cc, r.name);
  }
  out += fmt::format(
      "2001:db8:cf00::\t2001:db8:cfff:ffff:ffff:ffff:ffff:ffff\t{}\tXB\tSYNTH-ANYCAST\n",
      kAnycastAsn);
  out += fmt::format("2001:db8:a000::\t2001:db8:a0ff:ffff:ffff:ffff:ffff:ffff\t{}\tXA\tSYNTH-CDN\n",
                     kAkamaiLikeAsn);
  return out;
}

class Gen {
 public:
  explicit Gen(const Options& o) : o_(o), rng_(o.seed) {}
  World run();

 private:
  std::uint64_t u(std::uint64_t lo, std::uint64_t hi) {  // inclusive
    return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng_);
  }
  double p() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  std::int64_t when() {
    return static_cast<std::int64_t>(u(0, static_cast<std::uint64_t>(o_.duration_s) * 1000000 - 1));
  }
  std::vector<std::int64_t> times(int n) {
    std::vector<std::int64_t> t(static_cast<std::size_t>(n));
    for (auto& x : t) {
      x = when();
    }
    std::sort(t.begin(), t.end());
    return t;
  }
  std::uint32_t residential() {
    return (10u << 24) | static_cast<std::uint32_t>(u(0, (1u << 24) - 1));
  }
  int lookups(int lo, int hi) {
    return static_cast<int>(u(static_cast<std::uint64_t>(lo), static_cast<std::uint64_t>(hi)));
  }

  void emit(std::int64_t t_us, const std::string& qname, std::uint16_t qtype,
            const std::vector<std::pair<std::string, std::uint32_t>>& cnames,  // (target, ttl)
            const std::vector<IpAddress>& addrs, std::uint32_t ttl,
            const std::vector<std::string>& ns = {}, const std::vector<IpAddress>& glue = {},
            std::uint32_t ns_ttl = 0);
  void flux();
  void benign();

  Options o_;
  std::mt19937_64 rng_;
  World w_;
  std::uint16_t id_ = 0;
};

void Gen::emit(std::int64_t t_us, const std::string& qname, std::uint16_t qtype,
               const std::vector<std::pair<std::string, std::uint32_t>>& cnames,
               const std::vector<IpAddress>& addrs, std::uint32_t ttl,
               const std::vector<std::string>& ns, const std::vector<IpAddress>& glue,
               std::uint32_t ns_ttl) {
  Event e;
  e.time_us = static_cast<std::int64_t>(o_.start_s) * 1000000 + t_us;
  e.qtype = qtype;
  e.qname = qname;
  dns::Builder b(++id_, qname, qtype);
  std::string owner = qname;
  for (const auto& [target, cttl] : cnames) {
    b.add_name(dns::Section::Answer, owner, dns::kTypeCname, target, cttl);
    e.answers.push_back(target);
    e.ttls.push_back(cttl);
    owner = target;
  }
  for (const IpAddress& a : addrs) {
    b.add_address(dns::Section::Answer, owner, a, ttl);
    e.answers.push_back(to_string(a));
    e.ttls.push_back(ttl);
  }
  const std::string zone = qname.substr(qname.find('.') == std::string::npos ? 0 : 0);
  for (std::size_t i = 0; i < ns.size(); ++i) {
    const std::string domain = ns[i].substr(ns[i].find('.') + 1);
    if (qtype == dns::kTypeNs) {
      b.add_name(dns::Section::Answer, qname, dns::kTypeNs, ns[i], ns_ttl);
      e.answers.push_back(ns[i]);
      e.ttls.push_back(ns_ttl);
    } else {
      b.add_name(dns::Section::Authority, domain, dns::kTypeNs, ns[i], ns_ttl);
    }
  }
  for (std::size_t i = 0; i < glue.size() && !ns.empty(); ++i) {
    b.add_address(dns::Section::Additional, ns[i % ns.size()], glue[i], ns_ttl);
  }
  (void)zone;
  e.wire = b.finish();
  const double r = p();
  e.transport = r < 0.90 ? 0 : r < 0.95 ? 1 : 2;
  w_.events.push_back(std::move(e));
}

void Gen::flux() {
  const char* const words[] = {"secure", "login",  "pharma", "replica", "bank", "update",
                               "verify", "casino", "loan",   "watch",   "deal", "pill"};
  std::vector<int> network_of(static_cast<std::size_t>(o_.flux_names));
  for (int n = 0; n < o_.flux_names; ++n) {
    network_of[static_cast<std::size_t>(n)] = n % o_.flux_networks;
  }
  for (int net = 0; net < o_.flux_networks; ++net) {
    // The agent pool: residential addresses over many ISPs, growing and shrinking.
    std::vector<std::uint32_t> alive;
    const int initial = lookups(150, 3000);
    std::set<std::uint32_t> used;
    while (static_cast<int>(alive.size()) < initial) {
      const std::uint32_t a = residential();
      if (used.insert(a).second) {
        alive.push_back(a);
      }
    }
    const std::uint32_t ttl = static_cast<std::uint32_t>(
        std::vector<int>{0, 30, 60, 120, 150, 180, 300, 300, 600}[u(0, 8)]);
    const bool double_flux = net % 4 == 0;
    const int answer_lo = 5, answer_hi = static_cast<int>(u(5, 12));
    struct Q {
      std::int64_t t;
      std::string name;
      std::string domain;
    };
    std::vector<Q> queries;
    for (int n = net; n < o_.flux_names; n += o_.flux_networks) {
      const std::string domain =
          fmt::format("{}{}-{}{}.test", words[u(0, 11)], n, words[u(0, 11)], u(10, 999));
      const std::string name = p() < 0.5 ? domain : "www." + domain;
      w_.labels.push_back({name, true, double_flux ? "flux-double" : "flux", net});
      // 20% of names are seen only once or twice: the hard cases for count-based scorers.
      const int q = p() < 0.2 ? lookups(1, 2) : lookups(3, 40);
      for (std::int64_t t : times(q)) {
        queries.push_back({t, name, domain});
      }
    }
    std::sort(queries.begin(), queries.end(), [](const Q& a, const Q& b) { return a.t < b.t; });
    for (const Q& q : queries) {
      // Churn: new bots join; health checks drop dead agents from the pool for good.
      for (int k = static_cast<int>(u(0, 3)); k > 0; --k) {
        const std::uint32_t a = residential();
        if (used.insert(a).second) {
          alive.push_back(a);
        }
      }
      const std::size_t k = std::min<std::size_t>(
          alive.size(),
          u(static_cast<std::uint64_t>(answer_lo), static_cast<std::uint64_t>(answer_hi)));
      std::vector<IpAddress> addrs;
      std::vector<std::size_t> picked;
      while (picked.size() < k) {
        const std::size_t i = u(0, alive.size() - 1);
        if (std::find(picked.begin(), picked.end(), i) == picked.end()) {
          picked.push_back(i);
        }
      }
      for (std::size_t i : picked) {
        addrs.push_back(v4(alive[i]));
      }
      if (alive.size() > 60 && p() < 0.3) {  // one of the answered agents failed its check
        alive.erase(alive.begin() + static_cast<long>(picked[0]));
      }
      std::vector<std::string> ns;
      std::vector<IpAddress> glue;
      if (double_flux) {
        for (int i = 1; i <= 3; ++i) {
          ns.push_back(fmt::format("ns{}.{}", i, q.domain));
          glue.push_back(v4(alive[u(0, alive.size() - 1)]));
        }
      }
      emit(q.t, q.name, dns::kTypeA, {}, addrs, ttl, ns, glue, ttl);
      if (double_flux && p() < 0.3) {  // an NS query for the domain (visible to Zeek too)
        emit(q.t + 1000, q.domain, dns::kTypeNs, {}, {}, 0, ns, glue, ttl);
      }
    }
  }
}

void Gen::benign() {
  const int total = o_.benign_names;
  auto share = [&](double f) { return std::max(1, static_cast<int>(total * f)); };
  int idx = 0;
  // CDN-like (Akamai): CNAME into an edge name, 2 A with TTL 20 inside one or two ASNs.
  for (int i = 0, n = share(0.18); i < n; ++i, ++idx) {
    const std::string name = fmt::format("www.shop{}.example", idx);
    const std::string edge = i % 2 == 0 ? fmt::format("e{}.a.akamaiedge.net", idx)
                                        : fmt::format("e{}.edge.cdnlike{}.example", idx, i % 5);
    w_.labels.push_back(
        {name, false, i % 2 == 0 ? "cdn-akamai-like" : "cdn-akamai-like-unlisted", -1});
    const int pool = lookups(20, 200);
    const int asns = p() < 0.5 ? 1 : 2;
    std::vector<std::uint32_t> edges;
    for (int k = 0; k < pool; ++k) {
      const std::uint32_t b = static_cast<std::uint32_t>(asns == 1 ? u(0, 31) : u(0, 63));
      edges.push_back((100u << 24) | ((64u + b) << 16) | static_cast<std::uint32_t>(u(0, 65535)));
    }
    for (std::int64_t t : times(lookups(5, 60))) {
      emit(t, name, dns::kTypeA, {{edge, 300}},
           {v4(edges[u(0, edges.size() - 1)]), v4(edges[u(0, edges.size() - 1)])}, 20);
    }
  }
  // Cloudflare-like anycast: a stable pair of A and of AAAA, TTL 300, one ASN.
  for (int i = 0, n = share(0.18); i < n; ++i, ++idx) {
    const std::string name = fmt::format("site{}.example", idx);
    w_.labels.push_back({name, false, "anycast-cloudflare-like", -1});
    const std::uint32_t a = (198u << 24) | (18u << 16) | static_cast<std::uint32_t>(u(0, 131071));
    for (std::int64_t t : times(lookups(3, 40))) {
      emit(t, name, dns::kTypeA, {}, {v4(a), v4(a + 1)}, 300);
      if (p() < 0.5) {
        emit(t + 500, name, dns::kTypeAaaa, {}, {v6(0xcf00, 0, a), v6(0xcf00, 0, a + 1)}, 300);
      }
    }
  }
  // Big round-robin sites: 8-16 of 20-150 addresses at one or two hosters, TTL 60-300.
  for (int i = 0, n = share(0.06); i < n; ++i, ++idx) {
    const std::string name = fmt::format("www.bigsite{}.example", idx);
    w_.labels.push_back({name, false, "round-robin", -1});
    const std::uint32_t h1 = static_cast<std::uint32_t>(u(0, 15));
    const std::uint32_t h2 = p() < 0.5 ? h1 : static_cast<std::uint32_t>(u(0, 15));
    std::vector<std::uint32_t> pool;
    const int size = lookups(20, 150);
    const std::uint32_t base24 = static_cast<std::uint32_t>(u(0, 250));
    for (int k = 0; k < size; ++k) {
      const std::uint32_t h = k % 2 == 0 ? h1 : h2;
      pool.push_back((172u << 24) | ((16u + h) << 16) |
                     ((base24 + static_cast<std::uint32_t>(k / 40)) << 8) |
                     static_cast<std::uint32_t>(k % 250 + 1));
    }
    const std::uint32_t ttl = static_cast<std::uint32_t>(std::vector<int>{60, 120, 300}[u(0, 2)]);
    for (std::int64_t t : times(lookups(5, 60))) {
      std::vector<IpAddress> addrs;
      const std::size_t k = u(8, 16);
      const std::size_t off = u(0, pool.size() - 1);
      for (std::size_t j = 0; j < k; ++j) {
        addrs.push_back(v4(pool[(off + j) % pool.size()]));
      }
      emit(t, name, dns::kTypeA, {}, addrs, ttl);
    }
  }
  // NTP pool: 4 A of volunteer servers on many networks, TTL 130 (allowlisted by name).
  {
    std::vector<std::uint32_t> volunteers;
    for (int k = 0; k < 2000; ++k) {
      volunteers.push_back(k % 3 == 0 ? (172u << 24) |
                                            ((16u + static_cast<std::uint32_t>(u(0, 15))) << 16) |
                                            static_cast<std::uint32_t>(u(0, 65535))
                                      : residential());
    }
    const char* const zones[] = {
        "",    "xa.", "xb.",      "europe.", "debian.", "asia.", "north-america.",
        "xc.", "xd.", "android.", "centos.", "ubuntu."};
    for (int i = 0, n = share(0.02); i < n; ++i, ++idx) {
      const std::string name =
          fmt::format("{}.{}pool.ntp.org", i % 4, zones[(i / 4) % 12]) + (i >= 48 ? "" : "");
      const std::string unique = i < 48 ? name : fmt::format("{}.xz{}.pool.ntp.org", i % 4, i);
      w_.labels.push_back({unique, false, "ntp-pool", -1});
      for (std::int64_t t : times(lookups(5, 60))) {
        std::vector<IpAddress> addrs;
        for (int k = 0; k < 4; ++k) {
          addrs.push_back(v4(volunteers[u(0, volunteers.size() - 1)]));
        }
        emit(t, unique, dns::kTypeA, {}, addrs, 130);
      }
    }
  }
  // Mail providers: 2-6 MX host addresses in one ASN, TTL 300-3600.
  for (int i = 0, n = share(0.08); i < n; ++i, ++idx) {
    const std::string name = fmt::format("mx{}.mailprov{}.example", i % 4, idx);
    w_.labels.push_back({name, false, "mail-provider", -1});
    const std::uint32_t h = static_cast<std::uint32_t>(u(0, 15));
    const std::uint32_t base =
        (172u << 24) | ((16u + h) << 16) | (static_cast<std::uint32_t>(u(0, 255)) << 8);
    const std::size_t k = u(2, 6);
    const std::uint32_t ttl = static_cast<std::uint32_t>(std::vector<int>{300, 900, 3600}[u(0, 2)]);
    for (std::int64_t t : times(lookups(2, 30))) {
      std::vector<IpAddress> addrs;
      for (std::size_t j = 0; j < k; ++j) {
        addrs.push_back(v4(base + static_cast<std::uint32_t>(j) + 10));
      }
      emit(t, name, dns::kTypeA, {}, addrs, ttl);
    }
  }
  // Dynamic DNS home hosts: one residential address, TTL 60, changing once or twice.
  for (int i = 0, n = share(0.12); i < n; ++i, ++idx) {
    const std::string name = fmt::format("home{}.dyn.example", idx);
    w_.labels.push_back({name, false, "dynamic-dns", -1});
    std::uint32_t a = residential();
    for (std::int64_t t : times(lookups(2, 30))) {
      if (p() < 0.08) {
        a = (a & 0xFFFFF000u) | static_cast<std::uint32_t>(u(0, 4095));  // same ISP block
      }
      emit(t, name, dns::kTypeA, {}, {v4(a)}, 60);
    }
  }
  // Static sites: the rest. One address on a TEST-NET, long TTL.
  const std::uint32_t nets[3] = {(192u << 24) | (2u << 8), (198u << 24) | (51u << 16) | (100u << 8),
                                 (203u << 24) | (113u << 8)};
  while (idx < total) {
    const std::string name = fmt::format("host{}.example", idx++);
    w_.labels.push_back({name, false, "static", -1});
    const std::uint32_t a = nets[u(0, 2)] + static_cast<std::uint32_t>(u(1, 254));
    const std::uint32_t ttl =
        static_cast<std::uint32_t>(std::vector<int>{3600, 14400, 86400}[u(0, 2)]);
    for (std::int64_t t : times(lookups(1, 20))) {
      emit(t, name, dns::kTypeA, {}, {v4(a)}, ttl);
    }
  }
}

World Gen::run() {
  flux();
  benign();
  std::stable_sort(w_.events.begin(), w_.events.end(),
                   [](const Event& a, const Event& b) { return a.time_us < b.time_us; });
  w_.asn_tsv = asn_table();
  return std::move(w_);
}

}  // namespace

World build_world(const Options& o) { return Gen(o).run(); }

}  // namespace gf::fixtures
