#pragma once
// A scripted greylist scenario with simulated time (after Unbound's testcode/replay):
//
//   # comment
//   SET delay=300 retry_window=2d auto_whitelist_after=5 pooled_senders=false text=Try^later
//                                           (any setting app/greylist_settings.hpp binds, by its
//                                            key or full name, parsed and checked as in a config;
//                                            '^' in a value is a space)
//   WHITELIST_CLIENT 192.0.2.0/24          WHITELIST_RECIPIENT postmaster@
//   REGDOM mail.example.net example.net    (what the registrable-domain lookup answers)
//   FLUX_AGENT 198.51.100.7                 (the fast-flux detector saw it serving a flux name;
//                                            SET flux_agents=defer|reject|off says what follows)
//   REQUEST client_address=192.0.2.1 sender=a@b.example recipient=c@d.example instance=m1
//   EXPECT action=DEFER_IF_PERMIT reason=new delay=300 reply~=4.2.0^Greylisted  ('^' = space)
//   TIME_PASSES 5m
//   STORE fail | STORE ok                   EXPIRE
//
// REQUEST fills in Postfix's usual attributes; `instance` defaults to a fresh value each time.
// The same interpreter drives the scenario tests and the stateful greylist fuzzer.
#include <string_view>

#include "scenario_result.hpp"

namespace gf::testing {

// strict: unknown commands and malformed lines are failures (tests); otherwise skipped (fuzzing).
ScenarioResult run_scenario(std::string_view script, bool strict);

}  // namespace gf::testing
