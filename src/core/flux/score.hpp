#pragma once
// Features of a tracked name, the three scorers side by side, and the explanation of a verdict.
//
//   holz       f = 1.32*nA + 18.54*nASN + 0*nNS, flux when f > 142.38 (Holz et al., NDSS 2008:
//              unique A records, their ASNs and NS records over the observed lookups)
//   nazario    nine one-point heuristics after Nazario & Holz (MALWARE 2008), flux above 4
//   composite  the default: weighted evidence (ASN and /24 spread, TTL, churn, answer size,
//              double flux) minus benign signs (few networks behind many addresses, a CNAME into
//              a listed CDN); a name on the allowlist is never flux
//
// Every ScoreResult lists the rules that fired with their weights, so each verdict can be
// explained as JSON (to_json) or as one text line (to_text_line). Pure functions of the
// features; no clock (features() takes `now`).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/time.hpp"
#include "core/flux/allowlist.hpp"
#include "core/flux/tracker.hpp"

namespace gf::flux {

struct Features {
  std::string name;
  std::string registrable_domain;
  std::uint32_t responses = 0;
  std::uint32_t unique_v4 = 0, unique_v6 = 0, unique_ips = 0;
  std::uint32_t v4_slash16 = 0, v4_slash24 = 0, v6_slash32 = 0, v6_slash48 = 0;
  std::uint32_t asns = 0;  // distinct ASNs, or distinct /16 (v4) and /32 (v6) when approximate
  bool asn_approximate = true;
  bool asn_source = false, geo_source = false;  // the tracker had ASN / country data
  std::uint32_t countries = 0;                  // 0 when the ASN source has no country data
  std::uint32_t countries_known = 0;  // window addresses whose country is known (ASN or geo data)
  std::uint32_t ttl_min_s = 0, ttl_median_s = 0;
  double answers_per_response = 0;
  std::uint32_t max_answers = 0;
  double ip_growth = 0;  // new addresses per response after the first
  double spread = 0;     // distinct /24 (v4) and /48 (v6) networks per address
  std::uint32_t ns_names = 0, ns_addresses = 0, ns_slash24 = 0, ns_asns = 0, ns_changes = 0;
  // Name-server addresses are the union of the name's own, its registrable domain's (NS queries,
  // authority sections) and the A/AAAA answers of the NS host names; `ns_new_events` counts
  // later answers that brought a new name-server address (the NS set fluxing).
  std::uint32_t ns_new_events = 0, ns_ttl_min_s = 0;
  // The NS host names' own A/AAAA answers since each was first tracked (not only the window):
  // later lookups, those that brought a new address, and their lowest TTL (0: none looked up).
  std::uint32_t ns_host_later = 0, ns_host_changes = 0, ns_host_ttl_min_s = 0;
  // Of those changes, the ones that moved to another network (ASN; without ASN data the
  // country, else the /16): a home line renumbered by its ISP keeps its ASN and country.
  std::uint32_t ns_host_net_changes = 0;
  // Countries among the name-server addresses, and how many of them have a known country.
  std::uint32_t ns_countries = 0, ns_countries_known = 0;
  double answer_spread = 0;         // distinct /24 per address within one answer, averaged
  double reuse = 0;                 // share of answered addresses that repeat an earlier one
  std::uint32_t unique_ever = 0;    // distinct addresses since first seen (not only the window)
  std::uint32_t listed_shared = 0;  // window addresses that also answered an allowlisted name
  // Window addresses that also answered, within the window, for another registrable domain (the
  // CNAME target's for names behind a CNAME), and how many such other domains.
  std::uint32_t shared_addresses = 0, shared_domains = 0;
  // Owner slots of those addresses naming one of the other domains (each address keeps its last
  // 3 owners): shared_mentions / shared_domains is how often the same other domains recur.
  std::uint32_t shared_mentions = 0;
  std::int64_t first_seen = 0, last_seen = 0;  // Unix seconds
  std::uint32_t ips_dropped = 0;
  std::vector<std::string> cname_targets;
  std::optional<AllowlistMatch> allowlisted;        // the name itself
  std::optional<AllowlistMatch> cname_allowlisted;  // a CNAME target
  std::vector<IpAddress> addresses;                 // in the window, for networks and RPZ
  std::vector<std::string> ns_name_list;
};

// Summarises `state` over the tracker's window ending at `now`. `allow` may be null.
Features features(std::string_view name, const NameState& state, TimePoint now,
                  const Tracker& tracker, const Allowlist* allow);

struct Rule {
  std::string id;  // "asn_diversity"
  double weight;   // points it added (negative for benign evidence)
};

struct ScoreResult {
  std::string_view scorer;
  double score = 0;
  double threshold = 0;
  bool flux = false;
  std::vector<Rule> fired;
};

// The composite's tunable parameters. The defaults are what leave-one-seed-out cross-validation
// on the scenario families chose (gf_flux_families --cv, docs/flux.md); a test or the bench may
// score with others.
struct CompositeParams {
  double threshold = 5.0;
  // NS host churn: the NS host names' own answers changed at least this many times, and in at
  // least this share of their later lookups (an agent per lookup, not a home line renumbered).
  std::uint32_t ns_host_min_changes = 1;
  double ns_host_change_share = 0.25;
  // Without ASN data, a set at least this big (distinct addresses since first seen) answered at
  // least this many at a time is too big and churns too fast for one provider's pool: it keeps the
  // network points that one country (or no ownership data at all) would withdraw.
  std::uint32_t big_set_min_unique = 16;
  double big_set_min_answers = 8.0;
  // With neither ASN nor country data, names answered with fewer addresses than this on average
  // lose the /16-derived points as one country's do (unless the set is big and churning as
  // above, or shared across domains as below; 0: never, the default: two of the third pass's
  // three CV folds keep the points, docs/flux.md), and names are judged against
  // threshold_without_data.
  double no_data_min_answers = 0.0;
  // Without ASN data, a name at least this share of whose addresses (and 2 or more) also answered
  // for other registrable domains, at least shared_min_domains of them, keeps its network points
  // too: flux agents serve many unrelated domains, a provider's pool serves its own family (names
  // behind a CNAME count as the CNAME target's). 0: off.
  double shared_min_share = 0.25;
  std::uint32_t shared_min_domains = 2;
  // ... and the other domains recur: owner slots naming them per other domain (1.0: off). A
  // platform answering for many customers from one pool meets a new customer on each address.
  double shared_min_recurrence = 1.5;
  // ... and the addresses are scattered: at least this many networks (/16s without ASN data) per
  // address (0: off). A platform's pool sits in a few blocks; agents one per home line.
  double shared_min_scatter = 0.5;
  double threshold_without_data = 5.0;
  // Without ASN data, two countries among at least this many addresses withdraw those points
  // too (a provider pool over two regions; agents world-wide spread over many countries).
  std::uint32_t two_countries_min_addresses = 8;
};

ScoreResult score_holz(const Features& f);
ScoreResult score_nazario(const Features& f);
ScoreResult score_composite(const Features& f, const CompositeParams& p = {});
// The composite's score alone (no rule list): what score_composite(f, p).score is, and the
// threshold it is held against (threshold_without_data when the tracker had no data at all).
double composite_score(const Features& f, const CompositeParams& p);
double composite_threshold(const Features& f, const CompositeParams& p);

struct Verdict {
  Features features;
  ScoreResult holz, nazario, composite;
  bool flux() const { return composite.flux; }
};

Verdict judge(Features f);

// {"name":...,"flux":true,"approximate":false,"scores":{...},"features":{...}}. `held`, when
// given, is the JSON object of a verdict held after the fact (verdicts.hpp: held_json): it is
// added as "held" and makes "flux" true whatever the current window says.
std::string to_json(const Verdict& v, bool with_addresses = false,
                    const std::string* held = nullptr);
// "flux flux.example score=8.5/5 holz=812.3 nazario=7 asns=61 ips=112 ttl=180s ... rules=a,b"
std::string to_text_line(const Verdict& v);

std::string json_escape(std::string_view s);

}  // namespace gf::flux
