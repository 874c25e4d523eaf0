#pragma once
// The model configurations gf_mail_eval measures: the default (GF_EVAL_AUTOLEARN and GF_EVAL_FIT
// change it for the scripts that run --configs default) and, with --configs all, the sweep that
// GF_EVAL_SWEEP names (one per round of docs/mail-scanner.md).
#include <string>
#include <vector>

#include "core/spamd/scanner.hpp"

namespace gf::bench {

struct Config {
  std::string name;
  spamd::ScannerOptions options;
};

[[nodiscard]] std::vector<Config> configs(bool all);

}  // namespace gf::bench
