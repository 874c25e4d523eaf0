#include "core/akismet/protocol.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "core/common/strings.hpp"

namespace gf::akismet {

namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

std::size_t parse_count(std::string_view v, std::size_t fallback, std::size_t max) {
  std::size_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size()) {
    return fallback;
  }
  return std::min(n, max);
}

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    return std::string(s);
  }
  std::string out = "\"";
  for (char c : s) {
    out += c;
    if (c == '"') {
      out += '"';
    }
  }
  return out + "\"";
}

}  // namespace

Endpoint endpoint_of(std::string_view path) {
  path = path.substr(0, path.find_first_of("?#"));
  while (path.size() > 1 && path.back() == '/') {
    path.remove_suffix(1);
  }
  std::string_view rest;
  if (path.starts_with("/1.1/")) {
    rest = path.substr(5);
  } else if (path.starts_with("/1.2/")) {
    rest = path.substr(5);
  } else {
    return Endpoint::Unknown;
  }
  if (rest == "verify-key") {
    return Endpoint::VerifyKey;
  }
  if (rest == "comment-check") {
    return Endpoint::CommentCheck;
  }
  if (rest == "submit-spam") {
    return Endpoint::SubmitSpam;
  }
  if (rest == "submit-ham") {
    return Endpoint::SubmitHam;
  }
  if (rest == "key-sites") {
    return Endpoint::KeySites;
  }
  if (rest == "usage-limit") {
    return Endpoint::UsageLimit;
  }
  if (rest == "get-subscription") {
    return Endpoint::GetSubscription;
  }
  if (rest == "get-stats") {
    return Endpoint::GetStats;
  }
  if (rest == "test") {
    return Endpoint::Test;
  }
  if (rest == "deactivate") {
    return Endpoint::Deactivate;
  }
  return Endpoint::Unknown;
}

std::string_view to_string(Endpoint e) {
  switch (e) {
    case Endpoint::VerifyKey:
      return "verify-key";
    case Endpoint::CommentCheck:
      return "comment-check";
    case Endpoint::SubmitSpam:
      return "submit-spam";
    case Endpoint::SubmitHam:
      return "submit-ham";
    case Endpoint::KeySites:
      return "key-sites";
    case Endpoint::UsageLimit:
      return "usage-limit";
    case Endpoint::GetSubscription:
      return "get-subscription";
    case Endpoint::GetStats:
      return "get-stats";
    case Endpoint::Test:
      return "test";
    case Endpoint::Deactivate:
      return "deactivate";
    case Endpoint::Unknown:
      break;
  }
  return "unknown";
}

bool well_formed_key(std::string_view key) {
  return key.size() == kKeyLength && std::all_of(key.begin(), key.end(), is_alnum);
}

std::string key_from_host(std::string_view host) {
  host = trim_ws(host);
  if (host.empty() || host.front() == '[') {
    return {};  // IPv6 literal
  }
  host = host.substr(0, host.find(':'));
  const std::size_t dot = host.find('.');
  if (dot == std::string_view::npos) {
    return {};
  }
  const std::string_view label = host.substr(0, dot);
  const std::string_view after = host.substr(dot + 1);
  if (after.empty() || std::all_of(host.begin(), host.end(),
                                   [](char c) { return (c >= '0' && c <= '9') || c == '.'; })) {
    return {};  // IPv4 literal
  }
  return well_formed_key(label) ? std::string(label) : std::string();
}

std::optional<std::string_view> missing_required(Endpoint e, const CommentRequest& r) {
  switch (e) {
    case Endpoint::VerifyKey:
      if (r.blog.empty()) {
        return "blog";
      }
      return std::nullopt;
    case Endpoint::CommentCheck:
    case Endpoint::SubmitSpam:
    case Endpoint::SubmitHam:
      if (r.blog.empty()) {
        return "blog";
      }
      if (r.user_ip.empty()) {
        return "user_ip";
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

Reply reply_valid() {
  Reply r;
  r.body = "valid";
  return r;
}

Reply reply_invalid(std::string_view debug_help) {
  Reply r;
  r.body = "invalid";
  r.headers.emplace_back("X-akismet-debug-help", sanitize_line(debug_help, 200));
  return r;
}

Reply reply_missing_field(std::string_view field) {
  Reply r;
  r.body = fmt::format("Missing required field: {}.", field);
  r.headers.emplace_back("X-akismet-debug-help", r.body);
  return r;
}

Reply reply_check(const Decision& d, std::string_view guid) {
  return reply_check(d, guid, format_symbols(d.symbols, kReplySymbols));
}

Reply reply_check(const Decision& d, std::string_view guid, std::string_view reasons) {
  // The header carries the first kReplySymbols of `reasons` (entries are separated by spaces;
  // symbol names have none).
  std::size_t cut = 0;
  for (std::size_t n = 0; cut < reasons.size(); ++cut) {
    if (reasons[cut] == ' ' && ++n == kReplySymbols) {
      break;
    }
  }
  reasons = reasons.substr(0, cut);
  Reply r;
  r.body = d.spam ? "true" : "false";
  r.headers.reserve(4);
  r.headers.emplace_back("X-akismet-guid", std::string(guid));
  if (d.discard) {
    r.headers.emplace_back("X-akismet-pro-tip", "discard");
  }
  std::string score;
  append_fixed2(score, d.score);
  r.headers.emplace_back("X-Greyflux-Score", std::move(score));
  if (!reasons.empty()) {
    r.headers.emplace_back("X-Greyflux-Reasons", std::string(reasons));
  }
  return r;
}

Reply reply_thanks() {
  Reply r;
  r.body = std::string(kThanks);
  return r;
}

Reply reply_connected() {
  Reply r;
  r.body = "connected";
  return r;
}

Reply reply_deactivated() {
  Reply r;
  r.body = "deactivated";
  return r;
}

void add_usage_alert(Reply& r, std::uint64_t limit, std::uint64_t usage) {
  if (limit == 0 || usage <= limit) {
    return;
  }
  r.headers.emplace_back("X-akismet-alert-code", std::string(kAlertOverLimit));
  r.headers.emplace_back("X-akismet-alert-msg",
                         fmt::format("This key made {} API calls this month, over its limit of {} "
                                     "(greyflux akismet.usage_limit); greyflux keeps answering.",
                                     usage, limit));
  r.headers.emplace_back("X-akismet-alert-api-calls", std::to_string(usage));
  r.headers.emplace_back("X-akismet-alert-usage-limit", std::to_string(limit));
}

Reply reply_http_error(int status, std::string_view text) {
  Reply r;
  r.status = status;
  r.body = std::string(text);
  return r;
}

KeySitesQuery key_sites_query(const Form& form, std::string_view default_month) {
  KeySitesQuery q;
  const std::string_view month = form.get("month");
  const bool month_ok =
      month.size() == 7 && month[4] == '-' &&
      std::all_of(month.begin(), month.begin() + 4, [](char c) { return c >= '0' && c <= '9'; }) &&
      month[5] >= '0' && month[5] <= '1' && month[6] >= '0' && month[6] <= '9';
  q.month = month_ok ? std::string(month) : std::string(default_month);
  q.csv = ascii_lower(form.get("format")) == "csv";
  const std::string order = ascii_lower(form.get("order"));
  for (std::string_view o : {"total", "spam", "ham", "missed_spam", "false_positives", "site"}) {
    if (order == o) {
      q.order = order;
    }
  }
  q.limit = parse_count(form.get("limit"), 500, 10000);
  q.offset = parse_count(form.get("offset"), 0, 1u << 30);
  return q;
}

Reply reply_key_sites(const KeySitesQuery& q, std::string_view key, std::vector<SiteUsage> sites) {
  auto metric = [&](const SiteUsage& s) -> std::uint64_t {
    if (q.order == "spam") {
      return s.spam;
    }
    if (q.order == "ham") {
      return s.ham;
    }
    if (q.order == "missed_spam") {
      return s.missed_spam;
    }
    if (q.order == "false_positives") {
      return s.false_positives;
    }
    return s.api_calls;
  };
  std::stable_sort(sites.begin(), sites.end(), [&](const SiteUsage& a, const SiteUsage& b) {
    if (q.order == "site") {
      return a.site < b.site;
    }
    return metric(a) > metric(b);
  });
  const std::size_t total = sites.size();
  const std::size_t begin = std::min(q.offset, total);
  const std::size_t end = std::min(total, begin + q.limit);
  Reply r;
  if (q.csv) {
    r.content_type = "text/csv; charset=utf-8";
    r.body = fmt::format("Active sites for {} during {} (limit:{}, offset: {}, total: {})\n", key,
                         q.month, q.limit, q.offset, total);
    r.body += "Site,Total API Calls,Spam,Ham,Missed Spam,False Positives,Is Revoked\n";
    for (std::size_t i = begin; i < end; ++i) {
      const SiteUsage& s = sites[i];
      r.body += fmt::format("{},{},{},{},{},{},{}\n", csv_field(s.site), s.api_calls, s.spam, s.ham,
                            s.missed_spam, s.false_positives, s.is_revoked ? "true" : "false");
    }
    return r;
  }
  r.content_type = "application/json; charset=utf-8";
  std::string list;
  for (std::size_t i = begin; i < end; ++i) {
    const SiteUsage& s = sites[i];
    list += fmt::format(
        "{}{{\"site\":{},\"api_calls\":\"{}\",\"spam\":\"{}\",\"ham\":\"{}\","
        "\"missed_spam\":\"{}\",\"false_positives\":\"{}\",\"is_revoked\":{}}}",
        list.empty() ? "" : ",", json_string(s.site), s.api_calls, s.spam, s.ham, s.missed_spam,
        s.false_positives, s.is_revoked ? "true" : "false");
  }
  r.body = fmt::format("{{{}:[{}],\"limit\":{},\"offset\":{},\"total\":{}}}", json_string(q.month),
                       list, q.limit, q.offset, total);
  return r;
}

Reply reply_usage_limit(std::uint64_t limit, std::uint64_t usage) {
  Reply r;
  r.content_type = "application/json; charset=utf-8";
  if (limit == 0) {
    r.body = fmt::format(
        "{{\"limit\":\"none\",\"usage\":{},\"percentage\":\"0.00\",\"throttled\":false}}", usage);
  } else {
    const double pct = 100.0 * static_cast<double>(usage) / static_cast<double>(limit);
    r.body = fmt::format("{{\"limit\":{},\"usage\":{},\"percentage\":\"{:.2f}\",\"throttled\":{}}}",
                         limit, usage, pct, usage > limit ? "true" : "false");
  }
  return r;
}

Reply reply_subscription(std::uint64_t /*limit*/, std::uint64_t /*usage*/) {
  Reply r;
  r.content_type = "application/json; charset=utf-8";
  r.body = fmt::format(
      "{{\"account_id\":0,\"account_name\":\"greyflux\",\"account_type\":\"self-hosted\","
      "\"status\":\"active\",\"next_billing_date\":null,\"limit_reached\":false}}");
  return r;
}

std::string stats_first_month(std::string_view from, std::int64_t now_s) {
  if (from != "6-months") {
    return {};
  }
  const std::string now = month_of(now_s);
  int year = 0;
  int month = 0;
  std::from_chars(now.data(), now.data() + 4, year);
  std::from_chars(now.data() + 5, now.data() + 7, month);
  month -= 5;
  if (month < 1) {
    month += 12;
    --year;
  }
  return fmt::format("{:04}-{:02}", year, month);
}

Reply reply_stats(const StatsTotals& t) {
  const std::uint64_t checks = t.spam + t.ham;
  const std::uint64_t wrong = std::min(checks, t.missed_spam + t.false_positives);
  const double accuracy =
      checks == 0 ? 100.0
                  : 100.0 * static_cast<double>(checks - wrong) / static_cast<double>(checks);
  Reply r;
  r.content_type = "application/json; charset=utf-8";
  r.body = fmt::format(
      "{{\"spam\":{},\"ham\":{},\"missed_spam\":{},\"false_positives\":{},\"accuracy\":{:.2f}}}",
      t.spam, t.ham, t.missed_spam, t.false_positives, accuracy);
  return r;
}

std::string month_of(std::int64_t unix_s) {
  // civil_from_days (proleptic Gregorian), enough for a "YYYY-MM" label.
  std::int64_t z = (unix_s >= 0 ? unix_s : unix_s - 86399) / 86400 + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2 ? 1 : 0;
  return fmt::format("{:04}-{:02}", y, m);
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          out += fmt::format("\\u{:04x}", u);
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace gf::akismet
