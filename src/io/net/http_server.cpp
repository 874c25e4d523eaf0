#include "io/net/http_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <unordered_map>

#include "core/common/http_head.hpp"
#include "core/common/strings.hpp"
#include "io/net/connection_executor.hpp"
#include "io/net/connection_registry.hpp"
#include "io/net/tcp_listen.hpp"
#include "io/store/write_journal.hpp"
#include "io/sys/rate_limited_log.hpp"

namespace gf::io {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using asio::awaitable;
using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& io, HttpServerOptions o, HttpHandler h)
      : ioc(io),
        opts(std::move(o)),
        handler(std::move(h)),
        acceptor_strand(asio::make_strand(io)) {}

  asio::io_context& ioc;
  HttpServerOptions opts;
  HttpHandler handler;
  HttpServerStats stats;
  asio::strand<asio::io_context::executor_type> acceptor_strand;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::uint16_t> bound_ports;

  ConnectionRegistry connections;

  RateLimitedLog log;

  void warn_limited(const std::string& msg) { log.warn(opts.name + ": " + msg); }
};

namespace {

using Impl = HttpServer::Impl;

// Chunk extensions greyflux reads none of; a client that sends more than this on one chunk line
// is abusing them (each is otherwise bounded only by the connection buffer).
constexpr std::size_t kMaxChunkExtensions = 256;
// What the connection buffer holds beyond a full head: a read's worth of body or of the next
// pipelined request, and any chunk line (a longer one is refused as buffer_overflow, 400).
constexpr std::size_t kBufferSlack = 64 * 1024;

std::string_view buffer_text(const beast::flat_buffer& b) {
  return {static_cast<const char*>(b.data().data()), b.size()};
}

struct SessionCtl {
  bool drain = false;    // touched only on the session's strand
  bool waiting = false;  // idle, waiting for the next request
};

// Splits an origin-form or absolute-form target into host (absolute form only), path, query.
void split_target(std::string_view target, std::string& host, std::string& path,
                  std::string& query) {
  std::string_view t = target;
  if (t.starts_with("http://") || t.starts_with("https://") || t.starts_with("HTTP://") ||
      t.starts_with("HTTPS://")) {
    t.remove_prefix(t.find("://") + 3);
    const std::size_t slash = t.find_first_of("/?");
    host.assign(t.substr(0, slash));
    t = slash == std::string_view::npos ? std::string_view("/") : t.substr(slash);
  }
  const std::size_t q = t.find('?');
  path.assign(t.substr(0, q));
  if (path.empty()) {
    path = "/";
  }
  query.assign(q == std::string_view::npos ? std::string_view() : t.substr(q + 1));
}

// A header value on one line: CR, LF and other control bytes become spaces.
void append_header_value(std::string& out, std::string_view v) {
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
  }
}

// The answer as bytes on the wire: status line, Server, Content-Type, the handler's headers,
// Content-Length and Connection as Beast's keep_alive() sets it. Built by hand so that an
// answer needs no serializer and, usually, no asynchronous write (write_now()).
std::string wire_response(const HttpServerOptions& o, int status, unsigned version, bool keep_alive,
                          const HttpResponse& r) {
  std::string out;
  out.reserve(160 + r.body.size() + r.headers.size() * 48);
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(status);
  out.push_back(' ');
  const auto reason = http::obsolete_reason(static_cast<http::status>(status));
  out.append(reason.data(), reason.size());
  out += "\r\nServer: ";
  append_header_value(out, o.server_header);
  out += "\r\nContent-Type: ";
  append_header_value(out, r.content_type);
  for (const auto& [k, v] : r.headers) {
    out += "\r\n";
    append_header_value(out, k);
    out += ": ";
    append_header_value(out, v);
  }
  out += "\r\nContent-Length: ";
  out += std::to_string(r.body.size());
  if (version == 10 && keep_alive) {
    out += "\r\nConnection: keep-alive";
  } else if (version != 10 && !keep_alive) {
    out += "\r\nConnection: close";
  }
  out += "\r\n\r\n";
  out += r.body;
  return out;
}

// Writes what the socket takes right away without waiting (the usual case for a small answer
// to a client that reads); returns the number of bytes written.
std::size_t write_now(tcp::socket& s, std::string_view bytes) {
  boost::system::error_code ec;
  if (!s.non_blocking()) {
    s.non_blocking(true, ec);
    if (ec) {
      return 0;
    }
  }
  std::size_t done = 0;
  while (done < bytes.size()) {
    const std::size_t n = s.write_some(asio::buffer(bytes.data() + done, bytes.size() - done), ec);
    if (ec) {
      break;
    }
    done += n;
  }
  return done;
}

HttpResponse error_response(int status, std::string_view text) {
  HttpResponse r;
  r.status = status;
  r.body = std::string(text);
  return r;
}

// Writes a final error answer, half-closes, and reads (discarding) what the client still sends
// for a moment so that it sees the answer instead of a reset.
awaitable<void> answer_and_close(beast::tcp_stream& stream, const HttpServerOptions& o, int status,
                                 std::string_view text) {
  const std::string wire = wire_response(o, status, 11, false, error_response(status, text));
  stream.expires_after(std::chrono::seconds(2));
  auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(wire), kNoThrow);
  if (wec) {
    co_return;
  }
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  std::array<char, 16384> sink{};
  std::size_t drained = 0;
  stream.expires_after(std::chrono::seconds(1));
  while (drained < 4u * 1024 * 1024) {
    auto [rec, rn] = co_await stream.async_read_some(asio::buffer(sink), kNoThrow);
    if (rec) {
      break;
    }
    drained += rn;
  }
}

// A deadline for reading one request. Unlike tcp_stream's own expiry (which closes the socket),
// it only cancels the pending read, so that the slow client can still be told 408.
struct RequestDeadline {
  explicit RequestDeadline(const std::shared_ptr<beast::tcp_stream>& s)
      : timer(s->get_executor()), stream(s) {}
  void arm(Millis after) {
    fired = std::make_shared<bool>(false);
    timer.expires_after(after);
    timer.async_wait([weak = stream, f = fired](boost::system::error_code ec) {
      if (ec) {
        return;
      }
      *f = true;
      if (auto s = weak.lock()) {
        boost::system::error_code ignored;
        s->socket().cancel(ignored);
      }
    });
  }
  void disarm() { timer.cancel(); }
  bool expired() const { return fired && *fired; }

  asio::steady_timer timer;
  std::weak_ptr<beast::tcp_stream> stream;
  std::shared_ptr<bool> fired;
};

awaitable<void> serve(std::shared_ptr<Impl> impl, std::shared_ptr<beast::tcp_stream> sp,
                      std::shared_ptr<SessionCtl> ctl, const std::string& peer) {
  const HttpServerOptions& o = impl->opts;
  beast::tcp_stream& stream = *sp;
  RequestDeadline deadline(sp);
  beast::flat_buffer buf(o.header_limit + kBufferSlack);
  while (!ctl->drain) {
    // 1. Wait for the first byte of the next request (keep-alive idle time).
    if (buf.size() == 0) {
      ctl->waiting = true;
      stream.expires_after(o.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buf.prepare(16384), kNoThrow);
      ctl->waiting = false;
      if (ec == beast::error::timeout) {
        ++impl->stats.closed_idle;
        co_return;
      }
      if (ec) {
        co_return;  // closed by the peer, reset, or drained
      }
      buf.commit(n);
    }
    // 2. The whole request within request_timeout. A request that is already in the buffer
    //    (a keep-alive client sends each in one segment) is parsed here, with no timer. The head
    //    passes the framing check (core/common/http_head.hpp) before Beast parses it.
    bool armed = false;
    auto arm = [&] {
      if (!armed) {
        stream.expires_never();
        deadline.arm(o.request_timeout);
        armed = true;
      }
    };
    boost::system::error_code rec;
    gf::http::RequestHeadScanner head;
    gf::http::HeadStatus framing = head.scan(buffer_text(buf));
    while (framing == gf::http::HeadStatus::NeedMore && buf.size() < o.header_limit) {
      arm();
      auto [hec, hn] = co_await stream.async_read_some(
          buf.prepare(std::min<std::size_t>(16384, buf.max_size() - buf.size())), kNoThrow);
      if (hec) {
        rec = deadline.expired() ? beast::error::timeout : hec;
        break;
      }
      buf.commit(hn);
      framing = head.scan(buffer_text(buf));
    }
    if (!rec && framing == gf::http::HeadStatus::NeedMore) {
      rec = http::error::header_limit;
    }
    if (framing == gf::http::HeadStatus::Error) {
      deadline.disarm();
      ++impl->stats.bad_requests;
      impl->warn_limited(fmt::format("400 to {}: {}", peer, head.error()));
      co_await answer_and_close(stream, o, 400, "Bad Request");
      co_return;
    }
    // Beast holds a pointer to the callback: it lives as long as the parser.
    auto limit_extensions = [](std::uint64_t, beast::string_view ext,
                               boost::system::error_code& ec) {
      if (ext.size() > kMaxChunkExtensions) {
        ec = http::error::bad_chunk_extension;
      }
    };
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(o.header_limit));
    parser.body_limit(o.body_limit);
    parser.eager(true);
    parser.on_chunk_header(limit_extensions);
    while (!rec && buf.size() > 0 && !parser.is_done()) {
      const std::size_t used = parser.put(buf.data(), rec);
      buf.consume(used);
      if (rec == http::error::need_more) {
        rec = {};
        break;
      }
      if (rec || used == 0) {
        break;
      }
    }
    if (!rec && !parser.is_done()) {
      arm();
      if (!parser.is_header_done()) {
        auto [hec, hn] = co_await http::async_read_header(stream, buf, parser, kNoThrow);
        rec = hec;
      }
      if (!rec && !parser.is_done()) {
        const auto& hdr = parser.get();
        if (beast::iequals(hdr[http::field::expect], "100-continue")) {
          http::response<http::empty_body> cont{http::status::continue_, hdr.version()};
          auto [cec, cn] = co_await http::async_write(stream, cont, kNoThrow);
          if (cec) {
            co_return;
          }
        }
        auto [bec, bn] = co_await http::async_read(stream, buf, parser, kNoThrow);
        rec = bec;
      }
    }
    if (armed) {
      deadline.disarm();
      if (deadline.expired()) {
        rec = beast::error::timeout;
      }
    }
    if (rec) {
      if (rec == http::error::body_limit) {
        ++impl->stats.bad_requests;
        impl->warn_limited(fmt::format("413 to {}: body over {} bytes", peer, o.body_limit));
        co_await answer_and_close(stream, o, 413, "Request Entity Too Large");
      } else if (rec == http::error::header_limit) {
        ++impl->stats.bad_requests;
        impl->warn_limited(fmt::format("431 to {}: header over {} bytes", peer, o.header_limit));
        co_await answer_and_close(stream, o, 431, "Request Header Fields Too Large");
      } else if (rec == beast::error::timeout) {
        ++impl->stats.timeouts;
        impl->warn_limited(fmt::format("408 to {}: request not complete within {}", peer,
                                       format_duration(o.request_timeout)));
        co_await answer_and_close(stream, o, 408, "Request Timeout");
      } else if (rec == http::error::end_of_stream || rec == asio::error::eof ||
                 rec == asio::error::connection_reset || rec == asio::error::operation_aborted ||
                 rec == http::error::partial_message) {
        // The client went away mid-request.
      } else {
        ++impl->stats.bad_requests;
        impl->warn_limited(fmt::format("400 to {}: {}", peer, rec.message()));
        co_await answer_and_close(stream, o, 400, "Bad Request");
      }
      co_return;
    }
    // 3. Answer. Trailer fields (Beast adds them to the header) are refused: greyflux reads
    //    none, and a field a proxy filters from the head must not arrive after the body.
    http::request<http::string_body> req = parser.release();
    if (static_cast<std::size_t>(std::distance(req.begin(), req.end())) != head.fields()) {
      ++impl->stats.bad_requests;
      impl->warn_limited(fmt::format("400 to {}: chunked trailer fields", peer));
      co_await answer_and_close(stream, o, 400, "Bad Request");
      co_return;
    }
    HttpRequest hr;
    hr.method = std::string(req.method_string());
    split_target(req.target(), hr.host, hr.path, hr.query);
    if (hr.host.empty()) {
      hr.host = std::string(req[http::field::host]);
    }
    hr.content_type = std::string(req[http::field::content_type]);
    hr.user_agent = std::string(req[http::field::user_agent]);
    hr.headers.reserve(static_cast<std::size_t>(std::distance(req.begin(), req.end())));
    for (const auto& field : req) {
      hr.headers.emplace_back(ascii_lower(field.name_string()), std::string(field.value()));
    }
    hr.body = std::move(req.body());
    hr.peer = peer;
    ++impl->stats.requests;
    // (Not a conditional expression: GCC 12 miscompiles a co_await inside ?:.)
    HttpResponse answer;
    if (o.async_handler) {
      answer = co_await o.async_handler(hr);
    } else {
      answer = impl->handler(hr);
    }
    const bool keep = req.keep_alive() && !ctl->drain;
    const std::string wire = wire_response(o, answer.status, req.version(), keep, answer);
    flush_write_journals();  // what the answer acknowledges reaches the kernel first
    const std::size_t sent = write_now(stream.socket(), wire);
    if (sent < wire.size()) {
      // The client is not reading fast enough: wait for it, within request_timeout.
      stream.expires_after(o.request_timeout);
      auto [wec, wn] = co_await asio::async_write(
          stream, asio::buffer(wire.data() + sent, wire.size() - sent), kNoThrow);
      if (wec) {
        co_return;
      }
    }
    if (!keep) {
      co_return;
    }
  }
}

std::string peer_name(const tcp::socket& s) {
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) {
    return "tcp:?";
  }
  return fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

awaitable<void> session(std::shared_ptr<Impl> impl, tcp::socket sock) {
  const std::string peer = peer_name(sock);
  boost::system::error_code nd;
  sock.set_option(tcp::no_delay(true), nd);
  auto stream = std::make_shared<beast::tcp_stream>(std::move(sock));
  auto ctl = std::make_shared<SessionCtl>();
  auto ex = stream->get_executor();
  bool draining_now = false;
  const std::uint64_t id = impl->connections.add(
      [weak = std::weak_ptr<beast::tcp_stream>(stream), ctl, ex] {
        asio::post(ex, [weak, ctl] {
          ctl->drain = true;
          if (auto s = weak.lock(); s && ctl->waiting) {
            s->cancel();
          }
        });
      },
      draining_now);
  ctl->drain = draining_now;
  try {
    co_await serve(impl, stream, ctl, peer);
  } catch (const std::exception& e) {
    impl->warn_limited(fmt::format("connection {} failed: {}", peer, e.what()));
  }
  boost::system::error_code ec;
  stream->socket().shutdown(tcp::socket::shutdown_both, ec);
  stream->socket().close(ec);
  impl->connections.remove(id);
  --impl->stats.active;
}

awaitable<void> accept_loop(std::shared_ptr<Impl> impl, tcp::acceptor& acceptor) {
  asio::steady_timer backoff(impl->acceptor_strand);
  while (acceptor.is_open()) {
    const asio::any_io_executor ex = connection_executor(impl->opts.connection_context, impl->ioc);
    tcp::socket sock(ex);
    auto [ec] = co_await acceptor.async_accept(sock, kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
        co_return;
      }
      impl->warn_limited(fmt::format("accept failed: {}", ec.message()));
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(kNoThrow);
      continue;
    }
    if (static_cast<std::size_t>(impl->stats.active.load()) >= impl->opts.max_connections) {
      ++impl->stats.refused;
      impl->warn_limited(
          fmt::format("refusing connection: {} open (max_connections)", impl->stats.active.load()));
      boost::system::error_code ignored;
      sock.close(ignored);
      continue;
    }
    ++impl->stats.accepted;
    ++impl->stats.active;
    asio::co_spawn(ex, session(impl, std::move(sock)), asio::detached);
  }
}

}  // namespace

std::string_view HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) {
      return value;
    }
  }
  return {};
}

HttpServer::HttpServer(asio::io_context& ioc, HttpServerOptions opts, HttpHandler handler)
    : impl_(std::make_shared<Impl>(ioc, std::move(opts), std::move(handler))) {}

HttpServer::~HttpServer() = default;

const HttpServerStats& HttpServer::stats() const { return impl_->stats; }

std::vector<std::uint16_t> HttpServer::ports() const { return impl_->bound_ports; }

Result<void> HttpServer::start() {
  for (const ListenSpec& spec : impl_->opts.listen) {
    if (spec.is_unix) {
      return fail(Errc::Config, fmt::format("{}: unix sockets are not supported for HTTP ({})",
                                            impl_->opts.name, spec.to_string()));
    }
    auto acc = listen_tcp(impl_->acceptor_strand, spec, impl_->opts.name);
    if (!acc) {
      return tl::unexpected(acc.error());
    }
    boost::system::error_code ec;
    impl_->bound_ports.push_back((*acc)->local_endpoint(ec).port());
    impl_->acceptors.push_back(std::move(*acc));
  }
  for (auto& acc : impl_->acceptors) {
    asio::co_spawn(impl_->acceptor_strand, accept_loop(impl_, *acc), asio::detached);
  }
  impl_->stats.listening = !impl_->opts.listen.empty();
  return {};
}

void HttpServer::drain() {
  auto impl = impl_;
  impl->stats.listening = false;
  asio::post(impl->acceptor_strand, [impl] {
    boost::system::error_code ec;
    for (auto& acc : impl->acceptors) {
      acc->close(ec);
    }
  });
  impl->connections.drain();
}

}  // namespace gf::io
