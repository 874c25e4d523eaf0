// gf_flux_eval: detection and false-positive rates of the three flux scorers on labelled traces.
//
//   gf_flux_eval DIR [--allowlist FILE] [--formats pcap,dnstap,zeek-tsv,zeek-json]
//
// DIR is what gf_flux_fixtures wrote (trace.*, labels.tsv, asn.tsv). For each trace format the
// trace is read through the same ingest path as `greyflux flux scan`, every labelled name is
// judged at the end of the trace, and one table prints detection (flux names flagged) and false
// positives (benign names flagged) for holz, nazario and the composite, plus the composite
// without the allowlist and without ASN data, the false positives by benign kind, and how well
// the flagged names cluster into the generated networks.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/common/strings.hpp"
#include "core/flux/allowlist.hpp"
#include "core/flux/asn.hpp"
#include "core/flux/ingest.hpp"
#include "core/flux/networks.hpp"
#include "core/flux/score.hpp"
#include "io/capture/capture.hpp"
#include "io/sys/file.hpp"

using namespace gf;

namespace {

struct Label {
  bool flux;
  std::string kind;
  int network;
};

struct Tally {
  std::size_t tp = 0, fn = 0, fp = 0, tn = 0;
  std::map<std::string, std::size_t> fp_by_kind;
  void add(const Label& l, bool flagged) {
    if (l.flux) {
      (flagged ? tp : fn)++;
    } else {
      (flagged ? fp : tn)++;
      if (flagged) {
        fp_by_kind[l.kind]++;
      }
    }
  }
  double detection() const {
    return tp + fn == 0 ? 0 : 100.0 * static_cast<double>(tp) / static_cast<double>(tp + fn);
  }
  double fpr() const {
    return fp + tn == 0 ? 0 : 100.0 * static_cast<double>(fp) / static_cast<double>(fp + tn);
  }
};

std::string kinds(const Tally& t) {
  std::string out;
  for (const auto& [k, n] : t.fp_by_kind) {
    out += fmt::format("{}{}={}", out.empty() ? "" : " ", k, n);
  }
  return out.empty() ? "-" : out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: gf_flux_eval DIR [--allowlist FILE] [--formats LIST]\n");
    return 2;
  }
  const std::string dir = argv[1];
  std::string allow_path = "data/flux-allowlist.txt";
  std::vector<std::string> formats = {"pcap", "dnstap", "zeek-tsv", "zeek-json"};
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--allowlist") {
      allow_path = argv[i + 1];
    } else if (k == "--formats") {
      formats.clear();
      for (auto f : split(argv[i + 1], ',')) {
        formats.emplace_back(f);
      }
    }
  }
  std::map<std::string, Label> labels;
  auto lt = io::read_file(dir + "/labels.tsv");
  auto at = io::read_file(dir + "/asn.tsv");
  auto al = io::read_file(allow_path);
  if (!lt || !at || !al) {
    std::fprintf(stderr, "missing labels.tsv, asn.tsv or the allowlist\n");
    return 1;
  }
  for (auto line : split(*lt, '\n')) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    auto c = split(line, '\t');
    if (c.size() >= 4) {
      labels[std::string(c[0])] = {c[1] == "flux", std::string(c[2]),
                                   std::atoi(std::string(c[3]).c_str())};
    }
  }
  const auto asn = *flux::AsnTable::parse_tsv(*at);
  const auto allow = *flux::Allowlist::parse(*al);
  std::size_t n_flux = 0;
  for (const auto& [n, l] : labels) {
    n_flux += l.flux;
  }
  fmt::print("# {}: {} labelled names ({} flux, {} benign); allowlist {} ({} suffixes)\n", dir,
             labels.size(), n_flux, labels.size() - n_flux, allow_path, allow.size());
  const std::map<std::string, std::string> files = {{"pcap", "trace.pcap"},
                                                    {"dnstap", "trace.dnstap"},
                                                    {"zeek-tsv", "trace.zeek.log"},
                                                    {"zeek-json", "trace.zeek.json"}};
  fmt::print("{:<10} {:<26} {:>10} {:>8} {:>9} {:>7}  {}\n", "format", "scorer", "detection",
             "missed", "FP rate", "FPs", "false positives by kind");
  for (const std::string& fmt_name : formats) {
    auto fit = files.find(fmt_name);
    if (fit == files.end()) {
      continue;
    }
    for (int pass = 0; pass < 2; ++pass) {
      const bool with_asn = pass == 0;
      flux::Tracker tracker({}, with_asn ? &asn : nullptr, nullptr);
      tracker.set_listed([&allow](std::string_view n) { return allow.match(n).has_value(); });
      flux::Ingest ingest(tracker);
      const auto t0 = std::chrono::steady_clock::now();
      auto r = io::read_capture(dir + "/" + fit->second, ingest, 0);
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!r) {
        std::fprintf(stderr, "%s\n", r.error().message.c_str());
        return 1;
      }
      std::uint32_t newest = 0;
      tracker.for_each([&](const std::string&, const flux::NameState& s) {
        newest = std::max(newest, s.last_seen_s);
      });
      Tally holz, naz, comp, comp_noallow;
      std::vector<flux::NamedAddresses> flagged;
      std::size_t unseen = 0;
      for (const auto& [name, label] : labels) {
        const flux::NameState* s = tracker.find(name);
        if (s == nullptr || s->responses == 0) {
          ++unseen;
          holz.add(label, false);
          naz.add(label, false);
          comp.add(label, false);
          comp_noallow.add(label, false);
          continue;
        }
        const auto v = flux::judge(flux::features(name, *s, from_unix(newest), tracker, &allow));
        // Without the allowlist, and without what it teaches: the addresses of listed names.
        auto f_noallow = flux::features(name, *s, from_unix(newest), tracker, nullptr);
        f_noallow.listed_shared = 0;
        const auto v_noallow = flux::judge(std::move(f_noallow));
        holz.add(label, v.holz.flux);
        naz.add(label, v.nazario.flux);
        comp.add(label, v.composite.flux);
        comp_noallow.add(label, v_noallow.composite.flux);
        if (v.composite.flux) {
          flagged.push_back({name, v.features.addresses});
        }
      }
      const std::string suffix = with_asn ? "" : " (no ASN data)";
      auto row = [&](const std::string& name, const Tally& t) {
        fmt::print("{:<10} {:<26} {:>9.2f}% {:>8} {:>8.3f}% {:>7}  {}\n", fmt_name, name + suffix,
                   t.detection(), t.fn, t.fpr(), t.fp, kinds(t));
      };
      row("holz", holz);
      row("nazario", naz);
      row("composite (default)", comp);
      row("composite, no allowlist", comp_noallow);
      if (with_asn) {
        // Networks: how many clusters, and how pure they are against the generated networks.
        const auto nets = flux::cluster_networks(flagged, 2);
        std::size_t majority = 0, total = 0;
        std::set<int> covered;
        for (const auto& n : nets) {
          std::map<int, std::size_t> count;
          for (const auto& name : n.names) {
            count[labels[name].network]++;
          }
          std::size_t best = 0;
          for (const auto& [net, c] : count) {
            best = std::max(best, c);
            covered.insert(net);
          }
          majority += best;
          total += n.names.size();
        }
        std::size_t truth = 0;
        for (const auto& [n, l] : labels) {
          truth = std::max<std::size_t>(truth, static_cast<std::size_t>(l.network + 1));
        }
        fmt::print(
            "{:<10} networks: {} clusters for {} generated networks, purity {:.1f}%, "
            "{} names unseen in trace, ingest {:.2f}s ({})\n",
            fmt_name, nets.size(), truth,
            total ? 100.0 * static_cast<double>(majority) / static_cast<double>(total) : 0.0,
            unseen, secs, ingest.stats().summary());
      }
    }
  }
  return 0;
}
