#include "core/akismet/decision.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>

#include "core/common/strings.hpp"

namespace gf::akismet {

namespace {

constexpr double kScoreTie = 1e-9;

void reputation_symbols(std::vector<Symbol>& out, const char* what, const Reputation& rep,
                        double spam_weight, double ham_weight) {
  if (rep.spam > rep.ham && rep.spam > 0) {
    const double w = rep.spam - rep.ham >= 3 ? spam_weight * 1.5 : spam_weight;
    out.push_back({fmt::format("{}_REPORTED_SPAM", what), w,
                   fmt::format("{} spam / {} ham reports", rep.spam, rep.ham)});
  } else if (rep.ham > rep.spam) {
    out.push_back({fmt::format("{}_REPORTED_HAM", what), ham_weight,
                   fmt::format("{} ham / {} spam reports", rep.ham, rep.spam)});
  }
}

}  // namespace

Decision decide(const CommentRequest& r, const Analysis& a, const Signals& s,
                const DecisionOptions& o) {
  Decision d;
  // Akismet's documented test hooks come first and are final.
  const std::string author = ascii_lower(r.comment_author);
  if (author == "akismet-guaranteed-spam" || author == "viagra-test-123" ||
      ascii_lower(r.comment_author_email) == "akismet-guaranteed-spam@example.com") {
    d.spam = true;
    d.discard = true;
    d.rule = Rule::TestSpam;
    d.score = o.discard_at;
    d.symbols.push_back({"TEST_SPAM", o.discard_at, "Akismet test hook"});
    return d;
  }
  if (ascii_lower(r.user_role) == "administrator") {
    d.rule = Rule::TestHam;
    d.score = -o.discard_at;
    d.symbols.push_back({"USER_ROLE_ADMINISTRATOR", -o.discard_at, "Akismet test hook"});
    return d;
  }

  std::vector<Symbol>& sym = d.symbols;
  if (a.links == 1) {
    sym.push_back({"LINKS_1", 0.4, "1 outside link"});
  } else if (a.links == 2) {
    sym.push_back({"LINKS_2", 1.2, "2 outside links"});
  } else if (a.links >= 3) {
    const double w = std::min(2.5 + 0.5 * static_cast<double>(a.links - 3), 5.0);
    sym.push_back({"LINKS_MANY", w, fmt::format("{} outside links", a.links)});
  }
  if (a.author_has_link) {
    sym.push_back({"AUTHOR_HAS_LINK", 2.5, "a link or domain in the author name"});
  }
  if (a.author_has_email) {
    sym.push_back({"AUTHOR_HAS_EMAIL", 1.5, "an e-mail address in the author name"});
  }
  if (a.bbcode_url) {
    sym.push_back({"BBCODE_URL", 3.0, "BBCode [url] in a comment form that is not a forum"});
  }
  if (!r.honeypot_field_name.empty() && !trim_ws(r.honeypot_value).empty()) {
    sym.push_back(
        {"HONEYPOT_FILLED", o.discard_at,
         fmt::format("hidden field '{}' filled", sanitize_line(r.honeypot_field_name, 40))});
  }

  // Time to submit: WordPress's ak_js is the page's clock (ms) when the form was shown.
  const std::int64_t submit_s = r.comment_date_s.value_or(s.now_s);
  if (r.ak_js_ms) {
    const std::int64_t tts = submit_s - *r.ak_js_ms / 1000;
    if (tts >= 0 && tts < o.fast_submit_s) {
      sym.push_back({"FAST_SUBMIT", 2.5, fmt::format("submitted {}s after the page", tts)});
    }
  } else {
    for (const auto& [k, v] : r.extra) {
      if ((k == "POST_ak_js" || k == "ak_js") && trim_ws(v).empty()) {
        sym.push_back({"NO_JAVASCRIPT", 0.7, "the form's JavaScript timestamp is empty"});
        break;
      }
    }
  }
  if (r.comment_date_s && r.comment_post_modified_s) {
    const std::int64_t after = *r.comment_date_s - *r.comment_post_modified_s;
    if (after >= 0 && after < 15) {
      sym.push_back({"RIGHT_AFTER_POST_UPDATE", 1.0,
                     fmt::format("{}s after the post was published or modified", after)});
    }
  }

  // Server-side contact forms and many API clients send neither field. Before the classifier
  // is trained (a cold start: no text_probability) their absence alone would outweigh the
  // prior, so it is listed at weight 0; once trained it is weak evidence beside the classifier.
  const bool cold_start = !s.text_probability.has_value();
  if (r.user_agent.empty()) {
    sym.push_back({"NO_USER_AGENT", cold_start ? 0.0 : 0.8,
                   cold_start ? "no user_agent (not counted before training)" : "no user_agent"});
  }
  if (r.referrer.empty()) {
    sym.push_back({"NO_REFERRER", cold_start ? 0.0 : 0.2,
                   cold_start ? "no referrer (not counted before training)" : "no referrer"});
  }
  if (!r.user_role.empty()) {
    sym.push_back(
        {"LOGGED_IN_USER", -2.0, fmt::format("user_role {}", sanitize_line(r.user_role, 40))});
  }

  reputation_symbols(sym, "IP", s.ip, 2.0, -1.0);
  reputation_symbols(sym, "EMAIL", s.email, 3.0, -1.5);
  reputation_symbols(sym, "URL", s.url, 3.0, -1.0);
  reputation_symbols(sym, "TEXT", s.text, 5.0, -3.0);
  if (a.text_hash != 0 && s.text_sites >= 2) {
    sym.push_back({"TEXT_ON_MANY_SITES", s.text_sites >= 3 ? 3.0 : 1.5,
                   fmt::format("the same text from {} sites in a day", s.text_sites)});
  }
  if (a.script != Script::Unknown && !a.blog_scripts.empty() &&
      std::find(a.blog_scripts.begin(), a.blog_scripts.end(), a.script) == a.blog_scripts.end()) {
    sym.push_back(
        {"LANGUAGE_MISMATCH", 1.5,
         fmt::format("{} text on a {} blog", to_string(a.script), sanitize_line(r.blog_lang, 40))});
  }
  if (!s.fast_flux_domains.empty()) {
    sym.push_back({"FAST_FLUX_LINK", 4.0,
                   fmt::format("links to fast-flux domain {}", s.fast_flux_domains.front())});
  }
  if (s.text_probability) {
    const classify::TextLogOdds t =
        classify::combine_site(*s.text_probability, s.site_probability, o.site, o.text_clamp);
    sym.push_back({"TEXT_CLASSIFIER", t.deployment * o.text_weight,
                   fmt::format("P(spam) = {:.3f}", *s.text_probability)});
    if (s.site_probability) {
      sym.push_back({"SITE_CLASSIFIER", t.site * o.text_weight,
                     fmt::format("this site's model: P(spam) = {:.3f}", *s.site_probability)});
    }
  }

  d.score = o.bias;
  for (const Symbol& x : sym) {
    d.score += x.weight;
  }
  // Above the threshold by more than rounding: weights that sum to exactly the threshold
  // (0.8 + 0.2 - 1.0 is 5.6e-17 in doubles) are a tie, and a tie is ham.
  d.spam = d.score > o.threshold + kScoreTie;
  const bool honeypot = std::any_of(sym.begin(), sym.end(),
                                    [](const Symbol& x) { return x.name == "HONEYPOT_FILLED"; });
  d.discard = d.spam && (d.score >= o.discard_at || honeypot);
  return d;
}

std::string format_symbols(const std::vector<Symbol>& symbols, std::size_t max) {
  std::vector<const Symbol*> order;
  order.reserve(symbols.size());
  for (const Symbol& s : symbols) {
    order.push_back(&s);
  }
  std::stable_sort(order.begin(), order.end(), [](const Symbol* x, const Symbol* y) {
    return std::fabs(x->weight) > std::fabs(y->weight);
  });
  std::string out;
  out.reserve(std::min(order.size(), max) * 24);
  for (std::size_t i = 0; i < order.size() && i < max; ++i) {
    if (i != 0) {
      out.push_back(' ');
    }
    out += order[i]->name;
    out.push_back('(');
    append_fixed2(out, order[i]->weight);
    out.push_back(')');
  }
  return out;
}

}  // namespace gf::akismet
