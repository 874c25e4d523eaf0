#pragma once
// A small Asio server for line/record protocols over TCP and unix sockets, shared by the policy
// server and the admin socket.
//
// For each connection a coroutine on its own strand reads into a buffer and hands the buffer to
// a FrameFn, which consumes complete requests and appends replies; the server writes the replies
// and reads again. The FrameFn decides what is complete and what is garbage (it returns
// Close with a reason): the server then writes what was produced, closes that connection and
// logs one line. Other connections are never affected.
// Idle connections are closed after `idle_timeout`, and so is one whose request has not arrived
// in full `idle_timeout` after its first byte (bytes that trickle in do not extend it; a read
// that completes a request does); over `max_connections` new connections are
// closed at once. drain() stops accepting and closes every connection once its pending reply is
// written, so SIGTERM never cuts an answer in half.
//
// Request/response protocols that end a request with the client's half-close (spamd without
// Content-length) set `on_eof`: it sees the buffered bytes once more when the peer stops
// sending, and what it appends to `out` is written before the connection closes. With
// `linger_close`, a Close first shuts down the sending side (the client reads the reply to its
// end) and then discards what the client still sends, up to `linger_bytes` or the idle timeout,
// so a reply to an over-long request is not lost to a TCP reset.
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/common/result.hpp"
#include "core/common/time.hpp"
#include "io/net/listen.hpp"

namespace boost::asio {
class io_context;
}

namespace gf::io {

enum class FrameStatus { Continue, Close };

struct FrameResult {
  FrameStatus status = FrameStatus::Continue;
  std::string close_reason;  // logged when non-empty
};

// `in` holds unconsumed bytes (the callee erases what it used); replies go to `out`.
// `peer` names the connection for logs.
using FrameFn =
    std::function<FrameResult(std::string& in, std::string& out, const std::string& peer)>;

// A FrameFn that may suspend (the policy server on a networked store: the coroutine waits for
// the store's answer while the thread serves other connections). Same contract as FrameFn; it
// runs on the connection's executor and must resume there.
using AsyncFrameFn = std::function<boost::asio::awaitable<FrameResult>(
    std::string& in, std::string& out, const std::string& peer)>;

// Called once when the peer half-closes; the connection closes after `out` is written.
using EofFn = std::function<void(std::string& in, std::string& out, const std::string& peer)>;

struct LineServerOptions {
  std::string name;  // for logs: "policy", "admin"
  std::vector<ListenSpec> listen;
  Millis idle_timeout{std::chrono::minutes(10)};
  std::size_t max_connections = 10000;
  std::size_t read_chunk = 16 * 1024;  // bytes read at once, into a per-thread buffer
  // When > 0, each connection reads into a buffer of its own of this many bytes, with a read
  // that waits in the reactor: one read call per request instead of three (a read that finds
  // nothing, a readiness registration, the read), for this many bytes per connection, idle or
  // not. For a door whose clients send small requests on long-lived connections (policy).
  std::size_t own_read_buffer = 0;
  // A unix socket is created with exactly this mode and group from its first moment (bound
  // under a temporary name, set, then renamed into place). An empty group keeps the process's.
  unsigned unix_mode = 0666;
  std::string unix_group;
  EofFn on_eof;  // empty: end of input simply closes
  // When set, used instead of the server's FrameFn (and of make_frame).
  AsyncFrameFn async_frame;
  // Protocols with per-connection state (the milter): when set, called once per connection
  // with its peer name; the FrameFn it returns serves that connection alone (and is destroyed
  // with it) instead of the server's shared one.
  std::function<FrameFn(const std::string& peer)> make_frame;
  // make_frame's AsyncFrameFn twin (the milter on a networked store); used before either.
  std::function<AsyncFrameFn(const std::string& peer)> make_async_frame;
  // Bytes buffered across all connections at most (0 = no limit); a read that would go over it
  // gets `over_budget_reply` and its connection is closed, so many large uploads at once cannot
  // exhaust memory.
  std::size_t max_buffered_total = 0;
  std::string over_budget_reply;
  bool linger_close = false;  // see above
  std::size_t linger_bytes = 64 * 1024 * 1024;
  // Where a new connection lives (IoPool::next); each context it returns must be run by one
  // thread. Empty: on a strand of the server's own context.
  std::function<boost::asio::io_context&()> connection_context;
};

struct LineServerStats {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> closed_bad_input{0};
  std::atomic<std::uint64_t> closed_idle{0};
  std::atomic<std::int64_t> active{0};
  std::atomic<std::int64_t> buffered{0};      // bytes held in connection buffers now
  std::atomic<std::uint64_t> over_budget{0};  // connections closed by max_buffered_total
  std::atomic<bool> listening{false};         // start() bound every listener; drain() clears
};

class LineServer {
 public:
  LineServer(boost::asio::io_context& ioc, LineServerOptions opts, FrameFn frame);
  ~LineServer();

  // Binds every listener; a failure here is a startup error.
  [[nodiscard]] Result<void> start();
  void drain();
  const LineServerStats& stats() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace gf::io
