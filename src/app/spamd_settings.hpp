#pragma once
// The [spamd] settings mapped onto the mail scanner's types: validation (config load and
// `greyflux check`), the scanner options, the action policy and the listener options. The
// settings themselves (names, types, defaults, docs) are in the one table in settings.cpp.
//
// Errors: validate_spamd() names the setting and the rule; the other functions take values
// that passed it.
#include "app/settings.hpp"
#include "core/spamd/evaluate.hpp"
#include "core/spamd/scanner.hpp"
#include "io/net/line_server.hpp"

namespace gf::app {

// Checks the [spamd] settings (listen addresses, thresholds, engine, limits).
[[nodiscard]] Result<void> validate_spamd(const Values& v);

// A score setting (required_score, reject_score, bayes_*): -1000 .. 10000.
[[nodiscard]] Result<double> spamd_score(const Values& v, std::string_view name);

// "spamd.bayes_60" for "BAYES_60": the setting that holds a BAYES symbol's points.
[[nodiscard]] std::string bayes_setting(std::string_view symbol);

// Engine, required_score and the BAYES_* points over the defaults (the rest is not
// configurable).
[[nodiscard]] spamd::ScannerOptions spamd_scanner_options(const Values& v);

// reject_score; spamd and /checkv2 can only say "reject" above it.
[[nodiscard]] spamd::ActionPolicy spamd_action_policy(const Values& v);

// The LineServer options of the spamd listener.
[[nodiscard]] io::LineServerOptions spamd_server_options(const Values& v);

}  // namespace gf::app
