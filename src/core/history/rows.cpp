#include "core/history/rows.hpp"

#include <fmt/format.h>

#include "core/spamd/learn_record.hpp"

namespace gf::history {

std::string_view greylist_verdict(const greylist::Decision& d) {
  using greylist::Reason;
  switch (d.reason) {
    case Reason::NotRcpt:
      return "";
    case Reason::ClientWhitelist:
    case Reason::RecipientWhitelist:
    case Reason::ClientAutoWhitelist:
    case Reason::DomainAutoWhitelist:
      return "whitelisted";
    case Reason::FluxAgent:
      return "flux_agent";
    case Reason::StoreFailure:
      return "store_failure";
    default:
      break;
  }
  return d.action == greylist::Action::Defer ? "defer" : "pass";
}

Row greylist_row(const policy::Request& r, const greylist::Decision& d, std::int64_t now_s,
                 std::string_view via) {
  Row row;
  row.t_s = now_s;
  row.door = Door::Greylist;
  row.via = via;
  row.verdict = greylist_verdict(d);
  row.score = static_cast<double>(d.delay_s);
  // Postfix's name[address] when the client has a name; the plain address when Postfix could
  // not resolve it (client_name empty or "unknown"), so the column reads like the comment rows'.
  const std::string_view address = std::string_view(r.client_address).substr(0, 64);
  const std::string_view name = std::string_view(r.client_name).substr(0, kMaxText);
  row.client = name.empty() || name == "unknown" ? std::string(address)
                                                 : fmt::format("{}[{}]", name, address);
  row.sender = r.sender.substr(0, kMaxText);
  row.recipient = r.recipient.substr(0, kMaxText);
  row.summary = r.helo_name.empty() ? std::string() : "helo=" + r.helo_name.substr(0, kMaxText);
  row.reasons.push_back({greylist::to_string(d.reason), 0.0});
  return row;
}

Row comment_row(const akismet::CommentRequest& r, const akismet::Decision& d, std::string_view site,
                std::string payload, std::int64_t now_s) {
  Row row;
  row.t_s = now_s;
  row.door = Door::Comments;
  row.via = "comment-check";
  row.verdict = d.spam ? "spam" : "ham";
  row.score = d.score;
  row.summary = std::string_view(r.comment_content).substr(0, kMaxSummary);
  row.client = std::string_view(r.user_ip).substr(0, kMaxText);
  row.sender = std::string_view(r.comment_author_email).substr(0, kMaxText);
  row.site = site.substr(0, kMaxText);
  const std::size_t n = std::min(d.symbols.size(), kMaxReasons);
  row.reasons.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    row.reasons.push_back({d.symbols[i].name, d.symbols[i].weight});
  }
  if (!r.is_test) {
    row.features = std::move(payload);
  }
  return row;
}

Row mail_row(const mime::Message& m, const spamd::Evaluation& e,
             const spamd::Scanner::Prepared* kept, std::string_view via, std::string_view client,
             std::int64_t now_s) {
  Row row;
  row.t_s = now_s;
  row.door = Door::Mail;
  row.via = via;
  row.verdict = e.action == spamd::Action::Reject ? "rejected" : e.is_spam() ? "spam" : "ham";
  row.score = e.score();
  row.summary = std::string_view(m.subject).substr(0, kMaxSummary);
  row.client = client.substr(0, kMaxText);
  if (!m.from.empty()) {
    row.sender = std::string_view(m.from[0].addr).substr(0, kMaxText);
  }
  row.recipient = std::string_view(m.to).substr(0, kMaxText);
  const auto& symbols = e.analysis.symbols;
  for (std::size_t i = 0; i < symbols.size() && i < kMaxReasons; ++i) {
    row.reasons.push_back({symbols[i].name, symbols[i].score});
  }
  if (kept != nullptr) {
    row.features = spamd::encode_learn_record(*kept);
  }
  return row;
}

Row flux_row(const flux::Verdict& v, std::int64_t now_s) {
  Row row;
  row.t_s = now_s;
  row.door = Door::Flux;
  row.via = "flux";
  row.verdict = "flagged";
  row.score = v.composite.score;
  row.summary = std::string_view(v.features.name).substr(0, kMaxSummary);
  for (std::size_t i = 0; i < v.composite.fired.size() && i < kMaxReasons; ++i) {
    row.reasons.push_back({v.composite.fired[i].id, v.composite.fired[i].weight});
  }
  return row;
}

}  // namespace gf::history
