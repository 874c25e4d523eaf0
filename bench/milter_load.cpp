// gf_milter_load: a milter client (it plays Postfix) for throughput and latency measurements.
// Works against greyflux's milter and Rspamd's proxy worker in milter mode alike.
//
// usage: gf_milter_load PORT|unix:PATH MANIFEST_OR_FILE... [--connections N] [--count M]
//          [--seconds S] [--per-connection K] [--half train|test] [--chunk BYTES]
//
// N threads each keep one milter connection to 127.0.0.1:PORT (or the unix socket) and speak
// protocol version 6 as Postfix does: option negotiation offering every action and step, then
// connect (with macros) and HELO, then per message MAIL, RCPT, DATA, the header fields, end of
// headers, body chunks of at most BYTES (default 65535, Postfix's size) and end of message;
// after K messages (default 10) QUIT and a new connection. Steps the filter asks to skip are
// not sent; replies are read only where the negotiated steps make the filter answer. A message
// ends early when the filter answers a step with a verdict (accept, reject, tempfail, discard,
// an SMTP reply code): then ABORT, as Postfix does; a verdict at connect or HELO ends the
// connection. The message files come from a manifest (bench/sa_corpus.py: PATH TAB label TAB
// half ...; --half keeps one half) or are given directly; they are sent in a fixed shuffled
// order, M messages in all (default: each once).
//
// Prints msg/s, the latency of a message (from its first byte sent, connection set-up included
// when it opened one, to the final reply), the verdicts (by stage and by the corpus label), and
// the modifications the filter asked for. Exits 1 if any message failed (protocol error,
// connection lost, timeout of 30 s).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/milter/client.hpp"
#include "core/milter/codec.hpp"

namespace {

namespace milter = gf::milter;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string target;  // a port on 127.0.0.1, or unix:PATH
  int connections = 16;
  std::size_t count = 0;
  double seconds = 0;
  std::size_t per_connection = 10;
  std::size_t chunk = 65535;
  std::string half;
};

// One packet of a message, kept encoded; headers also with the leading space SMFIP_HDR_LEADSPC
// asks for.
struct Packet {
  char code = 0;
  std::string bytes;
  std::string leading_space_bytes;
};

struct Prepared {
  std::string label;  // spam, ham, or "" for files given directly
  std::vector<Packet> packets;
};

enum class Verdict { Continue, Accept, Reject, Tempfail, Discard, Failed };

struct Tally {
  std::map<std::string, std::size_t> verdicts;       // "eom reject", "rcpt tempfail", ...
  std::map<std::string, std::size_t> by_label;       // "spam reject", ...
  std::map<std::string, std::size_t> modifications;  // "add_header", ...
  std::vector<double> latencies_ms;
  std::size_t ok = 0;
  std::size_t failed = 0;
  std::size_t connections = 0;
  std::string first_error;

  void merge(const Tally& t) {
    for (const auto& [k, v] : t.verdicts) {
      verdicts[k] += v;
    }
    for (const auto& [k, v] : t.by_label) {
      by_label[k] += v;
    }
    for (const auto& [k, v] : t.modifications) {
      modifications[k] += v;
    }
    latencies_ms.insert(latencies_ms.end(), t.latencies_ms.begin(), t.latencies_ms.end());
    ok += t.ok;
    failed += t.failed;
    connections += t.connections;
    if (first_error.empty()) {
      first_error = t.first_error;
    }
  }
};

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void add(Prepared& p, const milter::Command& c) {
  p.packets.push_back(Packet{0, milter::encode_command(c), {}});
  p.packets.back().code = p.packets.back().bytes[4];
}

// The commands of one message after connect and HELO, envelope varied by the message index.
bool prepare(std::size_t index, const std::string& raw, const std::string& label, std::size_t chunk,
             Prepared& out, std::string& error) {
  gf::Result<milter::MessageParts> parts = milter::split_message(raw);
  if (!parts) {
    error = parts.error().message;
    return false;
  }
  const std::string qid = "B" + std::to_string(100000 + index);
  const std::string sender =
      "<m" + std::to_string(index) + "@sender" + std::to_string(index % 251) + ".test>";
  const std::string rcpt = "<user" + std::to_string(index % 10) + "@example.test>";
  out.label = label;
  add(out, milter::Macros{milter::cmd::kMail, {{"i", qid}, {"{mail_addr}", sender}}});
  add(out, milter::Mail{{sender, "SIZE=" + std::to_string(raw.size())}});
  add(out, milter::Macros{milter::cmd::kRcpt, {{"{rcpt_addr}", rcpt}, {"{rcpt_mailer}", "smtp"}}});
  add(out, milter::Rcpt{{rcpt}});
  add(out, milter::Macros{milter::cmd::kData, {{"i", qid}}});
  add(out, milter::Data{});
  for (const milter::Header& h : parts->headers) {
    add(out, h);
    out.packets.back().leading_space_bytes =
        milter::encode_command(milter::Header{h.name, " " + h.value});
  }
  add(out, milter::EndOfHeaders{});
  for (std::string_view c : milter::body_chunks(parts->body, chunk)) {
    add(out, milter::Body{std::string(c)});
  }
  add(out, milter::Macros{milter::cmd::kEndOfMessage, {{"i", qid}}});
  add(out, milter::EndOfMessage{});
  return true;
}

// One milter connection, blocking I/O, 30 s timeouts.
class Connection {
 public:
  explicit Connection(const std::string& target) {
    if (target.rfind("unix:", 0) == 0) {
      fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      std::strncpy(addr.sun_path, target.c_str() + 5, sizeof addr.sun_path - 1);
      if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close();
      }
    } else {
      fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<std::uint16_t>(std::atoi(target.c_str())));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // loopback only
      int one = 1;
      if (fd_ >= 0) {
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      }
      if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close();
      }
    }
    if (fd_ >= 0) {
      timeval tv{30, 0};
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
  }
  ~Connection() { close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool open() const { return fd_ >= 0; }
  void close() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  bool write_all(const std::string& bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  // The next reply; false (and `error`) on EOF, timeout or a malformed reply.
  bool read_reply(milter::Reply& reply, std::string& error) {
    for (;;) {
      const milter::ReplyOutcome out =
          milter::decode_reply(std::string_view(in_).substr(in_off_), limits_);
      if (out.status == milter::DecodeStatus::Complete) {
        in_off_ += out.consumed;
        if (in_off_ == in_.size()) {
          in_.clear();
          in_off_ = 0;
        }
        reply = out.reply;
        return true;
      }
      if (out.status == milter::DecodeStatus::Error) {
        error = "bad reply: " + out.error;
        return false;
      }
      char buf[16384];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        error = n == 0 ? "filter closed the connection" : "read: " + std::string(strerror(errno));
        return false;
      }
      in_.append(buf, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  std::string in_;
  std::size_t in_off_ = 0;
  milter::Limits limits_;
};

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::Continue:
      return "continue";
    case Verdict::Accept:
      return "accept";
    case Verdict::Reject:
      return "reject";
    case Verdict::Tempfail:
      return "tempfail";
    case Verdict::Discard:
      return "discard";
    case Verdict::Failed:
      return "failed";
  }
  return "?";
}

// A final reply as a verdict; Skip counts as Continue (the caller stops sending body).
Verdict verdict_of(const milter::Reply& r) {
  switch (r.kind) {
    case milter::ReplyKind::Accept:
      return Verdict::Accept;
    case milter::ReplyKind::Reject:
      return Verdict::Reject;
    case milter::ReplyKind::Tempfail:
      return Verdict::Tempfail;
    case milter::ReplyKind::Discard:
      return Verdict::Discard;
    case milter::ReplyKind::ReplyCode:
      return r.text[0] == '4' ? Verdict::Tempfail : Verdict::Reject;
    case milter::ReplyKind::Continue:
    case milter::ReplyKind::Skip:
      return Verdict::Continue;
    default:  // Shutdown, ConnectionFail, a negotiation out of place
      return Verdict::Failed;
  }
}

const char* modification_name(milter::ReplyKind k) {
  switch (k) {
    case milter::ReplyKind::AddHeader:
      return "add_header";
    case milter::ReplyKind::InsertHeader:
      return "insert_header";
    case milter::ReplyKind::ChangeHeader:
      return "change_header";
    case milter::ReplyKind::Quarantine:
      return "quarantine";
    case milter::ReplyKind::ReplaceBody:
      return "replace_body";
    default:
      return "envelope_change";
  }
}

const char* stage_name(char code) {
  switch (code) {
    case milter::cmd::kConnect:
      return "connect";
    case milter::cmd::kHelo:
      return "helo";
    case milter::cmd::kMail:
      return "mail";
    case milter::cmd::kRcpt:
      return "rcpt";
    case milter::cmd::kData:
      return "data";
    case milter::cmd::kHeader:
      return "header";
    case milter::cmd::kEndOfHeaders:
      return "eoh";
    case milter::cmd::kBody:
      return "body";
    default:
      return "eom";
  }
}

// Plays the MTA for one worker thread until the shared message counter runs out.
class Worker {
 public:
  Worker(const Options& opt, const std::vector<Prepared>& messages, std::atomic<std::size_t>& next,
         std::size_t count, Clock::time_point deadline, int id)
      : opt_(opt), messages_(messages), next_(next), count_(count), deadline_(deadline), id_(id) {}

  Tally run() {
    std::size_t i;
    while (Clock::now() < deadline_ && (i = next_++) < count_) {
      const auto t0 = Clock::now();
      const Prepared& m = messages_[i % messages_.size()];
      std::string error;
      Verdict v = Verdict::Failed;
      const char* stage = "connect";
      if (ensure_connection(v, stage, error) && v == Verdict::Continue) {
        v = send_message(m, stage, error);
        ++in_connection_;
      }
      record(m, v, stage, error, t0);
      if (v == Verdict::Failed || conn_done_ || in_connection_ >= opt_.per_connection) {
        finish_connection(v != Verdict::Failed);
      }
    }
    finish_connection(true);
    return tally_;
  }

 private:
  void record(const Prepared& m, Verdict v, const char* stage, const std::string& error,
              Clock::time_point t0) {
    tally_.latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (v == Verdict::Failed) {
      ++tally_.failed;
      if (tally_.first_error.empty()) {
        tally_.first_error = std::string(stage) + ": " + error;
      }
      return;
    }
    ++tally_.ok;
    ++tally_.verdicts[std::string(stage) + " " + verdict_name(v)];
    if (!m.label.empty()) {
      ++tally_.by_label[m.label + " " + verdict_name(v)];
    }
  }

  // Opens, negotiates, sends connect and HELO. `v` Continue means the connection takes a message.
  bool ensure_connection(Verdict& v, const char*& stage, std::string& error) {
    if (conn_ && conn_->open()) {
      v = Verdict::Continue;
      return true;
    }
    conn_ = std::make_unique<Connection>(opt_.target);
    conn_done_ = false;
    in_connection_ = 0;
    ++tally_.connections;
    if (!conn_->open()) {
      error = "connect: " + std::string(strerror(errno));
      return false;
    }
    milter::Reply r;
    if (!conn_->write_all(milter::encode_command(
            milter::OptionNegotiation{milter::kProtocolVersion, 0x1ff, 0x1fffff})) ||
        !conn_->read_reply(r, error)) {
      return false;
    }
    if (r.kind != milter::ReplyKind::Negotiation) {
      error = "negotiation answered with something else";
      return false;
    }
    steps_ = r.negotiation.steps;
    const int n = id_ + static_cast<int>(tally_.connections);
    const std::string ip = "192.0.2." + std::to_string(1 + n % 254);
    const std::string host = "client" + std::to_string(n % 254) + ".bench.test";
    std::string pending = milter::encode_command(milter::Macros{milter::cmd::kConnect,
                                                                {{"j", "mx.bench.test"},
                                                                 {"{daemon_name}", "smtpd"},
                                                                 {"v", "Postfix 3.7.11"},
                                                                 {"_", host + " [" + ip + "]"},
                                                                 {"{client_addr}", ip},
                                                                 {"{client_name}", host}}});
    const std::vector<std::pair<char, std::string>> steps = {
        {milter::cmd::kConnect,
         milter::encode_command(milter::Connect{
             host, milter::Family::Inet, static_cast<std::uint16_t>(40000 + n % 20000), ip})},
        {milter::cmd::kHelo, milter::encode_command(milter::Helo{host})}};
    for (const auto& [code, bytes] : steps) {
      stage = stage_name(code);
      if (milter::step_skipped(code, steps_)) {
        continue;
      }
      pending += bytes;
      if (!milter::reply_expected(code, steps_)) {
        continue;
      }
      if (!exchange(pending, v, error)) {
        return false;
      }
      if (v != Verdict::Continue) {
        conn_done_ = true;  // a verdict for the whole connection
        return true;
      }
    }
    if (!pending.empty() && !conn_->write_all(pending)) {
      error = "write failed";
      return false;
    }
    v = Verdict::Continue;
    return true;
  }

  // Writes `pending`, reads replies up to a final one; modifications are counted.
  bool exchange(std::string& pending, Verdict& v, std::string& error) {
    if (!conn_->write_all(pending)) {
      error = "write failed";
      return false;
    }
    pending.clear();
    milter::Reply r;
    for (;;) {
      if (!conn_->read_reply(r, error)) {
        return false;
      }
      if (milter::is_modification(r.kind)) {
        ++tally_.modifications[modification_name(r.kind)];
      } else if (milter::is_final(r.kind)) {
        break;
      }
    }
    v = verdict_of(r);
    skip_body_ = r.kind == milter::ReplyKind::Skip;
    if (v == Verdict::Failed) {
      error = std::string("filter answered '") + static_cast<char>(r.kind) +
              "' (shutdown, connection failure or a reply out of place)";
    }
    return v != Verdict::Failed;
  }

  Verdict send_message(const Prepared& m, const char*& stage, std::string& error) {
    std::string pending;
    const bool leading_space = (steps_ & milter::step::kHeaderLeadingSpace) != 0;
    skip_body_ = false;
    for (const Packet& p : m.packets) {
      if (milter::step_skipped(p.code, steps_) || (p.code == milter::cmd::kBody && skip_body_)) {
        continue;
      }
      pending +=
          (leading_space && p.code == milter::cmd::kHeader) ? p.leading_space_bytes : p.bytes;
      if (!milter::reply_expected(p.code, steps_)) {
        continue;
      }
      stage = stage_name(p.code);
      Verdict v = Verdict::Failed;
      if (!exchange(pending, v, error)) {
        return Verdict::Failed;
      }
      if (p.code == milter::cmd::kEndOfMessage) {
        return v;
      }
      if (v != Verdict::Continue) {
        // The transaction ends here (one recipient): Postfix tells the filter with ABORT.
        if (!conn_->write_all(milter::encode_command(milter::Abort{}))) {
          error = "write failed";
          return Verdict::Failed;
        }
        return v;
      }
    }
    error = "internal: message without end of message";
    return Verdict::Failed;
  }

  void finish_connection(bool polite) {
    if (conn_ && conn_->open()) {
      if (polite) {
        conn_->write_all(milter::encode_command(milter::Quit{}));
      }
      conn_->close();
    }
    conn_.reset();
  }

  const Options& opt_;
  const std::vector<Prepared>& messages_;
  std::atomic<std::size_t>& next_;
  std::size_t count_;
  Clock::time_point deadline_;
  int id_;
  std::unique_ptr<Connection> conn_;
  std::uint32_t steps_ = 0;
  std::size_t in_connection_ = 0;
  bool conn_done_ = false;
  bool skip_body_ = false;
  Tally tally_;
};

bool parse_args(int argc, char** argv, Options& opt, std::vector<std::string>& inputs) {
  if (argc < 3) {
    return false;
  }
  opt.target = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--connections" && has_value) {
      opt.connections = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--count" && has_value) {
      opt.count = static_cast<std::size_t>(std::atoll(argv[++i]));
    } else if (a == "--seconds" && has_value) {
      opt.seconds = std::atof(argv[++i]);
    } else if (a == "--per-connection" && has_value) {
      opt.per_connection = std::max<std::size_t>(1, std::atoll(argv[++i]));
    } else if (a == "--chunk" && has_value) {
      opt.chunk = std::clamp<std::size_t>(std::atoll(argv[++i]), 1, 65535);
    } else if (a == "--half" && has_value) {
      opt.half = argv[++i];
    } else if (a.rfind("--", 0) == 0) {
      return false;
    } else {
      inputs.push_back(a);
    }
  }
  return !inputs.empty();
}

std::vector<Prepared> load(const Options& opt, const std::vector<std::string>& inputs) {
  std::vector<Prepared> out;
  std::size_t skipped = 0;
  auto take = [&](const std::string& path, const std::string& label) {
    Prepared p;
    std::string error;
    if (prepare(out.size(), slurp(path), label, opt.chunk, p, error)) {
      out.push_back(std::move(p));
    } else {
      ++skipped;
      std::fprintf(stderr, "skipped %s: %s\n", path.c_str(), error.c_str());
    }
  };
  for (const std::string& in : inputs) {
    if (in.size() > 4 && in.substr(in.size() - 4) == ".tsv") {
      std::ifstream man(in);
      std::string line;
      while (std::getline(man, line)) {
        std::vector<std::string> cols;
        std::stringstream ss(line);
        for (std::string c; std::getline(ss, c, '\t');) {
          cols.push_back(c);
        }
        if (cols.empty() || (!opt.half.empty() && (cols.size() < 3 || cols[2] != opt.half))) {
          continue;
        }
        take(cols[0], cols.size() > 1 ? cols[1] : "");
      }
    } else {
      take(in, "");
    }
  }
  if (skipped > 0) {
    std::fprintf(stderr, "%zu messages skipped\n", skipped);
  }
  // A fixed shuffle: the manifest is sorted by corpus group, and a short run must still see
  // spam and ham mixed, the same sequence for every server.
  std::shuffle(out.begin(), out.end(), std::mt19937(14));
  return out;
}

std::string join(const std::map<std::string, std::size_t>& m) {
  std::string s;
  for (const auto& [k, v] : m) {
    s += (s.empty() ? "" : ", ") + k + " " + std::to_string(v);
  }
  return s.empty() ? "none" : s;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  std::vector<std::string> inputs;
  if (!parse_args(argc, argv, opt, inputs)) {
    std::fprintf(stderr,
                 "usage: gf_milter_load PORT|unix:PATH MANIFEST_OR_FILE... [--connections N] "
                 "[--count M] [--seconds S] [--per-connection K] [--half train|test] "
                 "[--chunk BYTES]\n");
    return 2;
  }
  const std::vector<Prepared> messages = load(opt, inputs);
  if (messages.empty()) {
    std::fprintf(stderr, "no messages\n");
    return 2;
  }
  const std::size_t count = opt.count == 0 ? messages.size() : opt.count;
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  Tally total;
  const auto start = Clock::now();
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(
                  std::chrono::duration<double>(opt.seconds > 0 ? opt.seconds : 1e6));
  std::vector<std::thread> pool;
  for (int t = 0; t < opt.connections; ++t) {
    pool.emplace_back([&, t] {
      Tally mine = Worker(opt, messages, next, count, deadline, t).run();
      std::lock_guard lock(mu);
      total.merge(mine);
    });
  }
  for (auto& t : pool) {
    t.join();
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double>& lat = total.latencies_ms;
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double q) {
    return lat.empty() ? 0.0
                       : lat[std::min(lat.size() - 1, static_cast<std::size_t>(q * lat.size()))];
  };
  std::printf(
      "milter %s: %zu messages over %d connections (%zu per connection, %zu opened): %zu ok, "
      "%zu failed in %.2f s = %.0f msg/s (latency ms p50 %.2f p99 %.2f max %.2f)\n",
      opt.target.c_str(), total.ok + total.failed, opt.connections, opt.per_connection,
      total.connections, total.ok, total.failed, secs, static_cast<double>(total.ok) / secs,
      pct(0.5), pct(0.99), lat.empty() ? 0.0 : lat.back());
  std::printf("verdicts: %s\n", join(total.verdicts).c_str());
  std::printf("by label: %s\n", join(total.by_label).c_str());
  std::printf("modifications: %s\n", join(total.modifications).c_str());
  if (total.failed > 0) {
    std::printf("first failure: %s\n", total.first_error.c_str());
  }
  return total.failed == 0 ? 0 : 1;
}
