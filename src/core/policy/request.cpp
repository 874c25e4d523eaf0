#include "core/policy/request.hpp"

#include <fmt/format.h>

#include "core/common/strings.hpp"

namespace gf::policy {
namespace {

// Finds the end of the request block: the position just past "\n\n" (or "\n\r\n").
std::size_t find_block_end(std::string_view buf) {
  std::size_t pos = 0;
  while (true) {
    std::size_t nl = buf.find('\n', pos);
    if (nl == std::string_view::npos) {
      return std::string_view::npos;
    }
    std::size_t next = nl + 1;
    if (next < buf.size() && buf[next] == '\n') {
      return next + 1;
    }
    if (next + 1 < buf.size() && buf[next] == '\r' && buf[next + 1] == '\n') {
      return next + 2;
    }
    pos = next;
  }
}

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
  for (const Field& f : kFields) {
    if (f.name == name) {
      (r.*f.member).assign(value);
      return;
    }
  }
  if (name == "etrn_domain") {
    r.has_etrn_domain = true;
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
  std::string_view body = buf.substr(lead);
  const std::size_t end = find_block_end(body);
  if (end == std::string_view::npos) {
    if (body.size() >= limits.max_request_bytes) {
      return error(fmt::format("request longer than {} bytes", limits.max_request_bytes));
    }
    ParseOutcome more;
    more.consumed = lead;  // let the caller drop the blank lines
    return more;
  }
  if (end > limits.max_request_bytes) {
    return error(fmt::format("request longer than {} bytes", limits.max_request_bytes));
  }
  ParseOutcome out;
  out.status = ParseStatus::Complete;
  out.consumed = lead + end;
  std::string_view block = body.substr(0, end);
  std::size_t pos = 0;
  while (pos < block.size()) {
    std::size_t nl = block.find('\n', pos);
    std::string_view line = block.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.empty()) {
      break;
    }
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return error(fmt::format("malformed attribute line '{}'", sanitize_line(line, 64)));
    }
    if (line.find('\0') != std::string_view::npos) {
      return error("NUL byte in request");
    }
    if (++out.request.attribute_count > limits.max_attributes) {
      return error(fmt::format("more than {} attributes", limits.max_attributes));
    }
    assign(out.request, line.substr(0, eq), line.substr(eq + 1));
  }
  if (out.request.request != "smtpd_access_policy") {
    return error(out.request.request.empty() ? std::string("missing request=smtpd_access_policy")
                                             : fmt::format("unsupported request '{}'",
                                                           sanitize_line(out.request.request, 64)));
  }
  return out;
}

std::string format_reply(std::string_view action) {
  std::string out;
  out.reserve(action.size() + 10);
  out += "action=";
  for (char c : action) {
    out += (c == '\n' || c == '\r' || c == '\0') ? ' ' : c;
  }
  out += "\n\n";
  return out;
}

}  // namespace gf::policy
