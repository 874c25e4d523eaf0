#pragma once
// RedisClient: greyflux's connection to one Redis server, shared by the Redis stores
// (io::RedisKv for the comment API, io::RedisStore for the greylist).
//
// Flow: the client owns one io_context run by one thread of its own, and `pool_size` hiredis
// async connections on it (io/store/redis_connection.hpp: hiredis's event hooks mapped onto an
// Asio stream_descriptor, reconnecting with backoff). A store calls call() with a batch of
// commands: the batch is posted to the Redis thread, written to the connections as one pipeline
// and the caller waits for every reply, bounded by `timeout` — one call is one round trip, which
// stats().round_trips counts. send() is the same without waiting (buffered writes: the reply is
// checked on the Redis thread, a failure is counted and reported by the next barrier()).
// Each command names its connection (conn_for(key)); commands on one connection run in the
// order they were posted, so a get() after a send() of the same key sees the write, from any
// thread (posting happens-before). With `cluster`, conn_for(key) is the key's slot and the
// router sends it to that slot's master, following MOVED/ASK redirects (a redirect adds a hop
// inside the same call; stats() counts them); a batch whose keys sit on several masters goes
// out as one pipeline per master, all at once, so it still costs one round trip of waiting.
//
// async_call() is call() without waiting, for the io threads (the policy server): the batch is
// posted the same way and `done` runs on the Redis thread once every reply is in, or with a
// StoreFailure when `timeout` passes first (one timer per loop stands for every awaited call:
// at a deadline it first reads what the sockets hold, so a busy loop's late read is not a
// timeout; async_write() has no deadline: its connection's watchdog fails it if Redis hangs);
// the caller hands the result back to its own executor. Requests of many clients posted in one
// turn of the Redis thread go out in one write per connection (hiredis buffers them), so the io
// threads never wait and Redis sees one pipeline.
//
// Loops (attach_loops()): the daemon hands the client its io threads' io_contexts, and each gets
// connections of its own (standalone: pool_size; cluster: a router), driven by hiredis from that
// loop. An async_call() or send() made on such a thread then goes to its own loop's connections
// with no hand-off: the read is written by a flush posted to the loop (requests of every client
// that thread served meanwhile share one write), the reply is read and handled by that same
// thread, and a send() is written at once (or, in a RedisWriteBatch, by that flush before the
// batch's writer answers), so that a write acknowledged to a client is in Redis's socket before
// the client can ask again on another thread. While a loop's connections are not ready
// (starting, reconnecting) its calls take the Redis thread's path. call() (blocking) always takes
// the Redis thread's path; barrier() pings the other loops' connections too.
//
// Threading: every public method is safe from any thread except the Redis thread itself
// (store methods never run there; async_call() may). call() and barrier() block the calling
// thread for at most `timeout`; while
// a connection is down, calls to it fail at once (no waiting), so the policy server's
// fail-open answer comes without delay.
// Errors: StoreFailure with a message ("redis: not connected to ...", "redis: timeout after
// 50ms", "redis: connection lost"). A Redis error reply is not a failure of call(): it comes
// back as a RedisReply of type Error for the caller to judge.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/common/redis_reply.hpp"
#include "core/common/redis_url.hpp"
#include "core/common/result.hpp"
#include "core/common/time.hpp"

namespace boost::asio {
class io_context;
}

namespace gf::io {

struct RedisOptions {
  RedisUrl url;
  Millis timeout{50};           // one call: from posting the batch to the last reply
  Millis connect_timeout{500};  // connect + AUTH/SELECT/PING handshake
  Millis backoff_min{50};       // first reconnect delay, doubling up to backoff_max
  Millis backoff_max{2000};
  int pool_size = 1;  // connections; keys are spread over them by hash (standalone only)
  // Redis Cluster: `url` is one node (the seed); commands go to the master of their key's
  // slot (io/store/redis_router.hpp), one connection per node. The URL's DB must be 0.
  bool cluster = false;
  Millis cluster_refresh{2000};  // re-read the slot map at least this often
};

struct RedisCommand {
  std::vector<std::string> args;  // binary safe
  // The route: RedisClient::conn_for(key). Standalone: a connection of the pool; cluster: the
  // key's slot, sent to that slot's master.
  std::size_t conn = 0;
};

struct RedisStats {
  std::uint64_t round_trips = 0;  // call()s that waited for replies (one pipeline each)
  std::uint64_t commands = 0;     // commands sent (call() and send())
  std::uint64_t bytes_out = 0;    // argument bytes sent
  std::uint64_t failures = 0;     // call()s and send()s that failed (down, lost, timeout)
  std::uint64_t timeouts = 0;
  std::uint64_t write_failures = 0;  // send()s whose reply was an error or never came
  std::uint64_t connects = 0;        // handshakes completed
  std::uint64_t disconnects = 0;     // ready connections lost
  std::uint64_t redirects = 0;       // cluster: MOVED / ASK replies followed
  std::uint64_t ask_redirects = 0;   // cluster: of those, ASK (a slot migrating)
  std::uint64_t map_refreshes = 0;   // cluster: slot maps read
  std::uint64_t loop_calls = 0;      // async_call()s served on the caller's own io loop
  int connected = 0;                 // connections ready now
  int pool_size = 0;                 // connections (cluster: nodes known)
  int loops = 0;                     // io loops attached (attach_loops())
  int loops_ready = 0;               // of those, with every connection ready
  bool cluster = false;
};

class RedisConnection;
class RedisRouter;

class RedisClient {
 public:
  // Starts the Redis thread and begins connecting in the background; never waits for Redis
  // (wait_connected() does; the daemon's wiring waits once at start-up).
  [[nodiscard]] static Result<std::unique_ptr<RedisClient>> start(const RedisOptions& opts);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  std::size_t conn_for(std::string_view key) const;
  // One route to each server that holds keys, for SCAN: standalone {0}; cluster one slot of
  // each master in the current map.
  std::vector<std::size_t> scan_routes() const;

  // Sends the batch as one pipeline and waits for every reply (in the order of `cmds`).
  [[nodiscard]] Result<std::vector<RedisReply>> call(std::vector<RedisCommand> cmds);
  // call() without blocking: `done` runs exactly once, on the Redis thread within `timeout`, or
  // on the calling thread before this returns when a connection of the batch is down (fails at
  // once, as call() does) or the batch is empty. Counted as call() is (one round trip).
  using CallDone = std::function<void(Result<std::vector<RedisReply>>)>;
  void async_call(std::vector<RedisCommand> cmds, CallDone done);
  // async_call() that is not a round trip the caller waits for (a write whose reply matters
  // only to the writer: a background compare-and-set); not counted in round_trips.
  void async_write(std::vector<RedisCommand> cmds, CallDone done);
  // A failed background write, reported by the next barrier() and counted in write_failures.
  void report_write_failure(const std::string& why) { note_write_failure(why); }
  // Sends without waiting; fails at once only when a connection of the batch is down.
  [[nodiscard]] Result<void> send(std::vector<RedisCommand> cmds);
  // Waits until every earlier send() on every connection was answered; fails if one of them
  // failed since the last barrier() (then clears that).
  [[nodiscard]] Result<void> barrier();
  // Waits up to `limit` for every connection to be ready (cluster: a slot map that covers
  // every slot and every master connected) (tests, the CLI and start-up).
  bool wait_connected(Millis limit) const;
  // Gives each of `loops` (run by one thread each) connections of its own, started on that
  // loop; call once, before the loops run. detach_loops() (from any thread) sends later calls
  // back to the Redis thread and stops those connections once their replies are in (within
  // 2 x timeout), so that the loops can run out of work; the client must outlive the loops'
  // last handlers (destroy it after they have returned from run()).
  void attach_loops(const std::vector<boost::asio::io_context*>& loops);
  void detach_loops();
  // True on a thread that runs an attached loop (whose replies it must not block on).
  bool on_attached_loop() const;

  RedisStats stats() const;
  const RedisOptions& options() const { return opts_; }

  // Shared between the client and its connections (Redis thread writes, any thread reads).
  struct Counters {
    std::atomic<std::uint64_t> round_trips{0}, commands{0}, bytes_out{0}, failures{0}, timeouts{0},
        write_failures{0}, connects{0}, disconnects{0}, redirects{0}, ask_redirects{0},
        map_refreshes{0}, loop_calls{0};
  };

 private:
  struct Lane;  // one attached io loop and its connections
  struct AsyncCall;
  struct Deadlines;

  explicit RedisClient(const RedisOptions& opts);
  Result<void> check_ready(const std::vector<RedisCommand>& cmds);
  void start_call(std::vector<RedisCommand> cmds, CallDone done, bool waited);
  // On the thread of `lane` (nullptr: the Redis thread): sends the batch, arms its timer.
  void run_call(Lane* lane, const std::shared_ptr<AsyncCall>& call,
                const std::vector<RedisCommand>& cmds, bool waited);
  // The attached loop this thread runs, when its connections are ready; else nullptr.
  Lane* current_lane() const;
  // On the lane's thread (nullptr: the Redis thread): hands one command to its connection (or
  // the cluster router).
  void dispatch(Lane* lane, const RedisCommand& c, std::function<void(Result<RedisReply>)> done);
  // On the lane's thread (nullptr: the Redis thread): reads every reply its sockets hold.
  void drain(Lane* lane);
  // The same thread: the awaited calls' queue, its timer armed at the first live deadline, and
  // what the timer does: drain, then fail every call past its deadline.
  Deadlines& deadlines(Lane* lane);
  void arm_deadline(Lane* lane);
  void expire_calls(Lane* lane);
  void note_write_failure(const std::string& why);
  Result<void> ping_other_lanes();

  RedisOptions opts_;
  std::unique_ptr<boost::asio::io_context> ioc_;
  std::unique_ptr<Deadlines> deadlines_;                 // the Redis thread's awaited calls
  std::vector<std::unique_ptr<RedisConnection>> conns_;  // standalone
  std::unique_ptr<RedisRouter> router_;                  // cluster
  std::thread thread_;
  std::vector<std::unique_ptr<Lane>> lanes_;  // set once by attach_loops(), before they run
  mutable Counters counters_;
  std::mutex write_err_mu_;
  std::string write_err_;  // first failed send() since the last barrier()
};

// Batched sends: while a RedisWriteBatch lives on an attached loop's thread, the send()s made
// there (the stores' put and erase) are not written at once, one write each, but together by
// the loop's flush, which hiredis posts when the first of them is queued. Whoever then
// acknowledges those writes to a client lets the loop run first when deferred() says a send()
// was held back (co_await let_batched_writes_out(), io/store/async_reads.hpp: a post to its
// own executor): the flush, posted earlier, has then put them into Redis's socket, as a send()
// outside a batch is before its caller answers. Nests; does nothing on other threads.
class RedisWriteBatch {
 public:
  RedisWriteBatch();
  ~RedisWriteBatch();
  RedisWriteBatch(const RedisWriteBatch&) = delete;
  RedisWriteBatch& operator=(const RedisWriteBatch&) = delete;
  static bool active();         // on this thread
  static void note_deferred();  // a send() on this thread left its write to the loop's flush
  bool deferred() const;        // a send() was held back since this batch began

 private:
  std::uint64_t deferred_at_start_;
};

// A read of several keys in as few commands as there are routes: one MGET per route (a
// cluster route is a slot, so an MGET never crosses slots), a GET for a key alone on its route.
struct RedisReadPlan {
  std::vector<RedisCommand> cmds;
  std::vector<std::pair<std::size_t, std::size_t>> at;  // key i: (command, position within it)
};
// `keys` are the keys as stored in Redis (prefix included).
RedisReadPlan redis_read_plan(const RedisClient& client, std::vector<std::string> keys);
// Key i's reply within `replies` (one per command of the plan): a String, Nil or Error reply;
// nullptr when an MGET was answered with something else than an array of the right size.
const RedisReply* redis_read_reply(const RedisReadPlan& plan,
                                   const std::vector<RedisReply>& replies, std::size_t i);

// Escapes a key prefix for SCAN MATCH (glob): `*?[]\` get a backslash.
std::string redis_glob_escape(std::string_view prefix);

// One SCAN step on the server behind `route` (a scan_routes() entry): appends the keys it
// returns and answers the next cursor ("0": that server is done).
[[nodiscard]] Result<std::string> redis_scan_step(RedisClient& client, std::size_t route,
                                                  const std::string& cursor,
                                                  const std::string& pattern, std::size_t count,
                                                  std::vector<std::string>& keys);

// Every key under `prefix` (on every master of a cluster) with its value, after a barrier()
// (so earlier send()s are seen). A key is named to `fn` without its first `strip` bytes (the
// store's own prefix) and then through `unmap` when given (the store's stored form back to its
// own; nullopt skips the key); `fn` sees the names in ascending unsigned byte order and returns
// false to stop. Values are fetched in pipelined batches; keys deleted meanwhile are skipped.
using RedisScanFn = std::function<bool(std::string_view key, std::string_view value)>;
using RedisKeyMapFn = std::function<std::optional<std::string>(std::string_view stored)>;
[[nodiscard]] Result<void> redis_scan_prefix(RedisClient& client, std::size_t strip,
                                             std::string_view prefix, const RedisScanFn& fn,
                                             const RedisKeyMapFn& unmap = {});

}  // namespace gf::io
