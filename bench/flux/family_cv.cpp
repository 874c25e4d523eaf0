#include "family_cv.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace gf::families {
namespace {

constexpr double kDetTarget[kModes] = {99.0, 97.0, 97.0};  // % with ASN data, geo, none
constexpr double kFpTarget[kModes] = {0.1, 1.0, 1.0};
const char* const kModeNames[kModes] = {"ASN", "geo", "none"};

struct Count {
  std::size_t tp = 0, fn = 0, fp = 0, tn = 0;
  void add(const std::vector<Scored>& names, double t) {
    for (const Scored& s : names) {
      const bool flagged = s.score >= t;
      if (s.flux) {
        (flagged ? tp : fn)++;
      } else {
        (flagged ? fp : tn)++;
      }
    }
  }
  double det() const { return tp + fn == 0 ? 100.0 : 100.0 * tp / static_cast<double>(tp + fn); }
  double fpr() const { return fp + tn == 0 ? 0.0 : 100.0 * fp / static_cast<double>(fp + tn); }
};

// Training cost of threshold t in mode m (0: ASN data, 1: countries only, 2: none): first the
// number of (family, target) pairs missed, then the summed shortfall and excess in percentage
// points.
std::pair<int, double> cost(const ScoredSet& data, std::uint64_t held_out, int m, double t) {
  int missed = 0;
  double c = 0;
  for (const auto& [fam, seeds] : data) {
    if (fam == "seen-once") {
      continue;  // no target: one look per name
    }
    Count n;
    for (const auto& [seed, modes] : seeds) {
      if (seed != held_out) {
        n.add(modes[static_cast<std::size_t>(m)], t);
      }
    }
    const double short_det = n.tp + n.fn == 0 ? 0.0 : std::max(0.0, kDetTarget[m] - n.det());
    const double over_fp = n.fp + n.tn == 0 ? 0.0 : std::max(0.0, n.fpr() - kFpTarget[m]);
    missed += (short_det > 0) + (over_fp > 0);
    c += short_det + over_fp;
  }
  return {missed, c};
}

std::string pct(double v, bool any) { return any ? fmt::format("{:.3f}%", v) : "-"; }

}  // namespace

void print_cross_validation(const ScoredSet& data) {
  std::vector<std::uint64_t> seeds;
  for (const auto& [fam, s] : data) {
    for (const auto& [seed, m] : s) {
      if (std::find(seeds.begin(), seeds.end(), seed) == seeds.end()) {
        seeds.push_back(seed);
      }
    }
  }
  std::map<std::string, std::array<Count, kModes>> held;
  fmt::print(
      "# leave-one-seed-out: per ASN mode, the threshold with the fewest missed targets on the\n"
      "# other seeds, then the smallest shortfall + excess (points); grid 3.00..8.00 step 0.25\n");
  for (std::uint64_t out : seeds) {
    for (int m = 0; m < kModes; ++m) {
      double best_t = 0;
      std::pair<int, double> best_c = {1 << 30, 0};
      for (double t = 3.0; t <= 8.0 + 1e-9; t += 0.25) {
        const auto c = cost(data, out, m, t);
        if (c.first < best_c.first ||
            (c.first == best_c.first && c.second < best_c.second - 1e-9)) {
          best_c = c;
          best_t = t;
        }
      }
      fmt::print(
          "held-out seed {:>3} {:<6}: threshold {:.2f} (training: {} targets missed, {:.3f})\n",
          out, kModeNames[m], best_t, best_c.first, best_c.second);
      for (const auto& [fam, s] : data) {
        auto it = s.find(out);
        if (it != s.end()) {
          held[fam][static_cast<std::size_t>(m)].add(it->second[static_cast<std::size_t>(m)],
                                                     best_t);
        }
      }
    }
  }
  fmt::print("{:<15} {:>6} {:>6} | {:>9} {:>9} | {:>9} {:>9} | {:>9} {:>9}   (held-out, summed)\n",
             "family", "flux", "benign", "det+ASN", "FP+ASN", "det geo", "FP geo", "det none",
             "FP none");
  for (const auto& [fam, c] : held) {
    std::string row = fmt::format("{:<15} {:>6} {:>6}", fam, c[0].tp + c[0].fn, c[0].fp + c[0].tn);
    for (const Count& m : c) {
      row += fmt::format(" | {:>9} {:>9}", pct(m.det(), m.tp + m.fn > 0),
                         pct(m.fpr(), m.fp + m.tn > 0));
    }
    fmt::print("{}\n", row);
  }
}

}  // namespace gf::families
