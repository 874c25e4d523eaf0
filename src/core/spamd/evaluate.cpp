#include "core/spamd/evaluate.hpp"

#include "core/common/strings.hpp"

namespace gf::spamd {

std::string_view to_string(Action a) {
  switch (a) {
    case Action::NoAction:
      return "no action";
    case Action::AddHeaders:
      return "add header";
    case Action::Reject:
      return "reject";
    case Action::Quarantine:
      return "quarantine";
    case Action::Discard:
      return "discard";
  }
  return "no action";
}

std::vector<std::string> Evaluation::symbol_names() const {
  std::vector<std::string> names;
  names.reserve(analysis.symbols.size());
  for (const Symbol& s : analysis.symbols) {
    names.push_back(s.name);
  }
  return names;
}

Action action_for(double score, bool is_spam, const ActionPolicy& policy) {
  if (score >= policy.reject_score) {
    switch (policy.over_reject) {
      case OverReject::Reject:
        return Action::Reject;
      case OverReject::Quarantine:
        return Action::Quarantine;
      case OverReject::Discard:
        return Action::Discard;
    }
  }
  return is_spam ? Action::AddHeaders : Action::NoAction;
}

Evaluation evaluate(const Scanner& scanner, const mime::Message& m, const ActionPolicy& policy,
                    bool explain, const flux::FluxIndex* flux, Scanner::Prepared* keep) {
  Evaluation e;
  e.analysis = scanner.scan(m, explain, flux, keep);
  e.action = action_for(e.analysis.score, e.analysis.is_spam, policy);
  e.analysis.action = std::string(to_string(e.action));
  e.reject_score = policy.reject_score;
  return e;
}

std::vector<Header> headers_to_add(const Evaluation& e, std::string_view checker_version,
                                   std::string_view version, std::string_view eol) {
  return markup_headers(e.analysis, checker_version, version, eol, true);
}

std::string symbol_list(const Analysis& a) {
  std::string s;
  for (const Symbol& sym : a.symbols) {
    s += (s.empty() ? "" : ",") + sym.name;
  }
  return s.empty() ? "none" : s;
}

std::string text_preview(const mime::Message& m) {
  std::string out;
  bool space = false;
  for (char c : std::string_view(m.text).substr(0, 600)) {
    const bool ws = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (ws) {
      space = !out.empty();
      continue;
    }
    if (space) {
      out += ' ';
      space = false;
    }
    out += c;
    if (out.size() >= 200) {
      break;
    }
  }
  return sanitize_line(out, 200);
}

bool wants_report(Method method) {
  return method == Method::Report || method == Method::ReportIfSpam;
}

Verdict make_verdict(const Request& req, const Evaluation& e, const mime::Message& m,
                     std::string_view checker_version, std::string_view version) {
  Verdict v;
  v.is_spam = e.analysis.is_spam;
  v.score = e.analysis.score;
  v.required = e.analysis.required;
  v.symbols = e.symbol_names();
  if (wants_report(req.method)) {
    v.report = format_report(e.analysis, text_preview(m));
  }
  if (req.method == Method::Process || req.method == Method::Headers) {
    v.rewritten = rewrite_message(req.message, e.analysis, checker_version, version);
  }
  return v;
}

}  // namespace gf::spamd
