#include "core/policy/request.hpp"

#include <fmt/format.h>

#include <cstring>

#include "core/common/strings.hpp"

namespace gf::policy {
namespace {

// Stores a known attribute; unknown ones are counted by the caller and dropped.
void assign(Request& r, std::string_view name, std::string_view value) {
  struct Field {
    std::string_view name;
    std::string Request::*member;
  };
  static constexpr Field kFields[] = {
      {"request", &Request::request},
      {"protocol_state", &Request::protocol_state},
      {"protocol_name", &Request::protocol_name},
      {"client_address", &Request::client_address},
      {"client_name", &Request::client_name},
      {"reverse_client_name", &Request::reverse_client_name},
      {"helo_name", &Request::helo_name},
      {"sender", &Request::sender},
      {"recipient", &Request::recipient},
      {"instance", &Request::instance},
      {"queue_id", &Request::queue_id},
  };
  // Most of Postfix's ~40 attributes are unknown here; the first letter rules most of them out.
  switch (name.empty() ? '\0' : name[0]) {
    case 'r':
    case 'p':
    case 'c':
    case 'h':
    case 's':
    case 'i':
    case 'q':
      break;
    case 'e':
      if (name == "etrn_domain") {
        r.has_etrn_domain = true;
      }
      return;
    default:
      return;
  }
  for (const Field& f : kFields) {
    if (f.name.size() == name.size() && f.name == name) {
      (r.*f.member).assign(value);
      return;
    }
  }
}

ParseOutcome error(std::string message) {
  ParseOutcome out;
  out.status = ParseStatus::Error;
  out.error = std::move(message);
  return out;
}

}  // namespace

ParseOutcome parse_request(std::string_view buf, const Limits& limits) {
  // A Postfix client never sends a blank line first; tolerate stray blank lines between requests
  // anyway (some test clients send them) by skipping leading line breaks.
  std::size_t lead = 0;
  while (lead < buf.size() && (buf[lead] == '\n' || buf[lead] == '\r')) {
    ++lead;
  }
  // One pass: each line is split at its first '=' and checked for NUL while it is scanned.
  ParseOutcome out;
  const char* const begin = buf.data() + lead;
  const char* const end = buf.data() + buf.size();
  const char* line = begin;
  while (line < end) {
    if (static_cast<std::size_t>(line - begin) >= limits.max_request_bytes) {
      return error(fmt::format("request longer than {} bytes", limits.max_request_bytes));
    }
    // memchr (SIMD) beats a byte loop: one search for the end of line, one for '=', one for NUL.
    const char* p = static_cast<const char*>(std::memchr(line, '\n', end - line));
    if (p == nullptr) {
      break;  // the line is not complete yet
    }
    const char* eq = static_cast<const char*>(std::memchr(line, '=', p - line));
    const bool nul = std::memchr(line, '\0', p - line) != nullptr;
    std::string_view text(line, static_cast<std::size_t>(p - line));
    if (!text.empty() && text.back() == '\r') {
      text.remove_suffix(1);
    }
    line = p + 1;
    if (text.empty()) {
      const std::size_t used = static_cast<std::size_t>(line - begin);
      if (used > limits.max_request_bytes) {
        return error(fmt::format("request longer than {} bytes", limits.max_request_bytes));
      }
      if (out.request.request != "smtpd_access_policy") {
        return error(
            out.request.request.empty()
                ? std::string("missing request=smtpd_access_policy")
                : fmt::format("unsupported request '{}'", sanitize_line(out.request.request, 64)));
      }
      out.status = ParseStatus::Complete;
      out.consumed = lead + used;
      return out;
    }
    if (eq == nullptr || eq == text.data() || eq >= text.data() + text.size()) {
      return error(fmt::format("malformed attribute line '{}'", sanitize_line(text, 64)));
    }
    if (nul) {
      return error("NUL byte in request");
    }
    if (++out.request.attribute_count > limits.max_attributes) {
      return error(fmt::format("more than {} attributes", limits.max_attributes));
    }
    const std::size_t name_len = static_cast<std::size_t>(eq - text.data());
    assign(out.request, text.substr(0, name_len), text.substr(name_len + 1));
  }
  if (buf.size() - lead >= limits.max_request_bytes) {
    return error(fmt::format("request longer than {} bytes", limits.max_request_bytes));
  }
  ParseOutcome more;
  more.consumed = lead;  // let the caller drop the blank lines
  return more;
}

std::string format_reply(std::string_view action) {
  std::string out;
  out.reserve(action.size() + 10);
  out += "action=";
  const std::size_t start = out.size();
  out.append(action);
  for (std::size_t i = start; i < out.size(); ++i) {
    if (out[i] == '\n' || out[i] == '\r' || out[i] == '\0') {
      out[i] = ' ';
    }
  }
  out += "\n\n";
  return out;
}

}  // namespace gf::policy
