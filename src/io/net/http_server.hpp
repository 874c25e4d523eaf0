#pragma once
// HttpServer: a small HTTP/1.1 server on Boost.Beast and C++20 coroutines, for the comment API.
//
// Each accepted connection runs one coroutine on its own strand: wait for the first byte of a
// request (at most `idle_timeout`: keep-alive connections that go quiet are closed), then read
// the whole request within `request_timeout` (a slow client that trickles a header or body is
// cut off: 408 if it sent part of a request), hand it to the HttpHandler, write the answer, and
// loop while both sides keep the connection alive. A body over `body_limit` is answered 413, a
// header over `header_limit` 431, a malformed request 400; each closes only that connection.
// Framing is strict (request smuggling): the head passes gf::http::RequestHeadScanner before
// Beast parses it (Content-Length with Transfer-Encoding, a Transfer-Encoding other than one
// "chunked", disagreeing Content-Lengths, obsolete line folding, bare LF, invalid field names:
// 400), a chunk line with over 256 bytes of extensions or longer than the connection buffer
// (header_limit + 64 KiB) is 400, and after any error answer the connection is closed, so bytes
// after a refused request are never served as a request of their own.
// `Expect: 100-continue` is honoured. Requests with an absolute URI (sent by clients through an
// HTTP proxy) are served as if the path had been given, with the URI's authority as the host.
// drain() stops accepting and closes each connection after its current answer.
//
// Threading: the handler is called on the connection's strand, concurrently for different
// connections; it must be thread-safe and must not block for long. Errors: start() returns a
// Result (a startup error); nothing else throws out of the server (each connection coroutine has
// one backstop catch that logs and closes).
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/result.hpp"
#include "core/common/time.hpp"
#include "io/net/listen.hpp"

namespace boost::asio {
class io_context;
}

namespace gf::io {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // "/1.1/comment-check", never an absolute URI
  std::string query;   // after '?', undecoded
  std::string host;    // the absolute URI's authority, else the Host header
  std::string content_type;
  std::string user_agent;
  std::string body;
  std::string peer;  // "127.0.0.1:40000"
  // Every header field in arrival order, names lower-cased, values as sent (a repeated field
  // appears once per line).
  std::vector<std::pair<std::string, std::string>> headers;

  // The first value of header `name` (matched case-insensitively), empty if absent.
  [[nodiscard]] std::string_view header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
// A handler that may suspend (the comment API on a networked store: the connection waits for
// the store while its thread serves others). Runs on the connection's executor; the request
// stays valid until it completes.
using AsyncHttpHandler = std::function<boost::asio::awaitable<HttpResponse>(const HttpRequest&)>;

struct HttpServerOptions {
  std::string name = "http";
  std::vector<ListenSpec> listen;  // TCP only
  std::size_t body_limit = 1024 * 1024 + 64 * 1024;
  std::size_t header_limit = 16 * 1024;
  Millis idle_timeout{std::chrono::seconds(60)};
  Millis request_timeout{std::chrono::seconds(10)};
  std::size_t max_connections = 10000;
  std::string server_header = "greyflux";
  // As LineServerOptions::connection_context: where a new connection lives (one thread each).
  std::function<boost::asio::io_context&()> connection_context;
  AsyncHttpHandler async_handler;  // when set, used instead of the HttpHandler
};

struct HttpServerStats {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> bad_requests{0};  // 400, 413, 431
  std::atomic<std::uint64_t> timeouts{0};      // 408 or a slow request cut off
  std::atomic<std::uint64_t> closed_idle{0};
  std::atomic<std::int64_t> active{0};
  std::atomic<bool> listening{false};  // start() bound every listener; drain() clears
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& ioc, HttpServerOptions opts, HttpHandler handler);
  ~HttpServer();

  [[nodiscard]] Result<void> start();
  void drain();
  [[nodiscard]] const HttpServerStats& stats() const;
  // The bound ports, in listen order (useful when a port was 0).
  [[nodiscard]] std::vector<std::uint16_t> ports() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace gf::io
