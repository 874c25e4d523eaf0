#pragma once
// The history row of each front door's decision: what the door hands to Log::append(). One
// builder per door, so that what a row says about a decision is decided here, not in the
// adapters (docs/history.md lists the fields each door fills).
//
// - greylist_row: client "name[address]", envelope sender and recipient, the verdict as the
//   metrics series name it (defer, pass, whitelisted, flux_agent, store_failure), the reason.
//   Nothing to relearn.
// - comment_row: the site, user_ip, author e-mail, the start of the text, spam/ham with the
//   symbols and weights; the learn payload is akismet::encode_check() of the check (its form
//   fields and key) unless the check was a test (is_test never trains).
// - mail_row: Subject, From, To, spam/ham ("rejected" at or over the reject score), the
//   symbols with their scores; the payload is spamd::encode_learn_record(): fingerprint,
//   feature hashes, URI domains; never the body.
// - flux_row: a name the fast-flux detector flagged, its composite score and fired rules.
//
// Threading: pure functions.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/akismet/decision.hpp"
#include "core/akismet/request.hpp"
#include "core/flux/score.hpp"
#include "core/greylist/greylist.hpp"
#include "core/history/row.hpp"
#include "core/mime/message.hpp"
#include "core/policy/request.hpp"
#include "core/spamd/evaluate.hpp"

namespace gf::history {

// "defer" "pass" "whitelisted" "flux_agent" "store_failure"; "" for decisions not logged
// (before the RCPT stage).
[[nodiscard]] std::string_view greylist_verdict(const greylist::Decision& d);

[[nodiscard]] Row greylist_row(const policy::Request& r, const greylist::Decision& d,
                               std::int64_t now_s, std::string_view via);

// `payload`: the encoded check (empty: not learnable).
[[nodiscard]] Row comment_row(const akismet::CommentRequest& r, const akismet::Decision& d,
                              std::string_view site, std::string payload, std::int64_t now_s);

// `kept` (may be null): what relearning needs, from the scan.
[[nodiscard]] Row mail_row(const mime::Message& m, const spamd::Evaluation& e,
                           const spamd::Scanner::Prepared* kept, std::string_view via,
                           std::string_view client, std::int64_t now_s);

[[nodiscard]] Row flux_row(const flux::Verdict& v, std::int64_t now_s);

}  // namespace gf::history
