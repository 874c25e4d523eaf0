#pragma once
// The comment-check decision: Akismet's test hooks, then named evidence symbols with weights in
// log-odds units, plus the text classifier's opinion when it has been trained, summed against a
// threshold.
//
// Flow: decide(request, analysis, signals, options). The caller (app/akismet_service) looks up
// everything that needs state first and passes it in `Signals`: reputation counts learned from
// submit-spam/submit-ham for the IP, e-mail, URL hosts and exact text; how many blogs sent the
// same text; the classifier's P(spam) (absent on a cold start, when the heuristics alone
// decide); link domains the fast-flux detector flags (none until that detector exists). The
// clock is `now_s`, passed in.
//
// Score = bias + sum of symbol weights; spam when score > threshold (a tie within rounding is
// ham); "discard" (Akismet's X-akismet-pro-tip) when score >= discard_at, for the honeypot,
// and for the spam test hooks. On a cold start a missing user_agent or referrer weighs nothing
// (server-side forms and API clients send neither); once trained they are weak evidence.
//
// Threading: pure. Errors: none.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/akismet/evidence.hpp"
#include "core/akismet/request.hpp"
#include "core/classify/site_model.hpp"

namespace gf::akismet {

struct Symbol {
  std::string name;  // UPPER_SNAKE, stable: logged, stored, and sent in X-Greyflux-Reasons
  double weight;     // log-odds; positive = spam
  std::string detail;
};

struct Reputation {
  std::uint32_t spam = 0;  // submit-spam reports
  std::uint32_t ham = 0;   // submit-ham reports
};

struct Signals {
  std::int64_t now_s = 0;
  Reputation ip;
  Reputation email;
  Reputation url;  // the worst of the author URL host and the link hosts
  Reputation text;
  std::uint32_t text_sites = 1;                // distinct blogs that sent this text, this one too
  std::optional<double> text_probability;      // classifier P(spam); absent = cold start
  std::optional<double> site_probability;      // the site model's P(spam), with text_probability
  std::vector<std::string> fast_flux_domains;  // flagged link domains (empty: no detector yet)
};

struct DecisionOptions {
  double bias = -1.0;                 // prior: a comment with no evidence is ham
  double threshold = 0.0;             // spam when the score is above
  double discard_at = 8.0;            // X-akismet-pro-tip: discard at or above
  double text_weight = 1.0;           // scale of the classifier's log-odds
  double text_clamp = 6.0;            // |classifier log-odds| at most this (each model's)
  classify::SiteCombineOptions site;  // how a site model's opinion joins the deployment's
  std::int64_t fast_submit_s = 5;
};

enum class Rule : std::uint8_t { TestSpam, TestHam, Score };

struct Decision {
  bool spam = false;
  bool discard = false;
  double score = 0.0;
  Rule rule = Rule::Score;
  std::vector<Symbol> symbols;  // in the order found; sort by |weight| to explain
};

[[nodiscard]] Decision decide(const CommentRequest& r, const Analysis& a, const Signals& s,
                              const DecisionOptions& o = {});

// "LINKS_MANY(2.50) TEXT_CLASSIFIER(-3.10)": the symbols, largest |weight| first.
[[nodiscard]] std::string format_symbols(const std::vector<Symbol>& symbols, std::size_t max = 12);

}  // namespace gf::akismet
