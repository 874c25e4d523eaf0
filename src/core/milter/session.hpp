#pragma once
// One milter connection's protocol state, the other half of the sans-I/O milter front door.
//
// The adapter decodes a Command (codec.hpp) and hands it to Session::on_command(), which answers
// what the protocol requires next: a reply (sometimes one the session already wrote), no reply,
// or closing the connection. The session knows what was negotiated (which steps the MTA skips,
// which of them get no reply), where a message starts and ends (several messages per
// connection; an abort ends the message, not the connection; quit-with-new-connection starts the
// connection over on the same socket), and enforces the message-size and recipient limits with
// its own SMTP replies, so the adapter only moves bytes and the decision layer only decides.
//
// What the session does not decide: the verdict for a step that needs a reply and carries no
// session-made reply (Step::reply empty) comes from the caller (greylist, scan, ...).
// Threading: a Session is a value owned by one connection; no locks. Errors: on_command() returns
// an Error for a protocol violation (a command before negotiation, a second negotiation, an MTA
// older than version 2, too many macro bytes); the adapter logs it and closes the connection.
// Memory is bounded by Limits: macros by max_macro_bytes, the envelope by max_message_bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.hpp"
#include "core/milter/codec.hpp"

namespace gf::milter {

enum class Next {
  Reply,    // send Step::reply if it is set, else the caller's verdict for this step
  NoReply,  // the protocol expects nothing back
  Close,    // QUIT: close the connection
};

struct Step {
  Next next = Next::NoReply;
  std::string reply;  // bytes the session already decided (negotiation, a limit exceeded)
};

// The reply the session sends when a message goes over Limits::max_message_bytes.
inline constexpr std::string_view kTooLargeReply = "552 5.3.4 Message size exceeds fixed limit";
inline constexpr std::string_view kTooManyRcptsReply = "452 4.5.3 Too many recipients";

class Session {
 public:
  // `wants` is what greyflux asks for: the actions it may take and the protocol steps (skips and
  // no-reply steps) it prefers; negotiation grants the part the MTA offers.
  Session(const Limits& limits, const OptionNegotiation& wants);

  [[nodiscard]] Result<Step> on_command(const Command& command);

  bool negotiated() const { return negotiated_; }
  // The agreed version, actions and steps (valid once negotiated()).
  const OptionNegotiation& agreed() const { return agreed_; }
  // Whether the MTA expects a reply to `command_code` (one of cmd::k*), given the agreed steps.
  bool expects_reply(char command_code) const;

  const Connect& connect() const { return connect_; }
  const std::string& helo() const { return helo_; }
  // True from the first message command until end of message or abort. After end of message the
  // sender, recipients and message macros stay readable until the next command arrives.
  bool in_message() const { return in_message_; }
  const std::string& sender() const { return sender_; }
  const std::vector<std::string>& recipients() const { return recipients_; }
  std::size_t message_bytes() const { return message_bytes_; }
  bool message_too_large() const { return too_large_; }
  std::size_t messages_completed() const { return messages_completed_; }
  std::size_t messages_aborted() const { return messages_aborted_; }
  // The latest value of a macro ("i", "{auth_authen}", ...); empty when it was never sent.
  std::string_view macro(std::string_view name) const;
  std::size_t macro_bytes() const { return macro_bytes_; }

 private:
  struct MacroEntry {
    char stage;
    std::string name;
    std::string value;
  };
  struct Visitor;

  Result<Step> negotiate(const OptionNegotiation& offer);
  Result<Step> store_macros(const Macros& m);
  Step reply_step(char command_code) const;
  Step limited_step(char command_code, std::string_view limit_reply) const;
  void begin_message_if_needed();
  void add_message_bytes(std::size_t n);
  void end_message();
  void reset_connection();

  Limits limits_;
  OptionNegotiation wants_;
  OptionNegotiation agreed_;
  bool negotiated_ = false;
  bool may_renegotiate_ = false;  // after QUIT_NC a new negotiation may come

  std::vector<MacroEntry> macros_;
  std::size_t macro_bytes_ = 0;
  Connect connect_;
  std::string helo_;

  bool in_message_ = false;
  std::string sender_;
  std::vector<std::string> recipients_;
  std::size_t message_bytes_ = 0;
  bool too_large_ = false;
  bool eom_pending_ = false;  // the envelope stays readable until the command after end of message
  std::size_t messages_completed_ = 0;
  std::size_t messages_aborted_ = 0;
};

}  // namespace gf::milter
