#include "io/net/line_server.hpp"

#include <grp.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "io/net/connection_executor.hpp"
#include "io/net/connection_registry.hpp"
#include "io/net/tcp_listen.hpp"
#include "io/store/write_journal.hpp"
#include "io/sys/rate_limited_log.hpp"

namespace gf::io {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
using asio::awaitable;
using Clock = std::chrono::steady_clock;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

namespace {

struct SessionCtl {
  bool in_read = false;  // touched only on the session's strand
  bool drain = false;
  bool partial = false;  // bytes of an unfinished request are buffered
};

}  // namespace

struct LineServer::Impl : std::enable_shared_from_this<LineServer::Impl> {
  Impl(asio::io_context& io, LineServerOptions o, FrameFn f)
      : ioc(io), opts(std::move(o)), frame(std::move(f)), acceptor_strand(asio::make_strand(io)) {}

  asio::io_context& ioc;
  LineServerOptions opts;
  FrameFn frame;
  LineServerStats stats;
  asio::strand<asio::io_context::executor_type> acceptor_strand;
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> tcp_acceptors;
  std::vector<std::unique_ptr<asio::local::stream_protocol::acceptor>> unix_acceptors;
  RateLimitedLog refuse_log;
  RateLimitedLog accept_error_log;
  RateLimitedLog bad_input_log;

  ConnectionRegistry connections;
};

namespace {

using Impl = LineServer::Impl;

awaitable<void> watchdog(const Clock::time_point& deadline) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto now = Clock::now();
  while (deadline > now) {
    timer.expires_at(deadline);
    co_await timer.async_wait(kNoThrow);
    now = Clock::now();
  }
}

// Half-closes and discards the rest of the client's input (bounded by bytes; the session's
// watchdog bounds the time).
// Reads what the client sent into this thread's scratch buffer, at most `max` bytes; returns the
// bytes read (valid until the next suspension of any session on this thread) or the error (eof
// when the client closed). An idle connection holds no read buffer this way: it waits for
// readability, which costs nothing, and reads only once there is something. With a chunk per
// connection (64 KiB for spamd and milter, 16 KiB for policy and admin), 2,000 idle connections
// on each door held 400 MiB. Race-free because each io_context has one thread: the speculative
// read and the queued wait run without the reactor in between, so an edge that comes after the
// read is still pending when the wait is queued.
template <class Socket>
awaitable<std::pair<boost::system::error_code, std::string_view>> read_available(Socket& sock,
                                                                                 std::size_t max) {
  thread_local std::vector<char> scratch;
  if (scratch.size() < max) {
    scratch.resize(max);
  }
  for (;;) {
    boost::system::error_code ec;
    const std::size_t n = sock.read_some(asio::buffer(scratch.data(), max), ec);
    if (ec != asio::error::would_block && ec != asio::error::try_again) {
      co_return std::pair{ec, std::string_view(scratch.data(), ec ? 0 : n)};
    }
    auto [wec] = co_await sock.async_wait(asio::socket_base::wait_read, kNoThrow);
    if (wec) {
      co_return std::pair{wec, std::string_view()};
    }
  }
}

// Reads into the connection's own buffer (LineServerOptions::own_read_buffer): the read waits in
// the reactor with its buffer, so a request costs one read call, where read_available() costs
// a read that finds nothing, a readiness registration and then the read.
template <class Socket>
awaitable<std::pair<boost::system::error_code, std::string_view>> read_own(Socket& sock,
                                                                           std::vector<char>& buf) {
  auto [ec, n] = co_await sock.async_read_some(asio::buffer(buf), kNoThrow);
  co_return std::pair{ec, std::string_view(buf.data(), ec ? 0 : n)};
}

template <class Socket>
awaitable<void> linger(Impl& impl, Socket& sock) {
  boost::system::error_code ec;
  sock.shutdown(asio::socket_base::shutdown_send, ec);
  if (ec) {
    co_return;
  }
  std::size_t discarded = 0;
  while (discarded < impl.opts.linger_bytes) {
    auto [rec, got] = co_await read_available(sock, impl.opts.read_chunk);
    if (rec) {
      co_return;
    }
    discarded += got.size();
  }
}

template <class Socket>
awaitable<void> serve_loop(std::shared_ptr<Impl> impl, std::shared_ptr<Socket> sock,
                           std::shared_ptr<SessionCtl> ctl, Clock::time_point& deadline,
                           std::string peer) {
  std::string in;
  std::string out;
  FrameFn own_frame = impl->opts.make_frame ? impl->opts.make_frame(peer) : FrameFn();
  AsyncFrameFn own_async =
      impl->opts.make_async_frame ? impl->opts.make_async_frame(peer) : AsyncFrameFn();
  const FrameFn& frame = own_frame ? own_frame : impl->frame;
  // Bytes of `in` counted in stats.buffered; given back however the loop ends.
  std::int64_t counted = 0;
  struct Uncount {
    Impl& impl;
    std::int64_t& counted;
    ~Uncount() { impl.stats.buffered -= counted; }
  } uncount{*impl, counted};
  std::vector<char> own(impl->opts.own_read_buffer);
  while (!ctl->drain) {
    ctl->in_read = true;
    // (Not a conditional expression: GCC 12 miscompiles a co_await inside ?:.)
    std::pair<boost::system::error_code, std::string_view> read;
    if (own.empty()) {
      read = co_await read_available(*sock, impl->opts.read_chunk);
    } else {
      read = co_await read_own(*sock, own);
    }
    auto [ec, got] = read;
    ctl->in_read = false;
    const std::size_t n = got.size();
    if (ec == asio::error::eof && impl->opts.on_eof) {
      impl->opts.on_eof(in, out, peer);
      if (!out.empty()) {
        flush_write_journals();  // what the replies acknowledge reaches the kernel first
        co_await asio::async_write(*sock, asio::buffer(out), kNoThrow);
      }
      co_return;
    }
    if (ec) {
      co_return;  // peer closed, reset, or drained
    }
    // A read that starts a request opens a new window of idle_timeout; bytes that only extend
    // a request in progress do not, so a client that trickles a request (one byte a second) is
    // cut off idle_timeout after its first byte instead of being kept for ever.
    const bool starts_request = in.empty();
    in.append(got);
    const std::size_t before_frame = in.size();
    if (impl->opts.max_buffered_total > 0) {
      const auto now_total = impl->stats.buffered += static_cast<std::int64_t>(n);
      counted += static_cast<std::int64_t>(n);
      if (now_total > static_cast<std::int64_t>(impl->opts.max_buffered_total)) {
        ++impl->stats.over_budget;
        if (!impl->opts.over_budget_reply.empty()) {
          co_await asio::async_write(*sock, asio::buffer(impl->opts.over_budget_reply), kNoThrow);
        }
        std::uint64_t suppressed = 0;
        if (impl->bad_input_log.allow(suppressed)) {
          spdlog::warn("{}: closing {}: {} bytes buffered over all connections (limit {})",
                       impl->opts.name, peer, now_total, impl->opts.max_buffered_total);
        }
        co_return;
      }
    }
    // (Not a conditional expression: GCC 12 miscompiles a co_await inside ?:.)
    FrameResult fr;
    if (own_async) {
      fr = co_await own_async(in, out, peer);
    } else if (impl->opts.async_frame) {
      fr = co_await impl->opts.async_frame(in, out, peer);
    } else {
      fr = frame(in, out, peer);
    }
    ctl->partial = !in.empty();
    if (starts_request || in.size() < before_frame) {  // a request began or was completed
      deadline = Clock::now() + impl->opts.idle_timeout;
    }
    if (impl->opts.max_buffered_total > 0) {
      const auto held = static_cast<std::int64_t>(in.size());
      impl->stats.buffered += held - counted;
      counted = held;
    }
    if (!out.empty()) {
      flush_write_journals();  // what the replies acknowledge reaches the kernel first
      auto [wec, wn] = co_await asio::async_write(*sock, asio::buffer(out), kNoThrow);
      out.clear();
      if (wec) {
        co_return;
      }
    }
    if (fr.status == FrameStatus::Close) {
      if (impl->opts.linger_close) {
        co_await linger(*impl, *sock);
      }
      if (!fr.close_reason.empty()) {
        ++impl->stats.closed_bad_input;
        std::uint64_t suppressed = 0;
        if (impl->bad_input_log.allow(suppressed)) {
          spdlog::warn("{}: closing {}: {}{}", impl->opts.name, peer, fr.close_reason,
                       suppressed ? fmt::format(" ({} similar suppressed)", suppressed) : "");
        }
      }
      co_return;
    }
  }
}

std::string peer_name(const asio::ip::tcp::socket& s) {
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) {
    return "tcp:?";
  }
  return fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

std::string peer_name(const asio::local::stream_protocol::socket&) { return "unix"; }

template <class Socket>
awaitable<void> session(std::shared_ptr<Impl> impl, Socket raw) {
  auto sock = std::make_shared<Socket>(std::move(raw));
  boost::system::error_code nb;
  sock->non_blocking(true, nb);  // read_available's speculative reads
  auto ctl = std::make_shared<SessionCtl>();
  const std::string peer = peer_name(*sock);
  auto ex = sock->get_executor();
  bool draining_now = false;
  const std::uint64_t id = impl->connections.add(
      [weak = std::weak_ptr<Socket>(sock), ctl, ex] {
        asio::post(ex, [weak, ctl] {
          ctl->drain = true;
          if (auto s = weak.lock(); s && ctl->in_read) {
            boost::system::error_code ec;
            s->cancel(ec);
          }
        });
      },
      draining_now);
  ctl->drain = draining_now;
  Clock::time_point deadline = Clock::now() + impl->opts.idle_timeout;
  try {
    auto which = co_await (serve_loop(impl, sock, ctl, deadline, peer) || watchdog(deadline));
    if (which.index() == 1) {
      ++impl->stats.closed_idle;
      std::uint64_t suppressed = 0;
      if (!ctl->partial) {
        spdlog::debug("{}: closing idle connection {}", impl->opts.name, peer);
      } else if (impl->bad_input_log.allow(suppressed)) {  // a client that stopped mid-request
        spdlog::warn("{}: closing {}: stalled inside a request for {} ms{}", impl->opts.name, peer,
                     impl->opts.idle_timeout.count(),
                     suppressed ? fmt::format(" ({} similar suppressed)", suppressed) : "");
      }
    }
  } catch (const std::exception& e) {
    spdlog::warn("{}: connection {} failed: {}", impl->opts.name, peer, e.what());
  }
  boost::system::error_code ec;
  sock->close(ec);
  impl->connections.remove(id);
  --impl->stats.active;
}

template <class Acceptor>
awaitable<void> accept_loop(std::shared_ptr<Impl> impl, Acceptor& acceptor) {
  using Socket = typename Acceptor::protocol_type::socket;
  asio::steady_timer backoff(impl->acceptor_strand);
  while (acceptor.is_open()) {
    const asio::any_io_executor ex = connection_executor(impl->opts.connection_context, impl->ioc);
    Socket sock(ex);
    auto [ec] = co_await acceptor.async_accept(sock, kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
        co_return;
      }
      std::uint64_t suppressed = 0;
      if (impl->accept_error_log.allow(suppressed)) {
        spdlog::error("{}: accept failed: {}", impl->opts.name, ec.message());
      }
      backoff.expires_after(std::chrono::milliseconds(50));  // e.g. out of file descriptors
      co_await backoff.async_wait(kNoThrow);
      continue;
    }
    if (static_cast<std::size_t>(impl->stats.active.load()) >= impl->opts.max_connections) {
      ++impl->stats.refused;
      std::uint64_t suppressed = 0;
      if (impl->refuse_log.allow(suppressed)) {
        spdlog::warn("{}: refusing connection: {} open (max_connections){}", impl->opts.name,
                     impl->stats.active.load(),
                     suppressed ? fmt::format(", {} more refused", suppressed) : "");
      }
      boost::system::error_code ignored;
      sock.close(ignored);
      continue;
    }
    ++impl->stats.accepted;
    ++impl->stats.active;
    asio::co_spawn(ex, session<Socket>(impl, std::move(sock)), asio::detached);
  }
}

}  // namespace

LineServer::LineServer(asio::io_context& ioc, LineServerOptions opts, FrameFn frame)
    : impl_(std::make_shared<Impl>(ioc, std::move(opts), std::move(frame))) {}

LineServer::~LineServer() = default;

const LineServerStats& LineServer::stats() const { return impl_->stats; }

namespace {

using UnixAcceptor = asio::local::stream_protocol::acceptor;

Result<gid_t> group_id(const std::string& name) {
  std::vector<char> buf(16384);
  group gr{};
  group* found = nullptr;
  const int rc = ::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found);
  if (rc != 0 || found == nullptr) {
    return fail(Errc::Config, fmt::format("no group named \"{}\"{}", name,
                                          rc != 0 ? std::string(": ") + std::strerror(rc) : ""));
  }
  return gr.gr_gid;
}

// Binds and listens on a unix socket that has `o.unix_mode` and `o.unix_group` before anyone can
// connect: bound under a temporary name beside `spec.path`, chmod and chown there, then renamed
// over the final name (a rename is atomic, so no client ever sees the socket with the mode the
// umask gave it). Errors name the server and the path.
Result<std::unique_ptr<UnixAcceptor>> listen_unix(
    asio::strand<asio::io_context::executor_type>& strand, const ListenSpec& spec,
    const LineServerOptions& o) {
  auto failed = [&](std::string_view what, std::string_view why) {
    return fail(Errc::Io, fmt::format("{}: cannot {} {}: {}", o.name, what, spec.path, why));
  };
  gid_t gid = static_cast<gid_t>(-1);
  if (!o.unix_group.empty()) {
    auto g = group_id(o.unix_group);
    if (!g) {
      return failed("give the group to", g.error().message);
    }
    gid = *g;
  }
  struct stat st {};
  if (::lstat(spec.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    ::unlink(spec.path.c_str());  // a socket left by an earlier run
  }
  // Beside the final name, shorter when that would not fit in sockaddr_un.
  std::string tmp = fmt::format("{}.{}.tmp", spec.path, ::getpid());
  if (tmp.size() >= sizeof(sockaddr_un::sun_path)) {
    const std::size_t slash = spec.path.rfind('/');
    tmp = fmt::format("{}.{}", slash == std::string::npos ? "" : spec.path.substr(0, slash + 1),
                      ::getpid());
  }
  ::unlink(tmp.c_str());
  auto acc = std::make_unique<UnixAcceptor>(strand);
  boost::system::error_code ec;
  acc->open(asio::local::stream_protocol(), ec);
  if (!ec) {
    acc->bind(asio::local::stream_protocol::endpoint(tmp), ec);
  }
  if (ec) {
    return failed("listen on", ec.message());
  }
  if (::chmod(tmp.c_str(), o.unix_mode) != 0 ||
      ::chown(tmp.c_str(), static_cast<uid_t>(-1), gid) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return failed("set the mode and group of", std::strerror(err));
  }
  acc->listen(asio::socket_base::max_listen_connections, ec);
  if (ec || ::rename(tmp.c_str(), spec.path.c_str()) != 0) {
    const std::string why = ec ? ec.message() : std::strerror(errno);
    ::unlink(tmp.c_str());
    return failed("listen on", why);
  }
  return acc;
}

}  // namespace

Result<void> LineServer::start() {
  for (const ListenSpec& spec : impl_->opts.listen) {
    boost::system::error_code ec;
    if (spec.is_unix) {
      struct stat st {};
      if (::lstat(spec.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
        ::unlink(spec.path.c_str());  // a socket left by an earlier run
      }
      auto acc = listen_unix(impl_->acceptor_strand, spec, impl_->opts);
      if (!acc) {
        return tl::unexpected(acc.error());
      }
      impl_->unix_acceptors.push_back(std::move(*acc));
    } else {
      auto acc = listen_tcp(impl_->acceptor_strand, spec, impl_->opts.name);
      if (!acc) {
        return tl::unexpected(acc.error());
      }
      impl_->tcp_acceptors.push_back(std::move(*acc));
    }
  }
  for (auto& acc : impl_->tcp_acceptors) {
    asio::co_spawn(impl_->acceptor_strand, accept_loop(impl_, *acc), asio::detached);
  }
  for (auto& acc : impl_->unix_acceptors) {
    asio::co_spawn(impl_->acceptor_strand, accept_loop(impl_, *acc), asio::detached);
  }
  impl_->stats.listening = !impl_->opts.listen.empty();
  return {};
}

void LineServer::drain() {
  auto impl = impl_;
  impl->stats.listening = false;
  asio::post(impl->acceptor_strand, [impl] {
    boost::system::error_code ec;
    for (auto& acc : impl->tcp_acceptors) {
      acc->close(ec);
    }
    for (auto& acc : impl->unix_acceptors) {
      acc->close(ec);
    }
  });
  impl->connections.drain();
}

}  // namespace gf::io
