#pragma once
// The Akismet wire protocol without the HTTP plumbing: which endpoint a path is, where the key
// is, which fields are required, and the exact bodies and headers Akismet answers with.
//
// Akismet answers HTTP 200 to everything it can parse, errors included: the body says
// `invalid` (or `Missing required field: blog.`) and X-akismet-debug-help says why. Clients
// (WordPress, akismet-api, Net::Akismet) compare bodies byte for byte, so every body here is
// exact and has no trailing newline.
//
// Threading: pure functions and values. Errors: none (bad input becomes an Akismet reply).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/akismet/decision.hpp"
#include "core/akismet/request.hpp"

namespace gf::akismet {

struct Reply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

enum class Endpoint : std::uint8_t {
  VerifyKey,
  CommentCheck,
  SubmitSpam,
  SubmitHam,
  KeySites,
  UsageLimit,
  GetSubscription,  // the WordPress plugin's settings page and key entry (Akismet 5.0)
  GetStats,         // the plugin's statistics card (from=6-months | all)
  Test,             // the plugin's connection test: GET /1.1/test answers "connected"
  Deactivate,       // the plugin being deactivated releases its key: "deactivated"
  Unknown
};

// "/1.1/comment-check" (also "/1.2/...", a trailing '/' and a query are tolerated).
[[nodiscard]] Endpoint endpoint_of(std::string_view path);
[[nodiscard]] std::string_view to_string(Endpoint e);

inline constexpr std::size_t kKeyLength = 12;
// A well-formed key: 12 ASCII letters or digits.
[[nodiscard]] bool well_formed_key(std::string_view key);
// The key in a Host header "<key>.rest.akismet.com[:port]", or "" when the first label is not
// a well-formed key or the host is an IP literal.
[[nodiscard]] std::string key_from_host(std::string_view host);

// The first required field that is empty, e.g. "blog" or "user_ip".
[[nodiscard]] std::optional<std::string_view> missing_required(Endpoint e, const CommentRequest& r);

inline constexpr std::string_view kThanks = "Thanks for making the web a better place.";

[[nodiscard]] Reply reply_valid();
[[nodiscard]] Reply reply_invalid(std::string_view debug_help);
[[nodiscard]] Reply reply_missing_field(std::string_view field);
// Symbols named in the X-Greyflux-Reasons header (the stored check keeps more).
inline constexpr std::size_t kReplySymbols = 12;
[[nodiscard]] Reply reply_check(const Decision& d, std::string_view guid);
// The same with the symbols already formatted (format_symbols() with at least kReplySymbols).
[[nodiscard]] Reply reply_check(const Decision& d, std::string_view guid, std::string_view reasons);
[[nodiscard]] Reply reply_thanks();
// The connection test's answer, "connected" (no key needed).
[[nodiscard]] Reply reply_connected();
// deactivate's answer for a good key, "deactivated" (the plugin checks that exact body).
[[nodiscard]] Reply reply_deactivated();
// debug-help of a revoked key; a comment-check with it also carries X-akismet-error, which the
// WordPress plugin reads as "hold the comment for moderation, the owner must act".
inline constexpr std::string_view kRevokedKey = "This API key has been revoked";

// Akismet's alert code for "this month's API calls are over the plan's limit" (the WordPress
// plugin's FIRST_MONTH_OVER_LIMIT notice: "Since <month> 1, your account made N API calls,
// compared to your plan's limit of M"). greyflux never restricts a key, so it never sends the
// codes that announce a restriction (10502-10516).
inline constexpr std::string_view kAlertOverLimit = "10501";
// Adds X-akismet-alert-code/-msg/-api-calls/-usage-limit to `r` when `usage` is over `limit`
// (limit 0 = none: nothing added). Clients copy these on every reply and clear them when a reply
// lacks them, so every reply to a good key goes through here.
void add_usage_alert(Reply& r, std::uint64_t limit, std::uint64_t usage);
[[nodiscard]] Reply reply_http_error(int status, std::string_view text);

// Usage of one site under a key in one month (key-sites).
struct SiteUsage {
  std::string site;
  std::uint64_t api_calls = 0;
  std::uint64_t spam = 0;
  std::uint64_t ham = 0;
  std::uint64_t missed_spam = 0;      // submit-spam of a comment checked as ham
  std::uint64_t false_positives = 0;  // submit-ham of a comment checked as spam
  bool is_revoked = false;
};

struct KeySitesQuery {
  std::string month;  // "YYYY-MM"
  bool csv = false;
  std::string order = "total";  // total | spam | ham | missed_spam | false_positives | site
  std::size_t limit = 500;
  std::size_t offset = 0;
};
// Reads month/format/order/limit/offset; `default_month` when absent or malformed.
[[nodiscard]] KeySitesQuery key_sites_query(const Form& form, std::string_view default_month);
[[nodiscard]] Reply reply_key_sites(const KeySitesQuery& q, std::string_view key,
                                    std::vector<SiteUsage> sites);
// limit 0 = no limit ("none").
[[nodiscard]] Reply reply_usage_limit(std::uint64_t limit, std::uint64_t usage);

// get-subscription: the account of a valid key, as the WordPress plugin reads it: status
// "active", limit_reached always false. The plugin's limit_reached notice says the key is used
// on more sites than its plan allows, which greyflux never limits; API calls over
// akismet.usage_limit are announced by add_usage_alert() on this reply and every other one.
// Takes the UsageAnswer arguments and ignores them.
[[nodiscard]] Reply reply_subscription(std::uint64_t limit, std::uint64_t usage);

// get-stats: one key's counts on one site over the months asked for.
struct StatsTotals {
  std::uint64_t spam = 0;
  std::uint64_t ham = 0;
  std::uint64_t missed_spam = 0;
  std::uint64_t false_positives = 0;
};
// The first month `from` covers ("6-months": this month and the five before it), or "" for
// "all" and anything else.
[[nodiscard]] std::string stats_first_month(std::string_view from, std::int64_t now_s);
// {"spam":N,"ham":N,"missed_spam":N,"false_positives":N,"accuracy":X}; accuracy is the share of
// checks not corrected by a submit, in percent (100 with no checks).
[[nodiscard]] Reply reply_stats(const StatsTotals& t);

// "2026-11" for Unix seconds.
[[nodiscard]] std::string month_of(std::int64_t unix_s);
// JSON string literal with quotes.
[[nodiscard]] std::string json_string(std::string_view s);

}  // namespace gf::akismet
