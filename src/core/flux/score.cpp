#include "core/flux/score.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace gf::flux {
namespace {

template <class T>
std::uint32_t count_distinct(std::vector<T>& v) {
  std::sort(v.begin(), v.end());
  return static_cast<std::uint32_t>(std::unique(v.begin(), v.end()) - v.begin());
}

std::uint32_t v4_prefix(const IpAddress& ip, int bits) {
  std::uint32_t a = (std::uint32_t{ip.bytes[12]} << 24) | (std::uint32_t{ip.bytes[13]} << 16) |
                    (std::uint32_t{ip.bytes[14]} << 8) | ip.bytes[15];
  return bits == 0 ? 0 : a >> (32 - bits);
}

std::uint64_t v6_prefix(const IpAddress& ip, int bits) {
  std::uint64_t hi = 0;
  for (int i = 0; i < 8; ++i) {
    hi = (hi << 8) | ip.bytes[i];
  }
  return hi >> (64 - bits);
}

// An ASN, or a stand-in key for its network when the address has none.
std::uint64_t network_key(const IpEntry& e, bool use_asn) {
  if (use_asn && e.asn != 0) {
    return e.asn;
  }
  return e.ip.is_v4() ? (1ull << 40) | v4_prefix(e.ip, 16) : (2ull << 40) ^ v6_prefix(e.ip, 32);
}

void add(ScoreResult& r, std::string id, double w) {
  r.score += w;
  r.fired.push_back({std::move(id), w});
}

bool ns_one_country(const Features& f);

// Name-server addresses over 5+ networks in the window, 6 or more: the NS set fluxes like agents
// (benign zones keep a few name servers at one to three DNS providers).
// Or the NS set keeps changing: two or more later answers brought new name-server addresses, over
// 3+ networks, with the short TTL fluxing needs (benign zones publish NS and glue for a day or
// two; a provider move brings new addresses once).
bool ns_flux(const Features& f) {
  return ((f.ns_addresses >= 6 && f.ns_asns >= 5) ||
          (f.ns_new_events >= 2 && f.ns_asns >= 3 && f.ns_ttl_min_s <= 3600)) &&
         !ns_one_country(f);
}

// The NS host names' own addresses keep changing: in at least `ns_host_change_share` of their
// later lookups, `ns_host_min_changes` times or more, with a TTL of at most an hour. A benign
// zone's name servers keep their addresses (a provider move renames them, so the new hosts start
// afresh); a name server on a home line is renumbered once in many lookups. Flux agents behind
// an NS name change with nearly every lookup (Holz et al. 2008, Nazario and Holz 2008: double
// flux rotates the name servers' A records like the name's own).
// Only changes to another network count (another ASN; without ASN data another country, else
// another /16): an ISP renumbering a home line keeps it in its ASN and country, a replaced agent
// is another home machine, elsewhere (ns-sticky, docs/flux.md).
bool ns_host_churn(const Features& f, const CompositeParams& p) {
  return f.ns_host_net_changes >= p.ns_host_min_changes &&
         f.ns_host_net_changes >= p.ns_host_change_share * f.ns_host_later &&
         f.ns_host_ttl_min_s <= 3600;
}

// With country data (and no ASN data): the name-server addresses, known for three quarters or
// more, all in one country. A zone's name servers on renumbered home lines stay in their country;
// flux agents are world-wide. Such an NS set is not NS flux by its /16 count alone.
bool ns_one_country(const Features& f) {
  return !f.asn_source && f.ns_countries == 1 && 4 * f.ns_countries_known >= 3 * f.ns_addresses;
}

// A CNAME target in another registrable domain than the name's (last two labels: a public
// suffix such as co.uk makes the two look the same, which only withholds the rule).
bool cname_out(const Features& f) {
  for (const std::string& c : f.cname_targets) {
    if (naive_registrable_domain(c) != naive_registrable_domain(f.name)) {
      return true;
    }
  }
  return false;
}

// Name servers seen for the name, for its registrable domain (NS queries, authority sections,
// active checks record them there) and the addresses the NS host names resolved to (a resolver
// with minimal responses sends no glue; its own A lookups of the name servers carry them).
void name_servers(Features& f, const NameState& s, std::int64_t horizon, const Tracker& tracker,
                  bool use_asn) {
  std::vector<const NameState*> zones = {&s};
  if (s.registrable_domain != f.name) {
    if (const NameState* d = tracker.find(s.registrable_domain)) {
      zones.push_back(d);
    }
  }
  std::vector<std::string> names;
  std::vector<IpAddress> seen;
  std::vector<std::uint32_t> ns24;
  std::vector<std::uint64_t> nsnets;
  std::vector<std::uint16_t> nscc;
  std::uint32_t ttl = UINT32_MAX, host_ttl = UINT32_MAX;
  auto add_ip = [&](const IpEntry& e) {
    if (static_cast<std::int64_t>(e.last_s) < horizon ||
        std::find(seen.begin(), seen.end(), e.ip) != seen.end()) {
      return;
    }
    seen.push_back(e.ip);
    ns24.push_back(e.ip.is_v4() ? v4_prefix(e.ip, 24)
                                : static_cast<std::uint32_t>(v6_prefix(e.ip, 48)));
    nsnets.push_back(network_key(e, use_asn));
    if (e.country[0] != 0) {
      nscc.push_back(static_cast<std::uint16_t>((e.country[0] << 8) | e.country[1]));
    }
  };
  for (const NameState* z : zones) {
    for (const IpEntry& e : z->ns_ips) {
      add_ip(e);
    }
    for (const std::string& n : z->ns_names) {
      if (std::find(names.begin(), names.end(), n) == names.end()) {
        names.push_back(n);
      }
    }
    f.ns_changes = std::max(f.ns_changes, z->ns_changes);
    f.ns_new_events += z->ns_new_events;
    ttl = std::min(ttl, z->ns_min_ttl_s);
  }
  for (std::size_t i = 0; i < names.size() && i < 8; ++i) {
    const NameState* h = tracker.find(names[i]);
    if (h == nullptr || h == &s) {
      continue;
    }
    const std::size_t before = seen.size();
    for (const IpEntry& e : h->ips) {
      add_ip(e);
    }
    const std::uint32_t later = h->responses > 0 ? h->responses - 1 : 0;
    if (seen.size() != before) {
      ttl = std::min(ttl, h->min_ttl_s);
      // Lookups that moved the host to another network (a renumbered home line stays in its
      // ASN and country; with neither, the /16 counts).
      f.ns_new_events += std::min(h->net_changes, later);
    }
    // Over the host's whole tracked life, not only the window: a zone looked up a few times a day
    // shows its name servers' addresses changing only across windows.
    if (h->responses > 0) {
      f.ns_host_later += later;
      f.ns_host_changes += std::min(h->answer_changes, later);
      f.ns_host_net_changes += std::min(h->net_changes, later);
      host_ttl = std::min(host_ttl, h->min_ttl_s);
    }
  }
  f.ns_host_ttl_min_s = host_ttl == UINT32_MAX ? 0 : host_ttl;
  f.ns_addresses = static_cast<std::uint32_t>(seen.size());
  f.ns_slash24 = count_distinct(ns24);
  f.ns_asns = count_distinct(nsnets);
  f.ns_countries_known = static_cast<std::uint32_t>(nscc.size());
  f.ns_countries = count_distinct(nscc);
  f.ns_names = static_cast<std::uint32_t>(names.size());
  f.ns_ttl_min_s = ttl == UINT32_MAX ? 0 : ttl;
  f.ns_name_list = std::move(names);
}

// Window addresses that answered, in the window, for another registrable domain than the name's
// own (its CNAME target's), the distinct other domains and how many owner slots named them (each
// address keeps its last 3 owners, so a domain met on k addresses is named k times).
void shared_owners(Features& f, const NameState& s, std::int64_t horizon, const Tracker& tracker) {
  std::vector<std::uint32_t> others;
  std::array<std::uint32_t, 3> o{};
  for (const IpEntry& e : s.ips) {
    if (static_cast<std::int64_t>(e.last_s) < horizon) {
      continue;
    }
    const std::size_t n = tracker.other_owners(e.ip, s.owner_hash, horizon, o);
    f.shared_addresses += n > 0 ? 1 : 0;
    others.insert(others.end(), o.begin(), o.begin() + static_cast<long>(n));
  }
  f.shared_mentions = static_cast<std::uint32_t>(others.size());
  f.shared_domains = count_distinct(others);
}

// Without ASN data, with country data (geo) for at least three quarters of 4+ addresses: all of
// them in one country.
bool one_country_approx(const Features& f) {
  return f.asn_approximate && f.unique_ips >= 4 && f.countries == 1 &&
         4 * f.countries_known >= 3 * f.unique_ips;
}

// The same with two countries among `two_countries_min_addresses` or more addresses.
bool two_countries_approx(const Features& f, const CompositeParams& p) {
  return f.asn_approximate && f.unique_ips >= p.two_countries_min_addresses && f.countries == 2 &&
         4 * f.countries_known >= 3 * f.unique_ips;
}

double threshold_for(const Features& f, const CompositeParams& p) {
  return !f.asn_source && !f.geo_source ? p.threshold_without_data : p.threshold;
}

// Neither ASN nor country data: nothing says who owns the /16s. (With country data an address
// of unknown country is no sign of one region: the rule stays off.) Only names answered with
// fewer than `no_data_min_answers` addresses on average lose the /16 points: a provider's pool
// for one name (a mail provider's MX pool, a small load balancer) answers 2-4 at a time, while
// one answer of 5+ agents over 5+ networks is flux evidence on its own (Holz et al. 2008).
bool no_ownership_data(const Features& f, const CompositeParams& p) {
  return !f.asn_source && !f.geo_source && f.unique_ips >= 4 &&
         f.answers_per_response < p.no_data_min_answers;
}

// A set bigger than one provider's pool answered several at a time, with addresses that keep
// coming (Holz et al. 2008: flux names rotate through hundreds to thousands of agents, 5+ per
// answer). A load balancer's nodes repeat; a mail provider's big pool answers 2-4 at a time.
bool big_churning_set(const Features& f, const CompositeParams& p) {
  return f.unique_ever >= p.big_set_min_unique && f.answers_per_response >= p.big_set_min_answers;
}

// Many of the addresses also answered for other registrable domains in the window. A botnet
// lends the same agents to many unrelated domains (Holz et al. 2008 and Konte et al. 2009 group
// flux domains into a few networks by their shared agents; Perdisci et al. 2009 cluster names by
// shared addresses); a provider's pool answers for its own names, and a customer's name behind a
// CNAME counts as the provider's domain.
// The sharing must also be coherent: the same other domains recur over the name's addresses
// (`shared_min_recurrence` owner slots per other domain on average). A botnet's agents move
// together between the operator's domains, so its names keep meeting the same few; a platform
// that answers directly for hundreds of customers from one pool (shared hosting, a proxy or
// load-balancing service) puts a name's addresses beside a different customer each time.
// And the addresses must be scattered, about one per network (/16 without ASN data): home
// machines of a botnet sit one per line across ISPs, while a platform's pool answers from the
// provider's few blocks, so a name that sees many of its nodes sees their /16s again.
bool shared_across_domains(const Features& f, const CompositeParams& p) {
  return p.shared_min_share > 0 && f.shared_addresses >= 2 &&
         f.shared_domains >= p.shared_min_domains &&
         f.shared_addresses >= p.shared_min_share * f.unique_ips &&
         f.shared_mentions >= p.shared_min_recurrence * f.shared_domains &&
         f.asns >= p.shared_min_scatter * f.unique_ips;
}

}  // namespace

Features features(std::string_view name, const NameState& s, TimePoint now, const Tracker& tracker,
                  const Allowlist* allow) {
  Features f;
  f.name = std::string(name);
  f.registrable_domain = s.registrable_domain;
  f.responses = s.responses;
  f.first_seen = s.first_seen_s;
  f.last_seen = s.last_seen_s;
  f.ips_dropped = s.ips_dropped;
  f.cname_targets = s.cname_targets;
  const auto now_s = to_unix(now);
  const std::int64_t horizon = now_s - tracker.config().window.count();
  const bool use_asn = tracker.has_asn_data();
  f.asn_source = use_asn;
  f.geo_source = tracker.has_geo_data();

  std::vector<std::uint32_t> p16, p24;
  std::vector<std::uint64_t> p32, p48, nets;
  std::vector<std::uint16_t> cc;
  std::size_t unresolved = 0;
  for (const IpEntry& e : s.ips) {
    if (static_cast<std::int64_t>(e.last_s) < horizon) {
      continue;
    }
    f.addresses.push_back(e.ip);
    if (e.ip.is_v4()) {
      ++f.unique_v4;
      p16.push_back(v4_prefix(e.ip, 16));
      p24.push_back(v4_prefix(e.ip, 24));
    } else {
      ++f.unique_v6;
      p32.push_back(v6_prefix(e.ip, 32));
      p48.push_back(v6_prefix(e.ip, 48));
    }
    nets.push_back(network_key(e, use_asn));
    unresolved += (use_asn && e.asn == 0) ? 1 : 0;
    if (e.country[0] != 0) {
      cc.push_back(static_cast<std::uint16_t>((e.country[0] << 8) | e.country[1]));
    }
  }
  f.unique_ips = f.unique_v4 + f.unique_v6;
  f.v4_slash16 = count_distinct(p16);
  f.v4_slash24 = count_distinct(p24);
  f.v6_slash32 = count_distinct(p32);
  f.v6_slash48 = count_distinct(p48);
  f.asns = count_distinct(nets);
  f.countries_known = static_cast<std::uint32_t>(cc.size());
  f.countries = count_distinct(cc);
  f.asn_approximate = !use_asn || unresolved > 0;
  f.spread =
      f.unique_ips == 0 ? 0.0 : static_cast<double>(f.v4_slash24 + f.v6_slash48) / f.unique_ips;

  if (s.ttl_count > 0) {
    std::vector<std::uint32_t> ttls(s.ttl_ring.begin(), s.ttl_ring.begin() + s.ttl_count);
    std::sort(ttls.begin(), ttls.end());
    f.ttl_median_s = ttls[ttls.size() / 2];
    f.ttl_min_s = s.min_ttl_s;
  }
  f.max_answers = s.max_answers;
  if (s.responses > 0) {
    f.answers_per_response = static_cast<double>(s.answers_total) / s.responses;
  }
  if (s.responses > 1) {
    f.ip_growth = static_cast<double>(s.new_ips_after_first) / (s.responses - 1);
  }

  if (s.answers_total > 0) {
    f.answer_spread = static_cast<double>(s.answer_nets_total) / s.answers_total;
    f.unique_ever = s.first_answer_size + s.new_ips_after_first;
    f.reuse = 1.0 - std::min(1.0, static_cast<double>(f.unique_ever) / s.answers_total);
  }
  for (const IpEntry& e : s.ips) {
    const std::uint32_t l = tracker.listed_last_seen(e.ip);
    f.listed_shared += (static_cast<std::int64_t>(e.last_s) >= horizon && l != 0 &&
                        static_cast<std::int64_t>(l) >= horizon)
                           ? 1
                           : 0;
  }
  shared_owners(f, s, horizon, tracker);
  name_servers(f, s, horizon, tracker, use_asn);

  if (allow != nullptr) {
    f.allowlisted = allow->match(name);
    for (const std::string& c : s.cname_targets) {
      if (!f.cname_allowlisted) {
        f.cname_allowlisted = allow->match(c);
      }
    }
  }
  return f;
}

ScoreResult score_holz(const Features& f) {
  ScoreResult r{"holz", 0, 142.38, false, {}};
  add(r, "nA", 1.32 * f.unique_ips);
  add(r, "nASN", 18.54 * f.asns);
  add(r, "nNS", 0.0 * f.ns_names);
  r.flux = r.score > r.threshold;
  return r;
}

ScoreResult score_nazario(const Features& f) {
  ScoreResult r{"nazario", 0, 4, false, {}};
  if (f.ttl_min_s <= 1800 && f.responses > 0) {
    add(r, "ttl_at_most_1800s", 1);
  }
  if (f.max_answers >= 5) {
    add(r, "5plus_records_in_one_answer", 1);
  }
  if (f.unique_ips >= 10) {
    add(r, "10plus_addresses", 1);
  }
  if (f.v4_slash16 + f.v6_slash32 >= 5) {
    add(r, "5plus_slash16", 1);
  }
  if (f.asns >= 5) {
    add(r, "5plus_asns", 1);
  }
  if (f.responses >= 2 && f.ip_growth >= 1.0) {
    add(r, "address_growth", 1);
  }
  if (f.unique_ips >= 3 && f.spread >= 0.9) {
    add(r, "one_address_per_slash24", 1);
  }
  if (f.countries >= 3) {
    add(r, "3plus_countries", 1);
  }
  if (f.ns_slash24 >= 3 || f.ns_changes >= 2) {
    add(r, "name_servers_flux", 1);
  }
  r.flux = r.score > r.threshold;
  return r;
}

namespace {

// The composite's rules, each reported as add(id, points): score_composite keeps them,
// composite_score only sums them (the bench scores a grid of parameters per judgement).
template <class Add>
void composite_rules(const Features& f, const CompositeParams& p, Add&& add) {
  if (f.allowlisted) {
    add("allowlisted:" + f.allowlisted->category + ":" + f.allowlisted->suffix, -100);
    return;
  }
  if (f.unique_ips == 0) {
    return;
  }
  const double networks = f.asns;
  // Many networks behind one name is the core of fast flux; a CDN or round robin stays in few.
  const double asn_points = 2.5 * std::clamp((networks - 1.0) / 5.0, 0.0, 1.0);
  if (asn_points > 0) {
    add(f.asn_approximate ? "network_diversity_approx" : "asn_diversity", asn_points);
  }
  if (f.unique_ips >= 4) {
    // Spread within one answer, not only over the window: a CDN answers from one edge cluster
    // (a /24) per lookup, its clusters spread over many networks; flux agents are scattered.
    const double spread = std::min(f.spread, f.answer_spread);
    const double spread_points = 1.5 * std::clamp((spread - 0.5) / 0.5, 0.0, 1.0);
    if (spread_points > 0) {
      add("slash24_spread", spread_points);
    }
  }
  if (f.unique_ips >= 4 && networks / f.unique_ips >= 0.5) {
    add("one_network_per_address", 1.0);
  }
  if (f.ttl_median_s <= 300) {
    add("ttl_le_300s", 1.0);
  } else if (f.ttl_median_s <= 900) {
    add("ttl_le_900s", 0.5);
  } else if (f.ttl_median_s >= 3600) {
    add("ttl_ge_1h", -1.0);
  }
  if (f.answers_per_response >= 4.0) {
    add("4plus_answers", 0.5);
  }
  if (f.responses >= 2) {
    if (f.ip_growth >= 1.0) {
      add("address_churn", 1.0);
    } else if (f.ip_growth >= 0.3) {
      add("address_churn_low", 0.5);
    }
  }
  if (ns_flux(f)) {
    // The name servers flux like agents: double flux, flux on its own even when the A set is
    // one stable address with a long TTL (6 = the threshold plus the 1 point a 1 h TTL takes).
    add(f.asn_approximate ? "ns_flux_approx" : "ns_flux", 6.0);
  } else if (ns_host_churn(f, p)) {
    // The same, seen as the NS host names' own answers changing across windows (a zone looked up
    // a few times a day through a resolver that sends no glue).
    add("ns_host_churn", 6.0);
  } else if (f.ns_addresses >= 3 && f.ns_asns >= 3) {
    add("double_flux", 1.0);
  }
  const bool one_country = one_country_approx(f) || two_countries_approx(f, p);
  const bool no_data = no_ownership_data(f, p);
  if ((one_country || no_data) && !big_churning_set(f, p) && !shared_across_domains(f, p)) {
    // Without ASN data the /16 count cannot tell one provider's many /16s from many ISPs. A
    // provider's load balancer or mail pool serves from one region, so from one country; flux
    // agents are home machines of many ISPs world-wide (Holz et al. 2008; Huang et al. 2010 take
    // the agents' geographic dispersion as the evidence). Addresses all in one country withdraw
    // the points the /16 count gave (network diversity, one network per address); they do not
    // count as benign evidence beyond that, since a botnet may live in one country.
    double withdrawn = asn_points;
    if (f.unique_ips >= 4 && networks / f.unique_ips >= 0.5) {
      withdrawn += 1.0;
    }
    // With no ownership data at all the same holds: the /16 count says nothing about owners.
    // Either way a set too big and churning too fast for one provider's pool keeps its points,
    // and so does one whose addresses also serve other, unrelated domains (a botnet's agents).
    if (withdrawn > 0) {
      add(one_country ? "one_country_approx" : "no_ownership_data", -withdrawn);
    }
  }
  if (f.unique_ips >= 8 && networks <= 2) {
    add("few_networks_many_addresses", -2.0);
  }
  if (f.answers_per_response >= 2.0 && f.answer_spread <= 0.5) {
    // Each answer from one or two /24s: an edge cluster (Akamai, CloudFront, Fastly answer so).
    add("answers_from_one_cluster", -2.0);
  }
  if (f.asn_approximate && f.responses >= 3 && f.unique_ever >= 4 && f.unique_ever <= 64 &&
      f.reuse >= 0.5) {
    // Without ASN data: a small set answered again and again, a load balancer's nodes or a
    // round robin spread over a provider's many /16s. Bots come and go; a flux network rotates
    // through hundreds of agents (Holz et al. 2008: 100s-1000s per name). With ASN data the
    // provider's one ASN already says so, and a small reused botnet would be missed for nothing.
    add("stable_small_set_approx", -2.0);
  }
  if (f.listed_shared > 0 && 2 * f.listed_shared >= f.unique_ips) {
    // Most addresses also answered for an allowlisted name: servers of a listed pool or CDN
    // (an NTP-pool volunteer, an edge) behind another name, not agents. Serving a listed name's
    // address gains a flux operator nothing: it does not run the operator's content.
    add("shares_listed_servers", -3.0);
  }
  if (f.asn_approximate && cname_out(f)) {
    // Without ASN data a provider's pool over many /16s looks like agents; a CNAME out to
    // another domain is how CDN and cloud customers point at it (flux names answer directly).
    add("cname_out_approx", -2.0);
  }
  if (f.cname_allowlisted) {
    add("cname_into:" + f.cname_allowlisted->category + ":" + f.cname_allowlisted->suffix, -3.0);
  }
}

}  // namespace

ScoreResult score_composite(const Features& f, const CompositeParams& p) {
  ScoreResult r{"composite", 0, threshold_for(f, p), false, {}};
  composite_rules(f, p, [&](std::string_view id, double w) { add(r, std::string(id), w); });
  r.flux = r.score >= r.threshold;
  return r;
}

double composite_threshold(const Features& f, const CompositeParams& p) {
  return threshold_for(f, p);
}

double composite_score(const Features& f, const CompositeParams& p) {
  double score = 0;
  composite_rules(f, p, [&](std::string_view, double w) { score += w; });
  return score;
}

Verdict judge(Features f) {
  Verdict v;
  v.holz = score_holz(f);
  v.nazario = score_nazario(f);
  v.composite = score_composite(f);
  v.features = std::move(f);
  return v;
}

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out.push_back(ch);
        }
    }
  }
  return out;
}

namespace {

std::string score_json(const ScoreResult& r) {
  std::string out = fmt::format(R"({{"score":{:.2f},"threshold":{},"flux":{},"rules":[)", r.score,
                                r.threshold, r.flux ? "true" : "false");
  for (std::size_t i = 0; i < r.fired.size(); ++i) {
    out += fmt::format(R"({}{{"id":"{}","points":{:.2f}}})", i ? "," : "",
                       json_escape(r.fired[i].id), r.fired[i].weight);
  }
  return out + "]}";
}

std::string string_array(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    out += fmt::format(R"({}"{}")", i ? "," : "", json_escape(v[i]));
  }
  return out + "]";
}

}  // namespace

std::string to_json(const Verdict& v, bool with_addresses, const std::string* held) {
  const Features& f = v.features;
  std::string out = fmt::format(
      R"({{"name":"{}","registrable_domain":"{}","flux":{},"approximate":{},"allowlisted":{},)",
      json_escape(f.name), json_escape(f.registrable_domain),
      v.flux() || held != nullptr ? "true" : "false", f.asn_approximate ? "true" : "false",
      f.allowlisted ? "\"" + json_escape(f.allowlisted->suffix) + "\"" : std::string("null"));
  out += fmt::format(R"("scores":{{"composite":{},"holz":{},"nazario":{}}},)",
                     score_json(v.composite), score_json(v.holz), score_json(v.nazario));
  out += fmt::format(
      R"("features":{{"responses":{},"unique_ips":{},"unique_v4":{},"unique_v6":{},)"
      R"("v4_slash16":{},"v4_slash24":{},"v6_slash32":{},"v6_slash48":{},"asns":{},)"
      R"("countries":{},"countries_known":{},"ttl_min_s":{},"ttl_median_s":{},"answers_per_response":{:.2f},)"
      R"("max_answers":{},"ip_growth":{:.2f},"spread":{:.2f},"ns_names":{},"ns_addresses":{},)"
      R"("ns_slash24":{},"ns_asns":{},"ns_changes":{},"first_seen":{},"last_seen":{},)"
      R"("addresses_dropped":{},"ns_new_events":{},"ns_ttl_min_s":{},"answer_spread":{:.2f},)"
      R"("reuse":{:.2f},"listed_shared":{},"ns_host_later":{},"ns_host_changes":{},)"
      R"("ns_host_ttl_min_s":{},"ns_host_net_changes":{},"ns_countries":{},)"
      R"("shared_addresses":{},"shared_domains":{},"shared_mentions":{},"cname_targets":{},)"
      R"("name_servers":{}}})",
      f.responses, f.unique_ips, f.unique_v4, f.unique_v6, f.v4_slash16, f.v4_slash24, f.v6_slash32,
      f.v6_slash48, f.asns, f.countries, f.countries_known, f.ttl_min_s, f.ttl_median_s,
      f.answers_per_response, f.max_answers, f.ip_growth, f.spread, f.ns_names, f.ns_addresses,
      f.ns_slash24, f.ns_asns, f.ns_changes, f.first_seen, f.last_seen, f.ips_dropped,
      f.ns_new_events, f.ns_ttl_min_s, f.answer_spread, f.reuse, f.listed_shared, f.ns_host_later,
      f.ns_host_changes, f.ns_host_ttl_min_s, f.ns_host_net_changes, f.ns_countries,
      f.shared_addresses, f.shared_domains, f.shared_mentions, string_array(f.cname_targets),
      string_array(f.ns_name_list));
  if (with_addresses) {
    std::vector<std::string> ips;
    for (const auto& ip : f.addresses) {
      ips.push_back(to_string(ip));
    }
    out += ",\"addresses\":" + string_array(ips);
  }
  if (held != nullptr) {
    out += ",\"held\":" + *held;
  }
  return out + "}";
}

std::string to_text_line(const Verdict& v) {
  const Features& f = v.features;
  std::string rules;
  for (const Rule& r : v.composite.fired) {
    rules += fmt::format("{}{}{:+.1f}", rules.empty() ? "" : ",", r.id, r.weight);
  }
  return fmt::format(
      "{} {} score={:.1f}/{} holz={:.1f}{} nazario={}{} {}={} ips={} /24={} ttl={}s "
      "answers={:.1f} growth={:.2f} ns_ips={} responses={}{} rules={}",
      v.flux() ? "flux" : "benign", f.name, v.composite.score, v.composite.threshold, v.holz.score,
      v.holz.flux ? "!" : "", v.nazario.score, v.nazario.flux ? "!" : "",
      f.asn_approximate ? "nets~" : "asns", f.asns, f.unique_ips, f.v4_slash24 + f.v6_slash48,
      f.ttl_median_s, f.answers_per_response, f.ip_growth, f.ns_addresses, f.responses,
      f.asn_approximate ? " approximate" : "", rules.empty() ? "-" : rules);
}

}  // namespace gf::flux
