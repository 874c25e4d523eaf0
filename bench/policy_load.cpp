// gf_policy_load: a load generator for Postfix SMTPD access-policy servers (greyflux, postgrey,
// gross, ...).
//
// It keeps --connections persistent connections open, each carrying one request at a time, as
// Postfix's smtpd does with check_policy_service. Every request is a full RCPT-stage attribute
// list (`name=value\n` lines ending with an empty line); the reply is read up to its empty line
// and its `action=` word is counted. Latency is measured per request from the write() of the
// request to the arrival of the reply's final empty line.
//
// Flow: main() parses options, resolves the target, and runs --threads workers. Each worker owns
// its connections and one epoll loop (no state is shared between workers except a few atomics
// for the request budget and the triplet counter). In closed loop (--rate 0) a connection sends
// its next request as soon as the previous reply arrived. In open loop (--rate R) requests are
// scheduled at fixed intervals; a scheduled request waits for an idle connection, and its latency
// is reported twice: from send (p*_us) and from its scheduled time (p*_sched_us), the latter
// free of coordinated omission.
//
// Triplets: mode `new` derives every request from a fresh counter and a per-run salt, so each
// request has a never-seen client /24, sender and recipient. Modes `within` and `after` pick
// uniformly among --seed-count triplets that `--prepare` sent once beforehand; they depend only
// on --seed-count and --seed-salt, so a later process reproduces them.
//
// Errors: a failed connect, a reset or closed connection, a timeout and a reply that does not
// start with `action=` each count as one error; the connection is then closed and reopened.
//
// Output: one machine-readable line of key=value pairs on stdout; diagnostics on stderr.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace gf::bench {
namespace {

using Clock = std::chrono::steady_clock;
using Nanos = std::chrono::nanoseconds;

enum class Mode { New, Within, After };

struct Options {
  std::string target;
  int connections = 8;
  int threads = 1;
  Mode mode = Mode::New;
  std::string mode_name = "new";
  uint64_t seed_count = 1000;
  uint64_t seed_salt = 0x5eed;
  std::optional<uint64_t> salt;  // mode new; random when absent
  double duration_s = 0;         // 0 = not set
  uint64_t requests = 0;         // 0 = not set
  double rate = 0;               // total req/s; 0 = closed loop
  bool prepare = false;
  int timeout_ms = 10000;
  int connect_timeout_ms = 5000;
};

void usage(FILE* out) {
  std::fputs(
      "usage: gf_policy_load --target HOST:PORT|unix:PATH [options]\n"
      "  --connections N     persistent connections, one request in flight each (default 8)\n"
      "  --threads T         event-loop threads sharing the connections (default 1)\n"
      "  --mode M            new | within | after (default new)\n"
      "  --seed-count K      distinct triplets used by within/after/--prepare (default 1000)\n"
      "  --seed-salt S       integer that names the seeded triplet set (default 24301)\n"
      "  --salt S            integer salt for mode new (default: random per run)\n"
      "  --duration SECONDS  stop issuing requests after this long\n"
      "  --requests N        stop after N requests (with --duration: whichever comes first)\n"
      "  --rate R            open loop at R req/s in total; 0 = closed loop (default 0)\n"
      "  --prepare           send each of the K seeded triplets once, then exit\n"
      "  --timeout MS        per-request reply timeout (default 10000)\n"
      "  --connect-timeout MS  how long to retry the initial connects (default 5000)\n"
      "Prints one line: mode=... conns=... requests=... seconds=... rps=... p50_us=... p99_us=...\n"
      "max_us=... errors=... actions=NAME:COUNT,...\n",
      out);
}

bool parse_u64(const char* s, uint64_t& out) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s, &end, 0);
  if (errno != 0 || end == s || *end != '\0') {
    return false;
  }
  out = v;
  return true;
}

bool parse_double(const char* s, double& out) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0' || !(v >= 0)) {
    return false;
  }
  out = v;
  return true;
}

std::optional<Options> parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "gf_policy_load: %s needs a value\n", argv[i]);
        return nullptr;
      }
      return argv[++i];
    };
    uint64_t u = 0;
    const char* v = nullptr;
    if (a == "--help" || a == "-h") {
      usage(stdout);
      std::exit(0);
    } else if (a == "--prepare") {
      o.prepare = true;
      continue;
    }
    v = value();
    if (v == nullptr) {
      return std::nullopt;
    }
    bool ok = true;
    if (a == "--target") {
      o.target = v;
    } else if (a == "--connections") {
      ok = parse_u64(v, u) && u >= 1 && u <= 10000;
      o.connections = static_cast<int>(u);
    } else if (a == "--threads") {
      ok = parse_u64(v, u) && u >= 1 && u <= 64;
      o.threads = static_cast<int>(u);
    } else if (a == "--mode") {
      o.mode_name = v;
      if (o.mode_name == "new") {
        o.mode = Mode::New;
      } else if (o.mode_name == "within") {
        o.mode = Mode::Within;
      } else if (o.mode_name == "after") {
        o.mode = Mode::After;
      } else {
        ok = false;
      }
    } else if (a == "--seed-count") {
      ok = parse_u64(v, o.seed_count) && o.seed_count >= 1;
    } else if (a == "--seed-salt") {
      ok = parse_u64(v, o.seed_salt);
    } else if (a == "--salt") {
      ok = parse_u64(v, u);
      o.salt = u;
    } else if (a == "--duration") {
      ok = parse_double(v, o.duration_s) && o.duration_s > 0;
    } else if (a == "--requests") {
      ok = parse_u64(v, o.requests) && o.requests >= 1;
    } else if (a == "--rate") {
      ok = parse_double(v, o.rate);
    } else if (a == "--timeout") {
      ok = parse_u64(v, u) && u >= 1;
      o.timeout_ms = static_cast<int>(u);
    } else if (a == "--connect-timeout") {
      ok = parse_u64(v, u);
      o.connect_timeout_ms = static_cast<int>(u);
    } else {
      std::fprintf(stderr, "gf_policy_load: unknown option %s\n", argv[i - 1]);
      return std::nullopt;
    }
    if (!ok) {
      std::fprintf(stderr, "gf_policy_load: bad value for %s: %s\n", argv[i - 1], v);
      return std::nullopt;
    }
  }
  if (o.target.empty()) {
    std::fprintf(stderr, "gf_policy_load: --target is required\n");
    return std::nullopt;
  }
  if (o.prepare) {
    o.mode_name = "prepare";
    o.requests = o.seed_count;
    o.duration_s = 0;
    o.rate = 0;
  } else if (o.duration_s == 0 && o.requests == 0) {
    std::fprintf(stderr, "gf_policy_load: give --duration or --requests\n");
    return std::nullopt;
  }
  o.threads = std::min(o.threads, o.connections);
  return o;
}

// ---- target address --------------------------------------------------------------------------

struct Target {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = AF_UNSPEC;
};

std::optional<Target> resolve_target(const std::string& spec) {
  Target t;
  if (spec.rfind("unix:", 0) == 0) {
    std::string path = spec.substr(5);
    sockaddr_un un{};
    if (path.empty() || path.size() >= sizeof(un.sun_path)) {
      return std::nullopt;
    }
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, path.data(), path.size());
    std::memcpy(&t.addr, &un, sizeof(un));
    t.len = sizeof(un);
    t.family = AF_UNIX;
    return t;
  }
  std::string host = spec;
  std::string port;
  if (!spec.empty() && spec[0] == '[') {  // [::1]:port
    auto close = spec.find(']');
    if (close == std::string::npos || close + 1 >= spec.size() || spec[close + 1] != ':') {
      return std::nullopt;
    }
    host = spec.substr(1, close - 1);
    port = spec.substr(close + 2);
  } else {
    auto colon = spec.rfind(':');
    if (colon == std::string::npos) {
      return std::nullopt;
    }
    host = spec.substr(0, colon);
    port = spec.substr(colon + 1);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;  // loopback literals only, no DNS
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
    return std::nullopt;
  }
  std::memcpy(&t.addr, res->ai_addr, res->ai_addrlen);
  t.len = res->ai_addrlen;
  t.family = res->ai_family;
  freeaddrinfo(res);
  return t;
}

// ---- latency histogram -----------------------------------------------------------------------

// Log-linear histogram of nanosecond values: 128 linear sub-buckets per power of two, so a
// reported quantile is within 0.8% of the exact value. The maximum is tracked exactly.
class Histogram {
 public:
  static constexpr int kSubBits = 7;
  static constexpr int kSub = 1 << kSubBits;

  Histogram() : counts_((64 - kSubBits + 1) * kSub, 0) {}

  void add(uint64_t v_ns) {
    ++counts_[index(v_ns)];
    ++total_;
    max_ = std::max(max_, v_ns);
  }

  void merge(const Histogram& o) {
    for (size_t i = 0; i < counts_.size(); ++i) {
      counts_[i] += o.counts_[i];
    }
    total_ += o.total_;
    max_ = std::max(max_, o.max_);
  }

  uint64_t count() const { return total_; }
  uint64_t max() const { return max_; }

  // q in [0, 1]; returns the midpoint of the bucket holding the q-quantile, capped at max.
  double quantile(double q) const {
    if (total_ == 0) {
      return 0;
    }
    auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_)));
    rank = std::clamp<uint64_t>(rank, 1, total_);
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) {
        double mid = (lower(i) + lower(i + 1)) / 2.0;
        return std::min(mid, static_cast<double>(max_));
      }
    }
    return static_cast<double>(max_);
  }

 private:
  static size_t index(uint64_t v) {
    if (v < kSub) {
      return static_cast<size_t>(v);
    }
    int e = 63 - __builtin_clzll(v);  // e >= kSubBits
    uint64_t sub = (v >> (e - kSubBits)) & (kSub - 1);
    return static_cast<size_t>((e - kSubBits + 1) * kSub + sub);
  }
  static double lower(size_t i) {
    if (i < static_cast<size_t>(kSub)) {
      return static_cast<double>(i);
    }
    int e = static_cast<int>(i / kSub) + kSubBits - 1;
    double sub = static_cast<double>(i % kSub);
    return std::ldexp(1.0, e) + sub * std::ldexp(1.0, e - kSubBits);
  }

  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  uint64_t max_ = 0;
};

// ---- request text ----------------------------------------------------------------------------

uint64_t mix64(uint64_t x) {  // splitmix64 finaliser: a bijection on 64 bits
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A bijection on 22 bits, so consecutive ids land on scattered (not sorted) client /24s.
uint32_t perm22(uint64_t x) {
  constexpr uint32_t kMask = (1u << 22) - 1;
  auto v = static_cast<uint32_t>(x) & kMask;
  for (int round = 0; round < 3; ++round) {
    v = (v * 0x2f5a3u + 0x1b873u) & kMask;  // odd multiplier: invertible mod 2^22
    v ^= v >> 11;
  }
  return v;
}

// Maps 0..63 to 64 ordinary unicast first octets (20-50, 52-65, 67-79, 81-86). The gaps skip the
// networks named in Debian's postgrey whitelist_clients (51.x, 66.x, 80.x, ...), so a `new`
// request is never passed by a client whitelist and always reaches the triplet store.
unsigned first_octet(unsigned i) {
  if (i < 31) {
    return 20 + i;
  }
  if (i < 45) {
    return 52 + (i - 31);
  }
  if (i < 58) {
    return 67 + (i - 45);
  }
  return 81 + (i - 58);
}

// Appends one Postfix-shaped RCPT-stage policy request for triplet (space, id) to out.
// space separates triplet families (the per-run salt of mode new, the seed salt otherwise).
void build_request(uint64_t space, uint64_t id, std::string& out) {
  const uint64_t h = mix64(space * 0x100000001b3ULL ^ id);
  const uint32_t net = perm22(id + space);  // 2^22 distinct /24s
  const unsigned a = first_octet(net >> 16), b = (net >> 8) & 255, c = net & 255;
  const unsigned d = 1 + static_cast<unsigned>(h % 254);
  char ip[32];
  std::snprintf(ip, sizeof(ip), "%u.%u.%u.%u", a, b, c, d);
  char host[96];
  std::snprintf(host, sizeof(host), "mx%u-%u-%u-%u.isp%" PRIu64 ".example.net", a, b, c, d,
                (h >> 8) % 5000);
  char tag[40];
  std::snprintf(tag, sizeof(tag), "%" PRIx64 "x%" PRIx64, space, id);
  char buf[1536];
  int n =
      std::snprintf(buf, sizeof(buf),
                    "request=smtpd_access_policy\n"
                    "protocol_state=RCPT\n"
                    "protocol_name=ESMTP\n"
                    "client_address=%s\n"
                    "client_name=%s\n"
                    "client_port=%u\n"
                    "reverse_client_name=%s\n"
                    "server_address=127.0.0.1\n"
                    "server_port=25\n"
                    "helo_name=%s\n"
                    "sender=bounce-%s@news%" PRIu64
                    ".sender.example.com\n"
                    "recipient=user-%s@example.org\n"
                    "recipient_count=0\n"
                    "queue_id=%010" PRIX64
                    "\n"
                    "instance=%" PRIx64 ".%" PRIx64 ".%" PRIx64
                    ".0\n"
                    "size=%" PRIu64
                    "\n"
                    "etrn_domain=\n"
                    "stress=\n"
                    "sasl_method=\n"
                    "sasl_username=\n"
                    "sasl_sender=\n"
                    "ccert_subject=\n"
                    "ccert_issuer=\n"
                    "ccert_fingerprint=\n"
                    "ccert_pubkey_fingerprint=\n"
                    "encryption_protocol=TLSv1.3\n"
                    "encryption_cipher=TLS_AES_256_GCM_SHA384\n"
                    "encryption_keysize=256\n"
                    "policy_context=\n"
                    "compatibility_level=3.6\n"
                    "mail_version=3.7.11\n"
                    "\n",
                    ip, host, 1024 + static_cast<unsigned>(h % 60000), host, host, tag,
                    (h >> 20) % 20000, tag, (h >> 4) & uint64_t{0xFFFFFFFFFF}, (h >> 12) & 0xfffff,
                    (h >> 32) & 0xfffffff, (h >> 40) & 0xfffff, 1000 + (h >> 24) % 200000);
  out.append(buf, static_cast<size_t>(std::min<int>(n, sizeof(buf) - 1)));
}

// ---- shared run state ------------------------------------------------------------------------

struct Shared {
  Options opt;
  Target target;
  uint64_t new_salt = 0;
  Clock::time_point start;
  Clock::time_point deadline;        // max() when no --duration
  std::atomic<uint64_t> budget{0};   // requests left to issue when --requests is set
  std::atomic<uint64_t> next_id{0};  // mode new and --prepare
  std::atomic<bool> stop{false};
};

struct Stats {
  Histogram latency;        // send -> reply
  Histogram sched_latency;  // scheduled time -> reply (open loop only)
  uint64_t ok = 0;
  uint64_t errors_connect = 0;
  uint64_t errors_io = 0;
  uint64_t errors_timeout = 0;
  uint64_t errors_reply = 0;
  uint64_t unsent = 0;  // open loop: scheduled but never sent before the deadline
  std::map<std::string, uint64_t> actions;
  std::string first_bad_reply;
  Clock::time_point last_done{};

  uint64_t errors() const { return errors_connect + errors_io + errors_timeout + errors_reply; }
};

// ---- one worker: an epoll loop over its connections ------------------------------------------

struct Conn {
  int fd = -1;
  bool busy = false;
  std::string out;
  size_t out_off = 0;
  std::string in;
  Clock::time_point sent{};
  Clock::time_point scheduled{};
  Clock::time_point reconnect_at{};
};

class Worker {
 public:
  Worker(Shared& shared, int index, int nconns) : sh_(shared), index_(index), conns_(nconns) {
    rng_.seed(mix64(0xabcdefULL + static_cast<uint64_t>(index) * 7919 + sh_.new_salt));
  }
  ~Worker() {
    for (auto& c : conns_) {
      if (c.fd >= 0) {
        ::close(c.fd);
      }
    }
    if (ep_ >= 0) {
      ::close(ep_);
    }
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Opens all connections, retrying refused connects until connect_deadline.
  bool connect_all(Clock::time_point connect_deadline) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) {
      return false;
    }
    for (size_t i = 0; i < conns_.size(); ++i) {
      while (!open_conn(i)) {
        if (Clock::now() >= connect_deadline) {
          return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    return true;
  }

  void run() {
    const bool open_loop = sh_.opt.rate > 0;
    Nanos interval{0};
    if (open_loop) {
      double per_worker = sh_.opt.rate / sh_.opt.threads;
      interval = Nanos(static_cast<int64_t>(1e9 / per_worker));
      // Stagger workers so their schedules interleave instead of bursting together.
      next_due_ = sh_.start + interval * index_ / sh_.opt.threads;
    }
    std::vector<epoll_event> events(conns_.size() + 1);
    while (true) {
      auto now = Clock::now();
      // may_send: before the deadline and not stopped; the budget may still run out earlier.
      const bool may_send = now < sh_.deadline && !sh_.stop.load(std::memory_order_relaxed);
      if (open_loop) {
        while (may_send && next_due_ <= now && claim()) {
          backlog_.push_back(next_due_);
          next_due_ += interval;
        }
      }
      dispatch(now, may_send, open_loop);
      const bool budget_left = sh_.opt.requests == 0 || sh_.budget.load() > 0;
      if (in_flight() == 0 && (!may_send || (!budget_left && backlog_.empty()))) {
        break;
      }
      check_timeouts(now);
      check_stall(now);
      // Sleep until the next scheduled send, a reconnect, or at most 50 ms (timeout scans).
      Nanos wait = std::chrono::milliseconds(50);
      if (open_loop && may_send) {
        wait = std::min(wait, std::max(Nanos(0), next_due_ - now));
      }
      if (pending_reconnect_) {
        wait = std::min(wait, Nanos(std::chrono::milliseconds(5)));
      }
      timespec ts{static_cast<time_t>(wait.count() / 1000000000),
                  static_cast<long>(wait.count() % 1000000000)};
      int n = epoll_pwait2(ep_, events.data(), static_cast<int>(events.size()), &ts, nullptr);
      if (n < 0 && errno != EINTR) {
        std::perror("gf_policy_load: epoll_pwait2");
        break;
      }
      for (int i = 0; i < n; ++i) {
        handle(events[i].data.u64, events[i].events);
      }
    }
    stats_.unsent += backlog_.size();
  }

  Stats& stats() { return stats_; }

 private:
  // Takes one request from the --requests budget; true when it may be issued.
  bool claim() {
    if (sh_.opt.requests == 0) {
      return true;
    }
    uint64_t left = sh_.budget.load(std::memory_order_relaxed);
    while (left > 0) {
      if (sh_.budget.compare_exchange_weak(left, left - 1, std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }

  size_t in_flight() const {
    size_t n = 0;
    for (const auto& c : conns_) {
      n += c.busy ? 1 : 0;
    }
    return n;
  }

  // Hands work to idle connections: backlog entries in open loop, fresh requests in closed loop.
  void dispatch(Clock::time_point now, bool may_send, bool open_loop) {
    for (size_t i = 0; i < conns_.size(); ++i) {
      Conn& c = conns_[i];
      if (c.busy) {
        continue;
      }
      if (c.fd < 0) {
        if (now < c.reconnect_at || !open_conn(i)) {
          continue;
        }
      }
      if (open_loop) {
        if (backlog_.empty() || !may_send) {
          return;
        }
        c.scheduled = backlog_.front();
        backlog_.pop_front();
      } else {
        if (!may_send || !claim()) {
          return;
        }
        c.scheduled = {};
      }
      send_request(i);
    }
  }

  bool open_conn(size_t i) {
    Conn& c = conns_[i];
    int fd = ::socket(sh_.target.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      return false;
    }
    // Loopback or unix socket: a blocking connect completes (or fails) at once.
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&sh_.target.addr), sh_.target.len) != 0) {
      ::close(fd);
      ++stats_.errors_connect;
      c.reconnect_at = Clock::now() + std::chrono::milliseconds(100);
      pending_reconnect_ = true;
      return false;
    }
    if (sh_.target.family != AF_UNIX) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = i;
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    c.fd = fd;
    c.in.clear();
    c.busy = false;
    pending_reconnect_ = false;
    return true;
  }

  void close_conn(Conn& c) {
    if (c.fd >= 0) {
      ::epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
    }
    c.fd = -1;
    c.busy = false;
    c.reconnect_at = Clock::now() + std::chrono::milliseconds(10);
    pending_reconnect_ = true;
  }

  uint64_t next_triplet() {
    if (sh_.opt.prepare || sh_.opt.mode == Mode::New) {
      return sh_.next_id.fetch_add(1, std::memory_order_relaxed);
    }
    return std::uniform_int_distribution<uint64_t>(0, sh_.opt.seed_count - 1)(rng_);
  }

  void send_request(size_t i) {
    Conn& c = conns_[i];
    const bool fresh = sh_.opt.mode == Mode::New && !sh_.opt.prepare;
    c.out.clear();
    c.out_off = 0;
    build_request(fresh ? sh_.new_salt : sh_.opt.seed_salt, next_triplet(), c.out);
    c.busy = true;
    c.sent = Clock::now();
    flush(i);
  }

  void flush(size_t i) {
    Conn& c = conns_[i];
    while (c.out_off < c.out.size()) {
      ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_off += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
        ev.data.u64 = i;
        ::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
        return;
      }
      ++stats_.errors_io;
      close_conn(c);
      return;
    }
  }

  void handle(uint64_t i, uint32_t events) {
    Conn& c = conns_[i];
    if (c.fd < 0) {
      return;
    }
    if (events & EPOLLOUT) {
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.u64 = i;
      ::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
      flush(i);
      if (c.fd < 0) {
        return;
      }
    }
    if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
      return;
    }
    char buf[4096];
    while (true) {
      ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        if (static_cast<size_t>(n) < sizeof(buf)) {
          break;  // drained; epoll is level-triggered, so skip the recv that would say EAGAIN
        }
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        break;
      }
      // EOF or error: a server closing an idle connection is not an error, a busy one is.
      if (c.busy) {
        ++stats_.errors_io;
      }
      close_conn(c);
      return;
    }
    auto end = c.in.find("\n\n");
    if (end == std::string::npos) {
      return;
    }
    auto now = Clock::now();
    if (!c.busy) {  // unsolicited bytes
      ++stats_.errors_reply;
      close_conn(c);
      return;
    }
    std::string_view reply(c.in.data(), end + 1);
    if (reply.rfind("action=", 0) == 0) {
      auto word_end = reply.find_first_of(" \t\n", 7);
      std::string action(reply.substr(7, word_end - 7));
      for (auto& ch : action) {
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      }
      ++stats_.actions[action];
      ++stats_.ok;
      stats_.latency.add(static_cast<uint64_t>((now - c.sent).count()));
      if (c.scheduled != Clock::time_point{}) {
        stats_.sched_latency.add(static_cast<uint64_t>((now - c.scheduled).count()));
      }
    } else {
      ++stats_.errors_reply;
      if (stats_.first_bad_reply.empty()) {
        stats_.first_bad_reply = std::string(reply.substr(0, 200));
      }
    }
    last_progress_ = now;
    stats_.last_done = now;
    c.busy = false;
    c.in.erase(0, end + 2);
    if (!c.in.empty()) {  // more than one reply for one request
      ++stats_.errors_reply;
      close_conn(c);
    }
  }

  // Gives up when nothing completed for timeout + 2 s, e.g. because the server is gone and
  // every reconnect is refused; otherwise a --requests run could never end.
  void check_stall(Clock::time_point now) {
    if (in_flight() == 0 && !pending_reconnect_) {
      last_progress_ = now;  // idle by choice (open loop between sends)
      return;
    }
    if (now - last_progress_ > std::chrono::milliseconds(sh_.opt.timeout_ms + 2000)) {
      if (!sh_.stop.exchange(true)) {
        std::fprintf(stderr, "gf_policy_load: no progress for %d ms, stopping\n",
                     sh_.opt.timeout_ms + 2000);
      }
    }
  }

  void check_timeouts(Clock::time_point now) {
    const auto limit = std::chrono::milliseconds(sh_.opt.timeout_ms);
    for (auto& c : conns_) {
      if (c.busy && now - c.sent > limit) {
        ++stats_.errors_timeout;
        stats_.last_done = now;
        close_conn(c);
      }
    }
  }

  Shared& sh_;
  int index_;
  std::vector<Conn> conns_;
  int ep_ = -1;
  bool pending_reconnect_ = false;
  Clock::time_point last_progress_ = Clock::now();
  std::deque<Clock::time_point> backlog_;
  Clock::time_point next_due_{};
  std::mt19937_64 rng_;
  Stats stats_;
};

std::string format_us(double ns) {
  char b[32];
  std::snprintf(b, sizeof(b), "%.0f", ns / 1000.0);
  return b;
}

int run(const Options& opt) {
  auto target = resolve_target(opt.target);
  if (!target) {
    std::fprintf(stderr,
                 "gf_policy_load: cannot parse target %s (HOST:PORT with a numeric host, "
                 "[V6]:PORT or unix:PATH)\n",
                 opt.target.c_str());
    return 2;
  }
  Shared sh;
  sh.opt = opt;
  sh.target = *target;
  if (opt.salt) {
    sh.new_salt = *opt.salt;
  } else {
    std::random_device rd;
    sh.new_salt = ((static_cast<uint64_t>(rd()) << 32) | rd()) & 0xffffffffffULL;
    sh.new_salt |= 1ULL << 40;  // never equal to a small --seed-salt
  }
  sh.budget = opt.requests;

  std::vector<std::unique_ptr<Worker>> workers;
  const auto connect_deadline = Clock::now() + std::chrono::milliseconds(opt.connect_timeout_ms);
  for (int t = 0; t < opt.threads; ++t) {
    int n = opt.connections / opt.threads + (t < opt.connections % opt.threads ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(sh, t, n));
    if (!workers.back()->connect_all(connect_deadline)) {
      std::fprintf(stderr, "gf_policy_load: cannot open %d connections to %s\n", opt.connections,
                   opt.target.c_str());
      std::printf("mode=%s conns=%d requests=0 seconds=0 rps=0 errors=connect\n",
                  opt.mode_name.c_str(), opt.connections);
      return 1;
    }
  }
  // The clock starts once every connection is open, as Postfix's would be in steady state.
  sh.start = Clock::now();
  sh.deadline = opt.duration_s > 0 ? sh.start + Nanos(static_cast<int64_t>(opt.duration_s * 1e9))
                                   : Clock::time_point::max();
  std::vector<std::thread> threads;
  for (auto& w : workers) {
    threads.emplace_back([&w] { w->run(); });
  }
  for (auto& th : threads) {
    th.join();
  }

  Stats total;
  Clock::time_point end = sh.start;
  for (auto& w : workers) {
    Stats& s = w->stats();
    total.latency.merge(s.latency);
    total.sched_latency.merge(s.sched_latency);
    total.ok += s.ok;
    total.errors_connect += s.errors_connect;
    total.errors_io += s.errors_io;
    total.errors_timeout += s.errors_timeout;
    total.errors_reply += s.errors_reply;
    total.unsent += s.unsent;
    for (auto& [k, v] : s.actions) {
      total.actions[k] += v;
    }
    if (total.first_bad_reply.empty()) {
      total.first_bad_reply = s.first_bad_reply;
    }
    end = std::max(end, s.last_done);
  }
  const double seconds = std::chrono::duration<double>(end - sh.start).count();
  const uint64_t done = total.ok + total.errors_reply + total.errors_timeout + total.errors_io;
  const double rps = seconds > 0 ? static_cast<double>(total.ok) / seconds : 0;
  if (!total.first_bad_reply.empty()) {
    std::fprintf(stderr, "gf_policy_load: first non-action reply: %s\n",
                 total.first_bad_reply.c_str());
  }
  std::string actions;
  for (auto& [k, v] : total.actions) {
    actions += (actions.empty() ? "" : ",") + k + ":" + std::to_string(v);
  }
  const auto& h = total.latency;
  std::printf(
      "mode=%s conns=%d threads=%d rate=%.0f requests=%" PRIu64 " ok=%" PRIu64
      " seconds=%.3f rps=%.0f p50_us=%s p90_us=%s p99_us=%s p999_us=%s max_us=%s errors=%" PRIu64
      " err_connect=%" PRIu64 " err_io=%" PRIu64 " err_timeout=%" PRIu64 " err_reply=%" PRIu64,
      opt.mode_name.c_str(), opt.connections, opt.threads, opt.rate, done, total.ok, seconds, rps,
      format_us(h.quantile(0.50)).c_str(), format_us(h.quantile(0.90)).c_str(),
      format_us(h.quantile(0.99)).c_str(), format_us(h.quantile(0.999)).c_str(),
      format_us(static_cast<double>(h.max())).c_str(), total.errors(), total.errors_connect,
      total.errors_io, total.errors_timeout, total.errors_reply);
  if (opt.rate > 0) {
    const auto& s = total.sched_latency;
    std::printf(" unsent=%" PRIu64 " p50_sched_us=%s p99_sched_us=%s max_sched_us=%s", total.unsent,
                format_us(s.quantile(0.50)).c_str(), format_us(s.quantile(0.99)).c_str(),
                format_us(static_cast<double>(s.max())).c_str());
  }
  // The generator shares the machine with the server: report what it cost.
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double gen_cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  std::printf(" gen_cpu_us_per_req=%.1f",
              done > 0 ? gen_cpu_s * 1e6 / static_cast<double>(done) : 0.0);
  std::printf(" actions=%s\n", actions.empty() ? "-" : actions.c_str());
  return total.ok > 0 ? 0 : 1;
}

}  // namespace
}  // namespace gf::bench

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  auto opt = gf::bench::parse_options(argc, argv);
  if (!opt) {
    gf::bench::usage(stderr);
    return 2;
  }
  return gf::bench::run(*opt);
}
