#pragma once
// A scripted comment-API scenario on simulated time (the comment-check dialect beside the
// greylist's scenario.hpp): akismet::CommentService over a MemoryKv, seeded ids, no clock.
//
//   # comment
//   SET min_training=2 spam_threshold=0 site_models=true max_site_models=10
//   CHECK user_ip=192.0.2.1 comment_content=Hello^there user_agent=-
//   SPAM  user_ip=192.0.2.1 comment_content=...      (submit-spam)   HAM ... (submit-ham)
//   CALL usage-limit                                  (any endpoint, with the fields given)
//   EXPECT verdict=spam|ham|invalid|thanks symbol=NAME no_symbol=NAME score_above=1.5
//          score_below=0 weight=NAME:0.80 discard=yes|no body~=text help~=text
//   TIME_PASSES 5m        STORE fail | STORE ok       RESTART (a new service, same store)
//
// Requests are comment-check forms with a key issued at the start (api_key) and usual
// fields: blog=https://blog.example, user_ip=192.0.2.1, a browser user_agent, a referrer on
// the blog, comment_type=comment, comment_author=Sam, comment_content=Hello. `k=v` replaces a
// field, `k=-` leaves it out; '^' in a value is a space. SET rebuilds the service (before the
// first request, or as a restart with other settings).
#include <string_view>

#include "scenario_result.hpp"

namespace gf::testing {

// strict: unknown commands and malformed lines are failures; otherwise skipped (fuzzing).
ScenarioResult run_comment_scenario(std::string_view script, bool strict);

}  // namespace gf::testing
