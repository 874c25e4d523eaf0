#pragma once
// Postfix SMTPD policy delegation protocol (SMTPD_POLICY_README), the codec half.
//
// A request is a block of "name=value\n" lines ended by an empty line; the reply is
// "action=...\n\n". A connection carries many requests in sequence. Unknown attributes are
// ignored, order is free, and `request=smtpd_access_policy` is required.
//
// Flow: the adapter appends received bytes to a buffer and calls parse_request() on it until it
// answers NeedMore; each Complete result says how many bytes it consumed. An Error means the
// connection is beyond repair (garbage, over a limit): the adapter logs one line and closes it.
// Nothing here allocates more than the configured limit or throws.
#include <cstddef>
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace gf::policy {

struct Limits {
  std::size_t max_request_bytes = 64 * 1024;  // one request, including its terminating blank line
  std::size_t max_attributes = 256;           // Postfix sends about 40
};

// The attributes greyflux uses; everything else is counted and dropped.
struct Request {
  std::string request;
  std::string protocol_state;
  std::string protocol_name;
  std::string client_address;
  std::string client_name;
  std::string reverse_client_name;
  std::string helo_name;
  std::string sender;
  std::string recipient;
  std::string instance;
  std::string queue_id;
  bool has_etrn_domain = false;  // Postfix >= 2.3 always sends it (empty) at RCPT
  std::size_t attribute_count = 0;
};

enum class ParseStatus { NeedMore, Complete, Error };

struct ParseOutcome {
  ParseStatus status = ParseStatus::NeedMore;
  std::size_t consumed = 0;  // bytes of the buffer used by a Complete request
  Request request;
  std::string error;  // for Error: one line, safe to log
};

// Parses the first request at the front of `buf`.
ParseOutcome parse_request(std::string_view buf, const Limits& limits);

// "action=<action>\n\n", with any line break in the action text replaced.
std::string format_reply(std::string_view action);

}  // namespace gf::policy
