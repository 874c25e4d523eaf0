#pragma once
// RedisConnection: one hiredis async connection driven by an Asio io_context (the Redis thread
// of io::RedisClient; every method here runs on it).
//
// hiredis does the protocol; we do the waiting. Its event hooks (redisAsyncContext::ev:
// addRead/delRead/addWrite/delWrite/cleanup) arm and disarm async_wait()s on a
// boost::asio::posix::stream_descriptor wrapping hiredis's socket; when the socket is ready we
// call redisAsyncHandleRead/Write. cleanup releases the descriptor without closing it (hiredis
// owns the fd).
//
// States: Down -> Connecting (non-blocking connect, then AUTH / SELECT / PING pipelined) ->
// Ready (the PING answered). Any failure (refused, EOF, an error reply in the handshake, no
// reply within the timeout) frees the context, and a timer reconnects after a backoff that
// doubles from backoff_min to backoff_max and resets once Ready. A watchdog drops the
// connection when the oldest command has waited longer than twice the call timeout and no
// reply at all has come for as long (a hung server, not a slow one still working through a
// deep pipeline), which answers every queued callback with an error.
// Writing: while Ready, a command queued by hiredis posts one flush to the loop (not a wait for
// the socket to be writable): every command queued before that handler runs (the requests of
// all the clients the loop serves in that turn) goes out in one write; the socket is waited
// for only when it does not take everything.
// Reading: hiredis reads at most 16 KiB per redisAsyncHandleRead(), so a readiness event is
// followed by drain(), which reads on while the socket holds bytes: replies that came while the
// loop was busy are all handled before the timers that became due meanwhile run. The watchdog
// (and io::RedisClient before it calls a call timed out) drains first too, so that nothing is
// declared lost whose reply is already in the socket.
// Error contract: `done` of submit() runs exactly once, with the reply or a StoreFailure.
#include <hiredis/async.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <string>

#include "io/store/redis_client.hpp"

namespace gf::io {

class RedisConnection {
 public:
  using Done = std::function<void(Result<RedisReply>)>;

  // Connects to opts.url, or to `url` when given (a cluster node: opts.url with another host
  // and port).
  RedisConnection(boost::asio::io_context& ioc, const RedisOptions& opts, int index,
                  RedisClient::Counters& counters, std::optional<RedisUrl> url = std::nullopt);
  ~RedisConnection();

  void start();  // begins connecting
  void stop();   // frees the context (queued callbacks get an error); no reconnect after
  bool ready() const { return ready_.load(std::memory_order_acquire); }
  void submit(const std::vector<std::string>& args, Done done);
  // Writes what is queued now instead of at the loop's next poll (when Ready).
  void flush();
  bool idle() const { return inflight_.empty(); }  // no reply awaited
  // Handles every reply the socket holds now (bounded: kDrainReads reads of 16 KiB).
  void drain();
  static constexpr int kDrainReads = 64;

 private:
  enum class State { Down, Connecting, Ready };
  using Clock = std::chrono::steady_clock;

  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_disconnect(const redisAsyncContext* ac, int status);
  static void on_reply(redisAsyncContext* ac, void* reply, void* privdata);
  static void ev_add_read(void* self);
  static void ev_del_read(void* self);
  static void ev_add_write(void* self);
  static void ev_del_write(void* self);
  static void ev_cleanup(void* self);

  void connect();
  void handshake();
  void arm_read();
  void arm_write();
  void post_flush();
  // Frees the context from outside hiredis's callbacks and schedules the reconnect.
  void drop(const std::string& why);
  void lost(const std::string& why);  // the context is gone (or going): state, log, reconnect
  void schedule_reconnect();
  void start_watchdog();
  void on_watchdog();
  bool enqueue(const std::vector<std::string>& args, Done* done);

  boost::asio::io_context& ioc_;
  const RedisOptions& opts_;
  const RedisUrl url_;
  const int index_;
  RedisClient::Counters& counters_;
  redisAsyncContext* ac_ = nullptr;
  std::optional<boost::asio::posix::stream_descriptor> sd_;
  bool want_read_ = false;
  bool want_write_ = false;
  bool read_armed_ = false;
  bool write_armed_ = false;
  bool flush_posted_ = false;
  bool in_write_ = false;  // inside redisAsyncHandleWrite (which re-adds the write event)
  std::uint64_t gen_ = 0;  // a new context each connect; handlers of an old one do nothing
  State state_ = State::Down;
  std::atomic<bool> ready_{false};
  bool stopping_ = false;
  bool reconnect_pending_ = false;
  Millis backoff_;
  Clock::time_point connect_started_{};
  std::deque<Clock::time_point> inflight_;  // send times, oldest first (replies are FIFO)
  Clock::time_point last_reply_{};          // when the last reply came (progress)
  boost::asio::steady_timer retry_timer_;
  boost::asio::steady_timer watchdog_;
  std::string last_error_;   // logged once per outage
  std::string drop_reason_;  // why drop() freed the context (on_disconnect reports it)
};

}  // namespace gf::io
