#pragma once
// The Akismet request model: every documented parameter of comment-check, submit-spam and
// submit-ham, read from a decoded form.
//
// Flow: decode_form() -> comment_from_form() -> CommentRequest (a value). Required fields are
// not enforced here (the endpoint decides: missing_required_field()); unknown fields are kept in
// `extra` (WordPress sends POST_* and HTTP_* copies of the submitted form and server variables).
// honeypot_field_name names another field whose value, if non-empty, means a bot filled a field
// hidden from people; WordPress's ak_js (sent as POST_ak_js) is the page's JavaScript clock in
// milliseconds when the form was shown.
//
// Threading: values and pure functions. Errors: none; a date that does not parse is absent.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/akismet/form.hpp"

namespace gf::akismet {

struct CommentRequest {
  std::string api_key;  // "api_key" or "key" (the Host prefix is looked at by the endpoint)
  std::string blog;
  std::string user_ip;
  std::string user_agent;
  std::string referrer;
  std::string permalink;
  std::string comment_type;
  std::string comment_author;
  std::string comment_author_email;
  std::string comment_author_url;
  std::string comment_content;
  std::string comment_date_gmt;                         // as sent
  std::string comment_post_modified_gmt;                // as sent
  std::optional<std::int64_t> comment_date_s;           // parsed, Unix seconds
  std::optional<std::int64_t> comment_post_modified_s;  // parsed, Unix seconds
  std::string blog_lang;
  std::string blog_charset;
  std::string user_role;
  bool is_test = false;
  std::string recheck_reason;
  std::string honeypot_field_name;
  std::string honeypot_value;  // value of the field honeypot_field_name names
  std::vector<std::string> comment_context;
  std::optional<std::int64_t> ak_js_ms;                    // POST_ak_js / ak_js, when numeric
  std::vector<std::pair<std::string, std::string>> extra;  // every other field, in order
  bool repaired_utf8 = false;
};

[[nodiscard]] CommentRequest comment_from_form(const Form& form);

// Parses "2024-05-01T10:20:30Z", "...+02:00", "2024-05-01 10:20:30" (MySQL, taken as UTC since
// the *_gmt fields are UTC), "2024-05-01T10:20:30.123Z" and a bare date; returns Unix seconds.
[[nodiscard]] std::optional<std::int64_t> parse_date(std::string_view text);

// Akismet's boolean: "1", "true", "yes", "on" (any case) are true.
[[nodiscard]] bool form_bool(std::string_view v);

}  // namespace gf::akismet
