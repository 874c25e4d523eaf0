// gf_flux_families: the three flux scorers on scenario families built to break them (issue 12).
//
//   gf_flux_families [--seeds 1,2,3] [--scale 1.0] [--families quiet,seen-once,...]
//                    [--allowlist data/flux-allowlist.txt] [--per-kind] [--cv]
//                    [--ttl-factor 1.0] [--flux-factor 1.0] [--domains-per-botnet 16]
//                    [--show-misses N]
//
// --cv chooses the composite's threshold by leave-one-seed-out cross-validation (family_cv.hpp);
// --ttl-factor and --flux-factor move the generator off its defaults (every TTL, the number of
// flux names), --domains-per-botnet the domains a botnet serves (1: a pool per domain);
// --show-misses prints the best judgement of up to N misclassified names per mode.
//
// For each family and seed a labelled capture is generated (families.hpp), fed through the
// production Ingest path into a Tracker with the default settings (window 6 h, idle eviction
// 12 h), in three modes: with the synthetic ASN data (ASN and country), with the plan's countries
// only (what Debian's GeoIP.dat gives: flux.geoip_db without flux.asn_db), and with no data. Names
// are judged as the daemon and the scan judge them: on the window ending at each name's last
// answer, by the tracker's drop hook before a name loses data, and a flux verdict is held for
// flux.verdict_ttl (7 d) in a VerdictMemory per scorer. A name counts as flagged when its scorer
// holds a verdict at the end of the capture. One row per family x scorer x ASN data: detection over
// the flux names, false positives over the benign names, summed over the seeds.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "core/common/strings.hpp"
#include "core/flux/allowlist.hpp"
#include "core/flux/ingest.hpp"
#include "core/flux/score.hpp"
#include "core/flux/verdicts.hpp"
#include "families.hpp"
#include "family_cv.hpp"
#include "io/sys/file.hpp"

using namespace gf;

namespace {

constexpr int kScorers = 3;
const char* const kScorerNames[kScorers] = {"holz", "nazario", "composite"};
const char* const kModeNames[3] = {"ASN", "geo", "none"};

const flux::ScoreResult& by(const flux::Verdict& v, int k) {
  return k == 0 ? v.holz : k == 1 ? v.nazario : v.composite;
}

struct Tally {
  std::size_t tp = 0, fn = 0, fp = 0, tn = 0;
  std::map<std::string, std::pair<std::size_t, std::size_t>> by_kind;  // flagged, total
};

// The composite's highest score over every judgement of a name (each judgement made while its
// verdict could still be held at the end), its label and the text line of that judgement: a
// name is flagged at threshold t exactly when its best score reaches t, which is what the
// threshold cross-validation needs.
struct Best {
  double score = -1e9;
  std::string line;
  std::vector<float> grid;  // best score at each point of the CV's parameter grid (with --cv)
};
using families::Scored;

// Runs one capture; adds to tallies[scorer].
void run(const families::Capture& c, const flux::AsnSource* asn, const flux::AsnSource* geo,
         const flux::Allowlist* allow, bool grid, Tally (&tallies)[kScorers],
         std::vector<Scored>* scored) {
  std::map<std::string, Best> best;
  const auto& points = families::param_grid();
  auto keep = [&](const std::string& name, const flux::Verdict& v) {
    Best& b = best[name];
    if (v.composite.score > b.score) {
      b.score = v.composite.score;
      b.line = flux::to_text_line(v);
    }
    if (grid) {
      b.grid.resize(points.size(), -1e9f);
      for (std::size_t g = 0; g < points.size(); ++g) {
        b.grid[g] =
            std::max(b.grid[g], static_cast<float>(flux::composite_score(v.features, points[g])));
      }
    }
  };
  flux::Tracker tracker({}, asn, nullptr);
  tracker.set_geo(geo);
  if (allow != nullptr) {
    tracker.set_listed([allow](std::string_view n) { return allow->match(n).has_value(); });
  }
  flux::Ingest ingest(tracker);
  std::vector<flux::VerdictMemory> memory(kScorers);
  tracker.set_drop_hook([&](const std::string& name, const flux::NameState& s) {
    if (s.responses > 0) {
      const auto v = flux::judge_latest(name, s, tracker, allow);
      keep(name, v);
      for (int k = 0; k < kScorers; ++k) {
        memory[static_cast<std::size_t>(k)].record(v, by(v, k));
      }
    }
  });
  for (const auto& r : c.responses) {
    ingest.on_dns(r.wire, from_unix(r.time_s), 0);
  }
  const TimePoint end = from_unix(c.end_s);
  tracker.for_each([&](const std::string& name, const flux::NameState& s) {
    if (s.responses > 0) {
      const auto v = flux::judge_latest(name, s, tracker, allow);
      keep(name, v);
      for (int k = 0; k < kScorers; ++k) {
        memory[static_cast<std::size_t>(k)].record(v, by(v, k));
      }
    }
  });
  if (scored != nullptr) {
    for (const auto& l : c.labels) {
      auto it = best.find(l.name);
      scored->push_back({it == best.end() ? -1e9 : it->second.score, l.flux, l.kind,
                         it == best.end() ? l.name + " (never judged)" : it->second.line,
                         it == best.end() ? std::vector<float>{} : std::move(it->second.grid)});
    }
  }
  for (int k = 0; k < kScorers; ++k) {
    auto& m = memory[static_cast<std::size_t>(k)];
    m.expire(end);
    Tally& t = tallies[k];
    for (const auto& l : c.labels) {
      const bool flagged = m.find(l.name, end) != nullptr;
      if (l.flux) {
        (flagged ? t.tp : t.fn)++;
      } else {
        (flagged ? t.fp : t.tn)++;
      }
      auto& kind = t.by_kind[l.kind];
      kind.first += flagged;
      kind.second += 1;
    }
  }
}

std::string pct(std::size_t a, std::size_t total, int digits) {
  return total == 0
             ? "-"
             : fmt::format("{:.{}f}%", 100.0 * static_cast<double>(a) / static_cast<double>(total),
                           digits);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::uint64_t> seeds = {1, 2, 3};
  double scale = 1.0;
  std::vector<std::string> fams = families::family_names();
  std::string allow_path = "data/flux-allowlist.txt";
  bool per_kind = false;
  bool cv = false;
  families::Variation var;
  std::size_t show_misses = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    const std::string v = i + 1 < argc ? argv[i + 1] : "";
    if (k == "--per-kind" || k == "--cv") {
      (k == "--cv" ? cv : per_kind) = true;
      continue;
    }
    ++i;
    if (k == "--seeds") {
      seeds.clear();
      for (auto s : split(v, ',')) {
        seeds.push_back(std::stoull(std::string(s)));
      }
    } else if (k == "--scale") {
      scale = std::stod(v);
    } else if (k == "--families") {
      fams.clear();
      for (auto s : split(v, ',')) {
        fams.emplace_back(s);
      }
    } else if (k == "--ttl-factor") {
      var.ttl_factor = std::stod(v);
    } else if (k == "--flux-factor") {
      var.flux_factor = std::stod(v);
    } else if (k == "--domains-per-botnet") {
      var.domains_per_botnet = std::stoi(v);
    } else if (k == "--show-misses") {
      show_misses = std::stoul(v);
    } else if (k == "--allowlist") {
      allow_path = v;
    } else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  std::optional<flux::Allowlist> allow;
  if (allow_path != "none") {
    auto text = io::read_file(allow_path);
    if (!text) {
      std::fprintf(stderr, "%s\n", text.error().message.c_str());
      return 1;
    }
    allow = *flux::Allowlist::parse(*text);
  }
  const families::FamilyAsn asn;
  const families::FamilyGeo geo;
  fmt::print(
      "# seeds {}, scale {}, ttl factor {}, flux factor {}, domains per botnet 1..{}, allowlist "
      "{}\n",
      fmt::join(seeds, ","), scale, var.ttl_factor, var.flux_factor, var.domains_per_botnet,
      allow_path);
  fmt::print("# ASN: ASN and country data; geo: countries only (GeoIP.dat); none: no data\n");
  fmt::print("{:<15} {:<10} {:>6} {:>6} | {:>9} {:>9} | {:>9} {:>9} | {:>9} {:>9}\n", "family",
             "scorer", "flux", "benign", "det+ASN", "FP+ASN", "det geo", "FP geo", "det none",
             "FP none");
  families::ScoredSet scored;
  for (const auto& fam : fams) {
    Tally with[kScorers], geo_only[kScorers], without[kScorers];
    for (std::uint64_t seed : seeds) {
      const auto c = families::build_family(fam, seed, scale, var);
      auto& modes = scored[fam][seed];
      const flux::Allowlist* al = allow ? &*allow : nullptr;
      run(c, &asn, nullptr, al, cv, with, &modes[0]);
      run(c, nullptr, &geo, al, cv, geo_only, &modes[1]);
      run(c, nullptr, nullptr, al, cv, without, &modes[2]);
    }
    for (int k = 0; k < kScorers; ++k) {
      const Tally& a = with[k];
      const Tally& g = geo_only[k];
      const Tally& b = without[k];
      fmt::print("{:<15} {:<10} {:>6} {:>6} | {:>9} {:>9} | {:>9} {:>9} | {:>9} {:>9}\n", fam,
                 kScorerNames[k], a.tp + a.fn, a.fp + a.tn, pct(a.tp, a.tp + a.fn, 2),
                 pct(a.fp, a.fp + a.tn, 3), pct(g.tp, g.tp + g.fn, 2), pct(g.fp, g.fp + g.tn, 3),
                 pct(b.tp, b.tp + b.fn, 2), pct(b.fp, b.fp + b.tn, 3));
      if (per_kind) {
        for (const auto& [kind, n] : a.by_kind) {
          const auto& ng = g.by_kind.at(kind);
          const auto& nb = b.by_kind.at(kind);
          fmt::print("{:<11}   {:<24} flagged {:>5}/{:<5} ASN, {:>5}/{:<5} geo, {:>5}/{:<5} none\n",
                     "", kind, n.first, n.second, ng.first, ng.second, nb.first, nb.second);
        }
      }
    }
    // The composite's misses at the default threshold: the best judgement of each name.
    for (int m = 0; m < 3 && show_misses > 0; ++m) {
      std::size_t shown = 0;
      for (const auto& [seed, modes] : scored[fam]) {
        for (const Scored& n : modes[static_cast<std::size_t>(m)]) {
          if ((n.score >= 5.0) != n.flux && shown++ < show_misses) {
            fmt::print("  miss {} seed {} {}: {} {}\n", kModeNames[m], seed, n.kind,
                       n.flux ? "missed" : "flagged", n.line);
          }
        }
      }
    }
  }
  if (cv) {
    families::print_cross_validation(scored);
  }
  return 0;
}
