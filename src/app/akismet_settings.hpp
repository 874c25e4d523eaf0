#pragma once
// The comment API's part of the settings table: for every row that lands in
// akismet::ServiceOptions (the core CommentService's options), the code that checks a parsed
// value and puts it there (setting_bindings.hpp). akismet_config() builds the service's options
// with them, validate() runs them to check a config, and the comment-check scenario interpreter
// (tests/support/comment_scenario.cpp) applies `SET key=value` through them. The comment API's
// storage and timer rows (akismet.store_path, map_size, check_retention, max_checks,
// model_save_interval) configure the LMDB adapter and the daemon, not the service, and are not
// bound here; nor is http.max_body, the HTTP server's limit that the form limit copies.
#include <string_view>
#include <vector>

#include "app/setting_bindings.hpp"
#include "core/akismet/comment_service.hpp"

namespace gf::app {

// akismet.spam_threshold lies strictly inside +-this, the scores the test hooks and the
// discard level use (DecisionOptions::discard_at).
inline constexpr double kAkismetThresholdRange = 8.0;

using AkismetBinding = SettingBinding<akismet::ServiceOptions>;

// Applied with apply_bindings() / apply_binding_text() (setting_bindings.hpp).
const std::vector<AkismetBinding>& akismet_bindings();

}  // namespace gf::app
