#include "core/milter/filter.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/common/strings.hpp"

namespace gf::milter {
namespace {

std::string strip_brackets(std::string_view a) {
  a = trim_ws(a);
  if (a.size() >= 2 && a.front() == '<' && a.back() == '>') {
    a = a.substr(1, a.size() - 2);
  }
  return std::string(a);
}

bool is_dsn(std::string_view w) {
  // "4.2.0", "4.7.1": digit '.' digits '.' digits.
  const std::size_t d1 = w.find('.');
  const std::size_t d2 = d1 == std::string_view::npos ? d1 : w.find('.', d1 + 1);
  if (w.size() < 5 || d1 != 1 || d2 == std::string_view::npos) {
    return false;
  }
  return std::all_of(w.begin(), w.end(), [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
}

// The human text of a greylist reply: "DEFER_IF_PERMIT 4.2.0 Greylisted, see ..." -> "Greylisted,
// see ..." (the policy server's action word and status code make no sense in a milter reply).
std::string reply_text(std::string_view reply) {
  std::string_view rest = trim_ws(reply);
  const std::size_t sp = rest.find(' ');
  rest = sp == std::string_view::npos ? std::string_view() : trim_ws(rest.substr(sp + 1));
  const std::size_t sp2 = rest.find(' ');
  if (sp2 != std::string_view::npos && is_dsn(rest.substr(0, sp2))) {
    rest = trim_ws(rest.substr(sp2 + 1));
  }
  return std::string(rest);
}

// SMFIR_REPLYCODE for `code_and_dsn` + text; a text the encoder refuses (control characters
// from a configured greylist.text) falls back to `plain`.
std::string reply_code(std::string_view code_and_dsn, std::string_view text,
                       std::string_view plain) {
  auto r = encode_reply_code(fmt::format("{} {}", code_and_dsn, sanitize_line(text, 400)));
  if (r) {
    return *r;
  }
  return *encode_reply_code(fmt::format("{} {}", code_and_dsn, plain));
}

std::string continue_reply() { return encode_simple(reply::kContinue); }

bool is_spam_header(std::string_view name) {
  return name.size() > 7 && iequals(name.substr(0, 7), "X-Spam-");
}

}  // namespace

Result<GreylistMode> parse_greylist_mode(std::string_view text) {
  return greylist::parse_mode(text);
}

Result<Fallback> parse_fallback(std::string_view text) {
  if (text == "accept") {
    return Fallback::Accept;
  }
  if (text == "tempfail") {
    return Fallback::Tempfail;
  }
  return fail(Errc::Config, fmt::format("milter.on_failure: '{}' is not accept or tempfail",
                                        sanitize_line(text, 64)));
}

Result<spamd::OverReject> parse_over_reject(std::string_view text) {
  if (text == "reject") {
    return spamd::OverReject::Reject;
  }
  if (text == "quarantine") {
    return spamd::OverReject::Quarantine;
  }
  if (text == "discard") {
    return spamd::OverReject::Discard;
  }
  return fail(Errc::Config,
              fmt::format("milter.over_reject: '{}' is not reject, quarantine or discard",
                          sanitize_line(text, 64)));
}

Filter::Filter(FilterPorts ports, std::shared_ptr<const FilterConfig> config, const Limits& limits,
               LogSink* log)
    : ports_(std::move(ports)),
      config_(std::move(config)),
      limits_(limits),
      log_(log != nullptr ? log : &null_log_) {}

void Filter::set_config(std::shared_ptr<const FilterConfig> config) {
  std::lock_guard lock(mu_);
  config_ = std::move(config);
}

std::shared_ptr<const FilterConfig> Filter::config() const {
  std::lock_guard lock(mu_);
  return config_;
}

OptionNegotiation Filter::wants() {
  OptionNegotiation w;
  w.version = kProtocolVersion;
  w.actions = action::kAddHeaders | action::kChangeHeaders | action::kQuarantine;
  w.steps = step::kNoReplyHeader | step::kNoReplyBody | step::kNoReplyEndOfHeaders |
            step::kNoReplyData | step::kNoReplyUnknown | step::kNoUnknown | step::kSkip;
  return w;
}

std::string Filter::stats_text() const {
  const FilterCounters& c = counters_;
  const std::pair<const char*, const std::atomic<std::uint64_t>*> rows[] = {
      {"connections", &c.connections},
      {"messages", &c.messages},
      {"aborted", &c.aborted},
      {"connect_deferred", &c.connect_deferred},
      {"connect_rejected", &c.connect_rejected},
      {"rcpt_greylisted", &c.rcpt_greylisted},
      {"scanned", &c.scanned},
      {"unscanned_large", &c.unscanned_large},
      {"spam_tagged", &c.spam_tagged},
      {"rejected", &c.rejected},
      {"quarantined", &c.quarantined},
      {"discarded", &c.discarded},
      {"grey_deferred", &c.grey_deferred},
      {"grey_passed", &c.grey_passed},
      {"too_large", &c.too_large},
      {"store_failures", &c.store_failures},
      {"scan_failures", &c.scan_failures},
      {"fallback_tempfails", &c.fallback_tempfails},
      {"protocol_errors", &c.protocol_errors},
  };
  std::string out;
  for (const auto& [name, value] : rows) {
    out += fmt::format("milter.{}\t{}\n", name, value->load());
  }
  return out;
}

Conversation::Conversation(Filter& filter, std::string peer)
    : filter_(filter), peer_(std::move(peer)), session_(filter.limits(), Filter::wants()) {
  ++filter_.counters().connections;
}

Conversation::~Conversation() = default;

void Conversation::log(LogLevel level, std::string_view line) {
  LogSink& sink = filter_.log();
  if (sink.enabled(level)) {
    sink.write(level, line);
  }
}

void Conversation::reset_message() {
  accepted_rcpts_.clear();
  message_.clear();
  headers_done_ = false;
  scan_overflow_ = false;
  message_id_.clear();
  incoming_spam_headers_.clear();
  greylist_headers_.clear();
}

void Conversation::keep_header(const Header& h) {
  if (iequals(h.name, "Message-ID")) {
    message_id_ = sanitize_line(strip_brackets(h.value), 120);
  }
  if (is_spam_header(h.name)) {
    auto it = std::find_if(incoming_spam_headers_.begin(), incoming_spam_headers_.end(),
                           [&](const auto& e) { return iequals(e.first, h.name); });
    if (it == incoming_spam_headers_.end()) {
      incoming_spam_headers_.emplace_back(h.name, 1);
    } else {
      ++it->second;
    }
  }
  if (scan_overflow_) {
    return;
  }
  if (message_.size() + h.name.size() + h.value.size() + 4 > filter_.config()->max_scan_bytes) {
    scan_overflow_ = true;
    message_.clear();
    message_.shrink_to_fit();
    return;
  }
  message_.append(h.name).append(": ").append(h.value).append("\r\n");
}

void Conversation::keep_body(std::string_view chunk) {
  if (scan_overflow_) {
    return;
  }
  if (!headers_done_) {
    message_.append("\r\n");  // end of headers was skipped or not sent
    headers_done_ = true;
  }
  if (message_.size() + chunk.size() > filter_.config()->max_scan_bytes) {
    scan_overflow_ = true;
    message_.clear();
    message_.shrink_to_fit();
    return;
  }
  message_.append(chunk);
}

policy::Request Conversation::request_for(std::string_view recipient) const {
  policy::Request r;
  r.request = "smtpd_access_policy";
  r.protocol_state = "RCPT";
  r.protocol_name = "ESMTP";
  const Connect& c = session_.connect();
  if (c.family == Family::Inet || c.family == Family::Inet6) {
    r.client_address = c.address;
  }
  // Postfix and Sendmail send "[192.0.2.1]" for a client without a verified name.
  r.client_name = c.hostname.empty() || c.hostname.front() == '[' ? "unknown" : c.hostname;
  r.reverse_client_name = r.client_name;
  r.helo_name = session_.helo();
  r.sender = strip_brackets(session_.sender());
  r.recipient = strip_brackets(recipient);
  r.instance = fmt::format("{}#{}", peer_, message_no_);
  r.queue_id = std::string(session_.macro("i"));
  return r;
}

std::string Conversation::fallback(const FilterConfig& cfg, std::string_view reply_on_tempfail,
                                   std::string_view what, std::string_view error) {
  const bool tempfail = cfg.on_failure == Fallback::Tempfail;
  log(LogLevel::Warn, fmt::format("milter: {} {} failed, {}: {}", peer_, what,
                                  tempfail ? "tempfail" : "accepting", sanitize_line(error, 200)));
  if (tempfail) {
    ++filter_.counters().fallback_tempfails;
    return *encode_reply_code(reply_on_tempfail);
  }
  return continue_reply();
}

std::string Conversation::on_connect(const Connect& c) {
  if ((c.family != Family::Inet && c.family != Family::Inet6) || !filter_.ports().check_client) {
    return continue_reply();
  }
  const std::string name = c.hostname.empty() || c.hostname.front() == '[' ? "" : c.hostname;
  const greylist::Decision d = filter_.ports().check_client(c.address, name);
  if (d.reason != greylist::Reason::FluxAgent) {
    return continue_reply();
  }
  const bool reject = d.action == greylist::Action::Reject;
  ++(reject ? filter_.counters().connect_rejected : filter_.counters().connect_deferred);
  log(LogLevel::Info, fmt::format("milter: {} connect from {}[{}] action={} reason=flux-agent",
                                  peer_, sanitize_line(c.hostname, 255),
                                  sanitize_line(c.address, 64), reject ? "reject" : "tempfail"));
  return reject
             ? reply_code("550 5.7.1", "Client host serves a fast-flux network", "Rejected")
             : reply_code("451 4.7.1", "Client host serves a fast-flux network", "Try again later");
}

std::string Conversation::on_rcpt(const Rcpt& r, TimePoint now) {
  const auto cfg = filter_.config();
  if (cfg->mode != GreylistMode::Always || !filter_.ports().check_recipient) {
    accepted_rcpts_.push_back(r.args.front());
    return continue_reply();
  }
  const policy::Request req = request_for(r.args.front());
  const greylist::Decision d = filter_.ports().check_recipient(req, now);
  const std::string who = fmt::format("from=<{}> to=<{}> client={}", sanitize_line(req.sender, 320),
                                      sanitize_line(req.recipient, 320), req.client_address);
  switch (d.action) {
    case greylist::Action::Defer:
      if (d.reason == greylist::Reason::StoreFailure) {
        break;
      }
      ++filter_.counters().rcpt_greylisted;
      log(LogLevel::Info, fmt::format("milter: {} rcpt {} action=greylist reason={} wait={}s",
                                      peer_, who, greylist::to_string(d.reason), d.delay_s));
      return reply_code("451 4.7.1", reply_text(d.reply), "Greylisted, try again later");
    case greylist::Action::Reject:
      log(LogLevel::Info, fmt::format("milter: {} rcpt {} action=reject reason={}", peer_, who,
                                      greylist::to_string(d.reason)));
      return reply_code("550 5.7.1", reply_text(d.reply), "Rejected");
    case greylist::Action::Prepend:
      if (const std::size_t colon = reply_text(d.reply).find(':'); colon != std::string::npos) {
        const std::string h = reply_text(d.reply);
        greylist_headers_.emplace_back(h.substr(0, colon),
                                       std::string(trim_ws(std::string_view(h).substr(colon + 1))));
      }
      log(LogLevel::Info, fmt::format("milter: {} rcpt {} action=pass reason={} delayed={}s", peer_,
                                      who, greylist::to_string(d.reason), d.delay_s));
      break;
    case greylist::Action::Dunno:
      break;
  }
  if (d.reason == greylist::Reason::StoreFailure) {
    ++filter_.counters().store_failures;
    std::string reply = fallback(*cfg, kStoreFailReply, "greylist store", d.error);
    if (reply == continue_reply()) {
      accepted_rcpts_.push_back(r.args.front());
    }
    return reply;
  }
  accepted_rcpts_.push_back(r.args.front());
  return continue_reply();
}

// Suspicious mode, a grey-band score: each accepted recipient goes through the greylist as the
// policy server would check it at RCPT. Returns the reply when the message is refused.
std::string Conversation::greylist_suspicious(const FilterConfig& cfg, const spamd::Evaluation& e,
                                              TimePoint now, bool& refused) {
  refused = false;
  if (!filter_.ports().check_recipient) {
    return {};
  }
  const std::vector<std::string>& rcpts =
      accepted_rcpts_.empty() ? session_.recipients() : accepted_rcpts_;
  for (const std::string& rcpt : rcpts) {
    const policy::Request req = request_for(rcpt);
    const greylist::Decision d = filter_.ports().check_recipient(req, now);
    if (d.reason == greylist::Reason::StoreFailure) {
      ++filter_.counters().store_failures;
      std::string reply = fallback(cfg, kStoreFailReply, "greylist store", d.error);
      if (reply != continue_reply()) {
        refused = true;
        return reply;
      }
      continue;
    }
    if (d.action == greylist::Action::Defer || d.action == greylist::Action::Reject) {
      refused = true;
      const bool reject = d.action == greylist::Action::Reject;
      if (!reject) {
        ++filter_.counters().grey_deferred;
      }
      log(LogLevel::Info,
          fmt::format("milter: {} mid=<{}> from=<{}> to=<{}> client={} action={} reason={} "
                      "score={:.1f} band=[{:.1f},{:.1f}) symbols={} wait={}s",
                      peer_, message_id_, sanitize_line(req.sender, 320),
                      sanitize_line(req.recipient, 320), req.client_address,
                      reject ? "reject" : "greylist", greylist::to_string(d.reason), e.score(),
                      cfg.grey_min, cfg.grey_max, spamd::symbol_list(e.analysis), d.delay_s));
      return reject ? reply_code("550 5.7.1", reply_text(d.reply), "Rejected")
                    : reply_code("451 4.7.1", reply_text(d.reply), "Greylisted, try again later");
    }
    if (d.action == greylist::Action::Prepend && greylist_headers_.empty()) {
      const std::string h = reply_text(d.reply);
      if (const std::size_t colon = h.find(':'); colon != std::string::npos) {
        greylist_headers_.emplace_back(h.substr(0, colon),
                                       std::string(trim_ws(std::string_view(h).substr(colon + 1))));
      }
    }
  }
  ++filter_.counters().grey_passed;
  return {};
}

// The modifications (old X-Spam-* headers out, X-Greylist and the new X-Spam-* in, quarantine)
// and the final reply for a message that goes on.
std::string Conversation::finish_message(const spamd::Evaluation* e, const FilterConfig& cfg,
                                         std::string_view action, std::string_view quarantine) {
  std::string out;
  const std::uint32_t actions = session_.agreed().actions;
  std::vector<spamd::Header> add;
  if (e != nullptr) {
    add = spamd::headers_to_add(*e, cfg.checker, cfg.version, "\n");
  }
  if ((actions & action::kChangeHeaders) != 0 && !add.empty()) {
    // Headers that claim a verdict come from us only: drop every incoming X-Spam-* we set.
    for (const auto& [name, count] : incoming_spam_headers_) {
      // Not captured by the lambda: clang 14 (the fuzz preset) rejects captured bindings.
      const std::string_view wanted = name;
      const bool ours = std::any_of(add.begin(), add.end(), [wanted](const spamd::Header& h) {
        return iequals(h.name, wanted);
      });
      for (std::uint32_t i = count; ours && i >= 1; --i) {
        if (auto r = encode_change_header(i, name, ""); r) {
          out += *r;
        }
      }
    }
  }
  if ((actions & action::kAddHeaders) != 0) {
    for (const auto& [name, value] : greylist_headers_) {
      if (auto r = encode_add_header(name, value); r) {
        out += *r;
      }
    }
    for (const spamd::Header& h : add) {
      if (auto r = encode_add_header(h.name, trim_ws(h.value)); r) {
        out += *r;
      }
    }
  }
  if (!quarantine.empty()) {
    if (auto r = encode_quarantine(quarantine); r) {
      out += *r;
    }
  }
  if (e != nullptr) {
    const spamd::Analysis& a = e->analysis;
    log(LogLevel::Info,
        fmt::format("milter: {} mid=<{}> from=<{}> rcpts={} action={} score={:.1f}/{:.1f} "
                    "symbols={} size={}",
                    peer_, message_id_, sanitize_line(strip_brackets(session_.sender()), 320),
                    accepted_rcpts_.size(), action, a.score, a.required, spamd::symbol_list(a),
                    message_.size()));
  }
  return out + continue_reply();
}

std::string Conversation::on_end_of_message(TimePoint now) {
  const auto cfg = filter_.config();
  FilterCounters& c = filter_.counters();
  ++c.messages;
  if (scan_overflow_ || !filter_.ports().scan) {
    if (scan_overflow_) {
      ++c.unscanned_large;
      log(LogLevel::Info, fmt::format("milter: {} mid=<{}> action=accept unscanned: over {} bytes",
                                      peer_, message_id_, cfg->max_scan_bytes));
    }
    return finish_message(nullptr, *cfg, "accept", "");
  }
  if (!headers_done_) {
    message_.append("\r\n");
  }
  auto e = filter_.ports().scan(message_);
  if (!e) {
    ++c.scan_failures;
    return fallback(*cfg, kScanFailReply, "content scan", e.error().message);
  }
  ++c.scanned;
  const spamd::Analysis& a = e->analysis;
  const bool over_reject = e->action == spamd::Action::Reject ||
                           e->action == spamd::Action::Quarantine ||
                           e->action == spamd::Action::Discard;
  if (over_reject) {
    spamd::OverReject what = cfg->over_reject;
    if (e->action == spamd::Action::Quarantine) {
      what = spamd::OverReject::Quarantine;
    } else if (e->action == spamd::Action::Discard) {
      what = spamd::OverReject::Discard;
    }
    if (what == spamd::OverReject::Quarantine &&
        (session_.agreed().actions & action::kQuarantine) != 0) {
      ++c.quarantined;
      return finish_message(&*e, *cfg, "quarantine",
                            fmt::format("greyflux: spam, score {:.1f}", a.score));
    }
    if (what == spamd::OverReject::Discard) {
      ++c.discarded;
      log(LogLevel::Info, fmt::format("milter: {} mid=<{}> action=discard score={:.1f} symbols={}",
                                      peer_, message_id_, a.score, spamd::symbol_list(a)));
      return encode_simple(reply::kDiscard);
    }
    ++c.rejected;
    log(LogLevel::Info,
        fmt::format("milter: {} mid=<{}> from=<{}> action=reject score={:.1f}/{:.1f} symbols={}",
                    peer_, message_id_, sanitize_line(strip_brackets(session_.sender()), 320),
                    a.score, e->reject_score, spamd::symbol_list(a)));
    return *encode_reply_code(
        fmt::format("550 5.7.1 Message rejected as spam (score {:.1f})", a.score));
  }
  if (cfg->mode == GreylistMode::Suspicious && a.score >= cfg->grey_min &&
      a.score < cfg->grey_max) {
    bool refused = false;
    std::string reply = greylist_suspicious(*cfg, *e, now, refused);
    if (refused) {
      return reply;
    }
  }
  if (e->is_spam()) {
    ++c.spam_tagged;
  }
  return finish_message(&*e, *cfg, spamd::to_string(e->action), "");
}

struct Conversation::Visitor {
  Conversation& c;
  TimePoint now;

  std::string operator()(const Connect& x) const { return c.on_connect(x); }
  std::string operator()(const Rcpt& x) const { return c.on_rcpt(x, now); }
  std::string operator()(const EndOfMessage&) const { return c.on_end_of_message(now); }
  template <class Other>
  std::string operator()(const Other&) const {
    return continue_reply();
  }
};

std::string Conversation::decide(const Command& command, TimePoint now) {
  return std::visit(Visitor{*this, now}, command);
}

FeedResult Conversation::feed(std::string& in, std::string& out, TimePoint now) {
  std::size_t off = 0;
  FeedResult result;
  while (result.status == FeedStatus::Continue) {
    DecodeOutcome d = decode_command(std::string_view(in).substr(off), filter_.limits());
    if (d.status == DecodeStatus::NeedMore) {
      break;
    }
    if (d.status == DecodeStatus::Error) {
      ++filter_.counters().protocol_errors;
      result = {FeedStatus::Error, std::move(d.error)};
      break;
    }
    off += d.consumed;
    const bool was_in_message = session_.in_message();
    auto step = session_.on_command(d.command);
    if (!step) {
      ++filter_.counters().protocol_errors;
      result = {FeedStatus::Error, step.error().message};
      break;
    }
    // What the message keeps, whatever the reply: the scan needs every header and chunk.
    if (std::holds_alternative<Mail>(d.command) || std::holds_alternative<Connect>(d.command) ||
        std::holds_alternative<QuitNewConnection>(d.command)) {
      reset_message();
    } else if (std::holds_alternative<Abort>(d.command)) {
      if (was_in_message) {
        ++filter_.counters().aborted;
      }
      reset_message();
    } else if (const auto* h = std::get_if<Header>(&d.command)) {
      keep_header(*h);
    } else if (std::holds_alternative<EndOfHeaders>(d.command)) {
      if (!headers_done_ && !scan_overflow_) {
        message_.append("\r\n");
      }
      headers_done_ = true;
    } else if (const auto* b = std::get_if<Body>(&d.command)) {
      keep_body(b->chunk);
    } else if (const auto* eom = std::get_if<EndOfMessage>(&d.command);
               eom && !eom->chunk.empty()) {
      keep_body(eom->chunk);
    }
    const bool rcpt = std::holds_alternative<Rcpt>(d.command);
    const bool end = std::holds_alternative<EndOfMessage>(d.command);
    switch (step->next) {
      case Next::Close:
        result.status = FeedStatus::Close;
        break;
      case Next::NoReply:
        if (rcpt && step->reply.empty()) {
          accepted_rcpts_.push_back(std::get<Rcpt>(d.command).args.front());
        }
        break;
      case Next::Reply:
        if (!step->reply.empty()) {
          out += step->reply;
          if (end && session_.message_too_large()) {
            ++filter_.counters().too_large;
          }
        } else {
          out += decide(d.command, now);
        }
        break;
    }
    if (end) {
      ++message_no_;
      reset_message();
    }
  }
  in.erase(0, off);
  return result;
}

}  // namespace gf::milter
