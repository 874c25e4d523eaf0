#pragma once
// The scan-to-action path of the mail scanner: one function every mail front door calls (the
// spamd protocol, Rspamd's /checkv2 and the milter), so a message gets the same score, symbols
// and action whichever door it came through.
//
// Flow: evaluate(scanner, message, policy) -> Scanner::scan (symbols, score, is_spam against
// required_score) -> action_for(score, is_spam, policy): at or over policy.reject_score the
// configured over-reject action (Reject, or Quarantine / Discard where the front door can do
// that), else AddHeaders for spam, else NoAction -> an Evaluation value. The front door turns
// it into its wire form: spamd's Verdict (make_verdict), Rspamd's JSON, or milter replies
// (headers_to_add, and the action: SMFIR_REJECT / SMFIR_QUARANTINE / SMFIR_DISCARD).
//
// Threading: pure functions over a const Scanner; the caller holds the scanner's shared lock.
// Errors: none; any message gets an evaluation.
#include <string>
#include <string_view>
#include <vector>

#include "core/flux/lookup.hpp"
#include "core/mime/message.hpp"
#include "core/spamd/protocol.hpp"
#include "core/spamd/scanner.hpp"

namespace gf::spamd {

// What the front door does with the message. The names (to_string) are Rspamd's action names,
// which /checkv2 and X-Spam-Action carry.
enum class Action { NoAction, AddHeaders, Reject, Quarantine, Discard };

[[nodiscard]] std::string_view to_string(Action a);  // "no action", "add header", "reject", ...

// What a score at or over reject_score means for a front door: spamd and /checkv2 can only say
// "reject"; a milter may be configured to quarantine (hold) or discard instead.
enum class OverReject { Reject, Quarantine, Discard };

struct ActionPolicy {
  double reject_score = 15.0;  // >= the scanner's required_score (settings validation)
  OverReject over_reject = OverReject::Reject;
};

struct Evaluation {
  Analysis analysis;  // symbols, score, required, is_spam, p_spam; analysis.action = to_string
  Action action = Action::NoAction;
  double reject_score = 15.0;

  [[nodiscard]] bool is_spam() const { return analysis.is_spam; }
  [[nodiscard]] double score() const { return analysis.score; }
  [[nodiscard]] double required() const { return analysis.required; }
  // Names of the symbols that fired, in report order.
  [[nodiscard]] std::vector<std::string> symbol_names() const;
};

[[nodiscard]] Action action_for(double score, bool is_spam, const ActionPolicy& policy);

// `explain` fills the model evidence REPORT shows; `flux` (may be null, not owned) and `keep`
// (may be null: what relearning the message needs) as for Scanner::scan.
[[nodiscard]] Evaluation evaluate(const Scanner& scanner, const mime::Message& m,
                                  const ActionPolicy& policy, bool explain,
                                  const flux::FluxIndex* flux = nullptr,
                                  Scanner::Prepared* keep = nullptr);

// The headers a front door that adds headers (the milter) puts on the message: X-Spam-Checker-
// Version, X-Spam-Flag (spam), X-Spam-Level, X-Spam-Status, X-Spam-Score, X-Spam-Symbols and
// X-Spam-Action, folded with `eol`.
[[nodiscard]] std::vector<Header> headers_to_add(const Evaluation& e,
                                                 std::string_view checker_version,
                                                 std::string_view version,
                                                 std::string_view eol = "\r\n");

// "GTUBE,BAYES_99" (log lines, `greyflux classify`), "none" when no symbol fired.
[[nodiscard]] std::string symbol_list(const Analysis& a);

// Up to 200 characters of the message text on one line (REPORT's content preview).
[[nodiscard]] std::string text_preview(const mime::Message& m);

// Whether a spamd method's reply carries the REPORT text (and so wants the model evidence).
[[nodiscard]] bool wants_report(Method method);

// The spamd reply content for `req`: flags, score and symbols; the REPORT text for REPORT and
// REPORT_IFSPAM; the rewritten message (req.message with the markup) for PROCESS and HEADERS.
[[nodiscard]] Verdict make_verdict(const Request& req, const Evaluation& e, const mime::Message& m,
                                   std::string_view checker_version, std::string_view version);

}  // namespace gf::spamd
