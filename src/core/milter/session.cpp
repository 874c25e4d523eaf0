#include "core/milter/session.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace gf::milter {
namespace {

// Macros sent for these commands describe one message and are dropped when it ends.
bool message_stage(char stage) {
  switch (stage) {
    case cmd::kMail:
    case cmd::kRcpt:
    case cmd::kData:
    case cmd::kHeader:
    case cmd::kEndOfHeaders:
    case cmd::kBody:
    case cmd::kEndOfMessage:
      return true;
    default:
      return false;
  }
}

// The "no reply" step that silences each command, or 0 when the command always gets one.
std::uint32_t no_reply_step(char command_code) {
  switch (command_code) {
    case cmd::kConnect:
      return step::kNoReplyConnect;
    case cmd::kHelo:
      return step::kNoReplyHelo;
    case cmd::kMail:
      return step::kNoReplyMail;
    case cmd::kRcpt:
      return step::kNoReplyRcpt;
    case cmd::kData:
      return step::kNoReplyData;
    case cmd::kUnknown:
      return step::kNoReplyUnknown;
    case cmd::kHeader:
      return step::kNoReplyHeader;
    case cmd::kEndOfHeaders:
      return step::kNoReplyEndOfHeaders;
    case cmd::kBody:
      return step::kNoReplyBody;
    default:
      return 0;
  }
}

// Header bytes as they count toward the message size: "name: value\r\n".
constexpr std::size_t kHeaderOverhead = 4;

}  // namespace

Session::Session(const Limits& limits, const OptionNegotiation& wants)
    : limits_(limits), wants_(wants) {}

bool Session::expects_reply(char command_code) const {
  switch (command_code) {
    case cmd::kOptionNegotiation:
    case cmd::kEndOfMessage:
      return true;
    case cmd::kMacro:
    case cmd::kAbort:
    case cmd::kQuit:
    case cmd::kQuitNewConnection:
      return false;
    default:
      return (agreed_.steps & no_reply_step(command_code)) == 0;
  }
}

std::string_view Session::macro(std::string_view name) const {
  for (auto it = macros_.rbegin(); it != macros_.rend(); ++it) {
    if (it->name == name) {
      return it->value;
    }
  }
  return {};
}

Step Session::reply_step(char command_code) const {
  return Step{expects_reply(command_code) ? Next::Reply : Next::NoReply, {}};
}

Step Session::limited_step(char command_code, std::string_view limit_reply) const {
  Step s = reply_step(command_code);
  if (s.next == Next::Reply) {
    // The shape of both limit replies is fixed above, so encoding cannot fail.
    s.reply = *encode_reply_code(limit_reply);
  }
  return s;
}

Result<Step> Session::negotiate(const OptionNegotiation& offer) {
  if (negotiated_ && !may_renegotiate_) {
    return fail(Errc::InvalidInput, "second option negotiation on one connection");
  }
  if (offer.version < 2) {
    return fail(
        Errc::InvalidInput,
        fmt::format("MTA speaks milter protocol version {}, at least 2 is needed", offer.version));
  }
  // Only what both sides have: an action the MTA does not offer cannot be used, and a step it
  // does not offer means it still sends (and waits for a reply to) that command.
  agreed_.version = std::min(offer.version, kProtocolVersion);
  agreed_.actions = offer.actions & wants_.actions;
  agreed_.steps = offer.steps & wants_.steps;
  negotiated_ = true;
  may_renegotiate_ = false;
  return Step{Next::Reply, encode_negotiation(agreed_)};
}

Result<Step> Session::store_macros(const Macros& m) {
  for (const auto& pair : m.pairs) {
    const std::string& name = pair.first;  // not a structured binding: clang 14 cannot capture one
    const std::string& value = pair.second;
    // A name sent again replaces the old value (Postfix repeats "i" for every message).
    auto same = std::find_if(macros_.begin(), macros_.end(),
                             [&](const MacroEntry& e) { return e.name == name; });
    if (same != macros_.end()) {
      macro_bytes_ -= same->name.size() + same->value.size();
      macros_.erase(same);
    }
    macro_bytes_ += name.size() + value.size();
    if (macro_bytes_ > limits_.max_macro_bytes) {
      return fail(Errc::TooLarge,
                  fmt::format("macros exceed the limit of {} bytes", limits_.max_macro_bytes));
    }
    macros_.push_back(MacroEntry{m.for_command, name, value});
  }
  return Step{Next::NoReply, {}};
}

void Session::begin_message_if_needed() {
  // A filter that skipped MAIL sees the message begin at its first recipient, header or body.
  in_message_ = true;
}

void Session::add_message_bytes(std::size_t n) {
  message_bytes_ += n;
  if (message_bytes_ > limits_.max_message_bytes) {
    too_large_ = true;
  }
}

void Session::end_message() {
  in_message_ = false;
  sender_.clear();
  recipients_.clear();
  message_bytes_ = 0;
  too_large_ = false;
  std::erase_if(macros_, [this](const MacroEntry& e) {
    if (message_stage(e.stage)) {
      macro_bytes_ -= e.name.size() + e.value.size();
      return true;
    }
    return false;
  });
}

void Session::reset_connection() {
  end_message();
  macros_.clear();
  macro_bytes_ = 0;
  connect_ = Connect{};
  helo_.clear();
}

struct Session::Visitor {
  Session& s;

  Result<Step> operator()(const OptionNegotiation& o) const { return s.negotiate(o); }
  Result<Step> operator()(const Macros& m) const { return s.store_macros(m); }
  Result<Step> operator()(const Connect& c) const {
    // Connect macros arrive just before this command, so they stay.
    s.end_message();
    s.helo_.clear();
    s.connect_ = c;
    return s.reply_step(cmd::kConnect);
  }
  Result<Step> operator()(const Helo& h) const {
    s.helo_ = h.name;  // Sendmail sends HELO again after STARTTLS; the latest one counts
    return s.reply_step(cmd::kHelo);
  }
  Result<Step> operator()(const Mail& m) const {
    if (s.in_message_) {
      s.end_message();  // a new MAIL without abort: the MTA gave the old message up
      ++s.messages_aborted_;
    }
    s.begin_message_if_needed();
    s.sender_ = m.args.front();
    s.add_message_bytes(s.sender_.size());
    return s.reply_step(cmd::kMail);
  }
  Result<Step> operator()(const Rcpt& r) const {
    s.begin_message_if_needed();
    if (s.recipients_.size() >= s.limits_.max_recipients) {
      return s.limited_step(cmd::kRcpt, kTooManyRcptsReply);
    }
    s.recipients_.push_back(r.args.front());
    s.add_message_bytes(r.args.front().size());
    return s.reply_step(cmd::kRcpt);
  }
  Result<Step> operator()(const Header& h) const {
    s.begin_message_if_needed();
    s.add_message_bytes(h.name.size() + h.value.size() + kHeaderOverhead);
    return s.too_large_ ? s.limited_step(cmd::kHeader, kTooLargeReply) : s.reply_step(cmd::kHeader);
  }
  Result<Step> operator()(const EndOfHeaders&) const {
    s.begin_message_if_needed();
    return s.too_large_ ? s.limited_step(cmd::kEndOfHeaders, kTooLargeReply)
                        : s.reply_step(cmd::kEndOfHeaders);
  }
  Result<Step> operator()(const Body& b) const {
    s.begin_message_if_needed();
    s.add_message_bytes(b.chunk.size());
    return s.too_large_ ? s.limited_step(cmd::kBody, kTooLargeReply) : s.reply_step(cmd::kBody);
  }
  Result<Step> operator()(const EndOfMessage& e) const {
    s.begin_message_if_needed();
    s.add_message_bytes(e.chunk.size());
    Step step = s.too_large_ ? s.limited_step(cmd::kEndOfMessage, kTooLargeReply)
                             : s.reply_step(cmd::kEndOfMessage);
    // The caller reads the envelope before it replies, so the message ends on the next command;
    // ending it here would clear the sender and recipients the verdict needs.
    s.in_message_ = false;
    s.eom_pending_ = true;
    ++s.messages_completed_;
    return step;
  }
  Result<Step> operator()(const Abort&) const {
    if (s.in_message_) {
      ++s.messages_aborted_;
    }
    s.end_message();
    return Step{Next::NoReply, {}};
  }
  Result<Step> operator()(const Quit&) const { return Step{Next::Close, {}}; }
  Result<Step> operator()(const QuitNewConnection&) const {
    s.reset_connection();
    s.may_renegotiate_ = true;
    return Step{Next::NoReply, {}};
  }
  Result<Step> operator()(const Data&) const {
    s.begin_message_if_needed();
    return s.reply_step(cmd::kData);
  }
  Result<Step> operator()(const Unknown&) const { return s.reply_step(cmd::kUnknown); }
};

Result<Step> Session::on_command(const Command& command) {
  const bool is_negotiation = std::holds_alternative<OptionNegotiation>(command);
  if (!negotiated_ && !is_negotiation) {
    return fail(Errc::InvalidInput, "milter command before option negotiation");
  }
  if (eom_pending_) {
    // The previous command ended a message; its envelope was read by now.
    eom_pending_ = false;
    end_message();
  }
  return std::visit(Visitor{*this}, command);
}

}  // namespace gf::milter
