#pragma once
// Parameter and threshold choice for the composite by cross-validation over seeds
// (gf_flux_families --cv).
//
// Each name is reduced, for every point of a grid of composite parameters (param_grid()), to its
// best score over the capture (a held verdict makes a name flagged at threshold t exactly when
// one judgement reached t). For every held-out seed the parameters and the threshold are chosen
// on the other seeds alone, separately with and without ASN data, by the issue-12 targets: fewest
// (family, target) pairs missed over the families except seen-once, then the smallest summed
// shortfall and excess in percentage points, then the fewest names flagged in training (of equal
// choices the most conservative; then the earlier grid point and the lower threshold). The
// held-out seed is then scored with that choice, and the held-out tallies are summed over the
// folds. Families not passed (--families) take no part. Nothing here reads files or clocks.
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/flux/score.hpp"

namespace gf::families {

struct Scored {
  double score = 0;  // best composite score with the default parameters (very low: never judged)
  bool flux = false;
  std::string kind, line;   // label kind; the text line of the best judgement
  std::vector<float> grid;  // best score at each param_grid() point (empty: never judged)
};

// The grid the cross-validation searches: the defaults first, then every combination of the
// values tried for each parameter (the threshold is searched separately).
const std::vector<flux::CompositeParams>& param_grid();
std::string describe(const flux::CompositeParams& p);

// family -> seed -> [with ASN data, countries only (geo), no data] -> names
constexpr int kModes = 3;
using ScoredSet =
    std::map<std::string, std::map<std::uint64_t, std::array<std::vector<Scored>, kModes>>>;

// Prints one line per held-out seed and mode (the chosen parameters, threshold and training cost)
// and the held-out table per family and mode.
void print_cross_validation(const ScoredSet& data);

}  // namespace gf::families
