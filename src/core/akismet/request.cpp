#include "core/akismet/request.hpp"

#include <charconv>

#include "core/common/strings.hpp"

namespace gf::akismet {

namespace {

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) {
    return false;
  }
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') {
      return false;
    }
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

bool form_bool(std::string_view v) {
  const std::string l = ascii_lower(trim_ws(v));
  return l == "1" || l == "true" || l == "yes" || l == "on";
}

std::optional<std::int64_t> parse_date(std::string_view text) {
  const std::string_view s = trim_ws(text);
  int y = 0;
  int mo = 0;
  int d = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31) {
    return std::nullopt;
  }
  int h = 0;
  int mi = 0;
  int sec = 0;
  std::size_t i = 10;
  if (i < s.size()) {
    if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') {
      return std::nullopt;
    }
    if (!digits(s, i + 1, 2, h) || s.size() < i + 6 || s[i + 3] != ':' ||
        !digits(s, i + 4, 2, mi)) {
      return std::nullopt;
    }
    i += 6;
    if (i < s.size() && s[i] == ':') {
      if (!digits(s, i + 1, 2, sec)) {
        return std::nullopt;
      }
      i += 3;
    }
    if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
      ++i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        ++i;
      }
    }
  }
  if (h > 23 || mi > 59 || sec > 60) {
    return std::nullopt;
  }
  std::int64_t offset_s = 0;
  if (i < s.size()) {
    const char z = s[i];
    if ((z == 'Z' || z == 'z') && i + 1 == s.size()) {
      i += 1;
    } else if (z == '+' || z == '-') {
      int oh = 0;
      int om = 0;
      if (!digits(s, i + 1, 2, oh)) {
        return std::nullopt;
      }
      std::size_t j = i + 3;
      if (j < s.size() && s[j] == ':') {
        ++j;
      }
      if (j < s.size() && !digits(s, j, 2, om)) {
        return std::nullopt;
      }
      j += j < s.size() ? 2 : 0;
      if (j != s.size() || oh > 23 || om > 59) {
        return std::nullopt;
      }
      offset_s = (oh * 3600 + om * 60) * (z == '+' ? 1 : -1);
      i = s.size();
    } else {
      return std::nullopt;
    }
  }
  if (i != s.size()) {
    return std::nullopt;
  }
  return days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
         h * 3600 + mi * 60 + sec - offset_s;
}

CommentRequest comment_from_form(const Form& form) {
  CommentRequest r;
  r.repaired_utf8 = form.repaired;
  std::string_view honeypot_name;
  if (const std::string* h = form.find("honeypot_field_name")) {
    honeypot_name = *h;
  }
  for (const auto& field_pair : form.fields) {
    const std::string& name = field_pair.first;
    const std::string& value = field_pair.second;
    auto set = [&](std::string& field) {
      if (field.empty()) {
        field = value;
      }
    };
    if (name == "api_key" || name == "key") {
      set(r.api_key);
    } else if (name == "blog") {
      set(r.blog);
    } else if (name == "user_ip") {
      set(r.user_ip);
    } else if (name == "user_agent") {
      set(r.user_agent);
    } else if (name == "referrer" || name == "referer") {
      set(r.referrer);
    } else if (name == "permalink") {
      set(r.permalink);
    } else if (name == "comment_type") {
      set(r.comment_type);
    } else if (name == "comment_author") {
      set(r.comment_author);
    } else if (name == "comment_author_email") {
      set(r.comment_author_email);
    } else if (name == "comment_author_url") {
      set(r.comment_author_url);
    } else if (name == "comment_content") {
      set(r.comment_content);
    } else if (name == "comment_date_gmt") {
      set(r.comment_date_gmt);
    } else if (name == "comment_post_modified_gmt") {
      set(r.comment_post_modified_gmt);
    } else if (name == "blog_lang") {
      set(r.blog_lang);
    } else if (name == "blog_charset") {
      set(r.blog_charset);
    } else if (name == "user_role") {
      set(r.user_role);
    } else if (name == "is_test") {
      r.is_test = r.is_test || form_bool(value);
    } else if (name == "recheck_reason") {
      set(r.recheck_reason);
    } else if (name == "honeypot_field_name") {
      set(r.honeypot_field_name);
    } else if (name == "comment_context[]" || name.starts_with("comment_context[")) {
      if (!value.empty()) {
        r.comment_context.push_back(value);
      }
    } else {
      if ((name == "POST_ak_js" || name == "ak_js") && !r.ak_js_ms) {
        std::int64_t ms = 0;
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
        if (ec == std::errc() && p == value.data() + value.size() && ms > 0) {
          r.ak_js_ms = ms;
        }
      }
      r.extra.emplace_back(name, value);
    }
    const bool honeypot =
        !honeypot_name.empty() &&
        (name == honeypot_name || (name.starts_with("POST_") && name.substr(5) == honeypot_name));
    if (honeypot && r.honeypot_value.empty()) {
      r.honeypot_value = value;
    }
  }
  r.comment_date_s = parse_date(r.comment_date_gmt);
  r.comment_post_modified_s = parse_date(r.comment_post_modified_gmt);
  return r;
}

}  // namespace gf::akismet
