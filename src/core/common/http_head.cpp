#include "core/common/http_head.hpp"

#include <utility>

#include "core/common/strings.hpp"

namespace gf::http {

namespace {

// RFC 9110 tchar.
bool is_tchar(char c) {
  const auto u = static_cast<unsigned char>(c);
  if ((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A control byte other than HTAB (obs-text, 0x80-0xff, is allowed in values).
bool is_ctl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}

std::string_view trim_ows(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
    v.remove_prefix(1);
  }
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) {
    v.remove_suffix(1);
  }
  return v;
}

// 1*DIGIT, at most 19 digits (fits in 64 bits).
bool parse_length(std::string_view v, std::uint64_t& out) {
  if (v.empty() || v.size() > 19) {
    return false;
  }
  std::uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') {
      return false;
    }
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  out = n;
  return true;
}

}  // namespace

HeadStatus RequestHeadScanner::fail(std::string why) {
  error_ = std::move(why);
  return HeadStatus::Error;
}

HeadStatus RequestHeadScanner::scan(std::string_view bytes) {
  if (!error_.empty()) {
    return HeadStatus::Error;
  }
  if (length_ != 0) {
    return HeadStatus::Complete;
  }
  while (pos_ < bytes.size()) {
    const char c = bytes[pos_];
    if (c == '\r') {
      if (pos_ + 1 == bytes.size()) {
        return HeadStatus::NeedMore;  // look at this CR again with the byte after it
      }
      if (bytes[pos_ + 1] != '\n') {
        return fail("CR not followed by LF");
      }
      const std::string_view text = bytes.substr(line_start_, pos_ - line_start_);
      pos_ += 2;
      line_start_ = pos_;
      const HeadStatus st = line(text);
      if (st == HeadStatus::Complete) {
        length_ = pos_;
      }
      if (st != HeadStatus::NeedMore) {
        return st;
      }
      continue;
    }
    if (c == '\n') {
      return fail("bare LF line end");
    }
    ++pos_;
  }
  return HeadStatus::NeedMore;
}

HeadStatus RequestHeadScanner::line(std::string_view text) {
  if (!seen_request_line_) {
    seen_request_line_ = true;
    return request_line(text);
  }
  if (text.empty()) {
    return end_of_head();
  }
  return field_line(text);
}

HeadStatus RequestHeadScanner::request_line(std::string_view text) {
  if (text.empty()) {
    return fail("empty request line");
  }
  for (char c : text) {
    if (is_ctl(c) || c == '\t') {
      return fail("control character in the request line");
    }
  }
  const std::size_t first = text.find(' ');
  const std::size_t last = text.rfind(' ');
  if (first == std::string_view::npos || first == last) {
    return fail("request line is not method, target and version");
  }
  http10_ = text.substr(last + 1) == "HTTP/1.0";
  return HeadStatus::NeedMore;
}

HeadStatus RequestHeadScanner::field_line(std::string_view text) {
  if (text.front() == ' ' || text.front() == '\t') {
    return fail("obsolete line folding");
  }
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return fail("field line without a name");
  }
  const std::string_view name = text.substr(0, colon);
  for (char c : name) {
    if (!is_tchar(c)) {
      return fail("invalid field name");
    }
  }
  ++fields_;
  const std::string_view value = trim_ows(text.substr(colon + 1));
  for (char c : value) {
    if (is_ctl(c)) {
      return fail("control character in a field value");
    }
  }
  if (iequals(name, "content-length")) {
    std::uint64_t n = 0;
    if (!parse_length(value, n)) {
      return fail("Content-Length is not a plain decimal number");
    }
    if (content_length_ && *content_length_ != n) {
      return fail("Content-Length values differ");
    }
    content_length_ = n;
  } else if (iequals(name, "transfer-encoding")) {
    if (chunked_) {
      return fail("more than one Transfer-Encoding");
    }
    if (!iequals(value, "chunked")) {
      return fail("Transfer-Encoding other than chunked");
    }
    chunked_ = true;
  } else if (iequals(name, "host")) {
    if (host_) {
      return fail("more than one Host");
    }
    host_ = true;
  }
  return HeadStatus::NeedMore;
}

HeadStatus RequestHeadScanner::end_of_head() {
  if (chunked_ && content_length_) {
    return fail("both Content-Length and Transfer-Encoding");
  }
  if (chunked_ && http10_) {
    return fail("Transfer-Encoding on an HTTP/1.0 request");
  }
  return HeadStatus::Complete;
}

}  // namespace gf::http
