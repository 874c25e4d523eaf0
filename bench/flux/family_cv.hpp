#pragma once
// Threshold choice for the composite by cross-validation over seeds (gf_flux_families --cv).
//
// Each name is reduced to its best composite score over the capture (a held verdict makes a name
// flagged at threshold t exactly when one judgement reached t). For every held-out seed the
// threshold is chosen on the other seeds alone, from a grid, separately with and without ASN
// data, by the issue-12 targets: fewest (family, target) pairs missed over the families except
// seen-once, then the smallest summed shortfall and excess in percentage points; ties go to the
// lower threshold. The held-out seed is then scored at that threshold, and the held-out tallies are
// summed over the folds. Nothing here reads files or clocks.
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gf::families {

struct Scored {
  double score = 0;  // best composite score (very low when never judged)
  bool flux = false;
  std::string kind, line;  // label kind; the text line of the best judgement
};

// family -> seed -> [with ASN data, countries only (geo), no data] -> names
constexpr int kModes = 3;
using ScoredSet =
    std::map<std::string, std::map<std::uint64_t, std::array<std::vector<Scored>, kModes>>>;

// Prints one line per held-out seed (the chosen threshold and the training cost) and the held-out
// table per family and ASN mode.
void print_cross_validation(const ScoredSet& data);

}  // namespace gf::families
