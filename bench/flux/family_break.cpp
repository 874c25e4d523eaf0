// The families added to break the rules that fixed the issue-12 families (families.hpp): one
// country, NS hosts on home lines, big pools, and agents shared across domains.
#include "family_gen.hpp"

namespace gf::families {

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
// and zones at DNS providers whose NS hosts have a 5-minute TTL. The ISP renumbers a line from
// its own address blocks (same ASN, same country, often another /16); before the NS-host network
// rule the generator drew the new address from any ISP, which no ISP does.
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
        while (t > next[j]) {  // the ISP reassigns the line's address, from its own blocks
          line[j] = g.residential_same_isp(line[j]);
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

// Added to break the shared-agents evidence (addresses that also answer for other registrable
// domains keep their network points without ASN data): flux botnets that serve one domain each
// (6-20 agents answered 3-6 at a time, and slow flux, 2-3 of 20-400 with a 30-60 min TTL), beside
// platforms whose one pool answers directly for many unrelated customers' names: a rotating pool
// (100-400 nodes of one provider region, 2-4 per answer, TTL 60; atypical, since customers of a
// cloud or mail provider usually point a CNAME at the provider's name) and an anycast pair per
// customer out of 4-8 addresses in two /16s (TTL 300, as Cloudflare-like proxies answer).
void shared_platforms(Gen& g, Capture& c) {
  for (int k = 0, n = g.n_flux(600); k < n; ++k) {
    Gen::FluxShape s;
    s.lone = true;
    const bool small = k % 2 == 0;
    s.k_lo = small ? 3 : 2;
    s.k_hi = small ? 6 : 3;
    s.ttls = small ? std::vector<std::uint32_t>{60, 120, 300}
                   : std::vector<std::uint32_t>{1800, 2400, 3000, 3600};
    s.pool_lo = small ? 6 : 20;
    s.pool_hi = small ? 20 : 400;
    s.join_per_lookup = small ? 1 : 2;
    g.flux_name(g.flux_domain(k), small ? "flux-lone-small" : "flux-lone-slow", c.start_s, c.end_s,
                s);
  }
  struct Platform {
    std::vector<std::uint32_t> nodes;
    bool rotating = false;
  };
  std::vector<Platform> platforms;
  for (int k = g.i(8, 16); k > 0; --k) {
    Platform p;
    p.rotating = k % 2 == 0;
    if (p.rotating) {
      const int which = g.i(0, 1);
      const int region = g.i(0, Gen::regions(which) - 1);
      for (int j = g.i(100, 400); j > 0; --j) {
        p.nodes.push_back(g.cloud(which, region));
      }
    } else {
      const std::uint32_t b16 = static_cast<std::uint32_t>(g.i(64, 120));
      for (int j = g.i(4, 8); j > 0; --j) {
        p.nodes.push_back(addr(100, b16 + static_cast<std::uint32_t>(j % 2), g.i(0, 255), 10));
      }
    }
    platforms.push_back(std::move(p));
  }
  for (int k = 0, n = g.n(3000); k < n; ++k) {
    const Platform& p = platforms[g.u(0, platforms.size() - 1)];
    const std::string name =
        fmt::format("{}cust{}-{}.example", k % 2 ? "www." : "", k, g.u(0, 999));
    g.label(name, false, p.rotating ? "platform-rotating-shared" : "platform-anycast-shared");
    const std::uint32_t a = g.pick(p.nodes);
    std::uint32_t b = g.pick(p.nodes);
    for (int guard = 0; b == a && guard < 8; ++guard) {
      b = g.pick(p.nodes);
    }
    for (std::int64_t t : g.times(c.start_s, c.end_s, g.i(1, 40))) {
      std::set<std::uint32_t> ans;
      if (p.rotating) {
        for (int j = g.i(2, 4); j > 0; --j) {
          ans.insert(g.pick(p.nodes));
        }
      } else {
        ans = {a, b};
      }
      g.emit(t, name, dns::kTypeA, {}, {ans.begin(), ans.end()}, p.rotating ? 60 : 300);
    }
  }
}

}  // namespace gf::families

namespace gf::families {

// Added to break the recurrence condition of the shared-agents evidence (the other domains must
// recur over a name's addresses): one-country botnets of 6-20 agents that each serve 24-64
// domains at once (3-6 agents per answer, TTL 60-300; every domain meets a different few of the
// others on each agent, as a platform's customers do), beside rotating pools of one provider
// region (20-400 nodes, 2-4 per answer, TTL 60) that each answer directly for only 2-6
// customers' names (which then meet each other on every node, as a botnet's domains do).
void dense_sharing(Gen& g, Capture& c) {
  for (int made = 0, n = g.n_flux(600); made < n;) {
    const char country = static_cast<char>('A' + g.i(0, 19));
    std::vector<std::uint32_t> pool;
    for (int j = g.i(6, 20); j > 0; --j) {
      pool.push_back(g.residential_in(country));
    }
    for (int d = g.i(24, 64); d > 0 && made < n; --d, ++made) {
      const std::string name = g.flux_domain(made);
      g.label(name, true, "flux-one-country-crowded");
      const std::uint32_t ttl = g.pick<std::uint32_t>({60, 120, 300});
      for (std::int64_t t : g.times(c.start_s, c.end_s, g.i(3, 40))) {
        if (g.p() < 0.3) {
          pool.push_back(g.residential_in(country));  // an agent joins, another leaves
          if (pool.size() > 20) {
            pool.erase(pool.begin() + static_cast<long>(g.u(0, pool.size() - 1)));
          }
        }
        std::set<std::uint32_t> a;
        const int k = std::min<int>(static_cast<int>(pool.size()), g.i(3, 6));
        while (static_cast<int>(a.size()) < k) {
          a.insert(g.pick(pool));
        }
        g.emit(t, name, dns::kTypeA, {}, {a.begin(), a.end()}, ttl);
      }
    }
  }
  for (int made = 0, n = g.n(3000); made < n;) {
    if (g.p() < 0.3) {
      g.plain_benign(fmt::format("b{}.dense{}.example", made, g.u(0, 99)), c.start_s, c.end_s,
                     g.i(1, 40));
      ++made;
      continue;
    }
    const int which = g.i(0, 1);
    const int region = g.i(0, Gen::regions(which) - 1);
    std::vector<std::uint32_t> nodes;
    for (int j = g.i(20, 400); j > 0; --j) {
      nodes.push_back(g.cloud(which, region));
    }
    for (int d = g.i(2, 6); d > 0 && made < n; --d, ++made) {
      const std::string name =
          fmt::format("{}few{}-{}.example", made % 2 ? "www." : "", made, g.u(0, 999));
      g.label(name, false, "platform-few-customers");
      for (std::int64_t t : g.times(c.start_s, c.end_s, g.i(1, 40))) {
        std::set<std::uint32_t> a;
        for (int j = g.i(2, 4); j > 0; --j) {
          a.insert(g.pick(nodes));
        }
        g.emit(t, name, dns::kTypeA, {}, {a.begin(), a.end()}, 60);
      }
    }
  }
}

}  // namespace gf::families
