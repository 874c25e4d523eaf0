#include "io/store/redis_client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <deque>

#include "core/common/check.hpp"
#include "core/common/redis_cluster.hpp"
#include "io/store/redis_connection.hpp"
#include "io/store/redis_router.hpp"

namespace gf::io {
namespace asio = boost::asio;

namespace {

// What call() waits on: one slot per command, filled on the Redis thread.
struct Waiter {
  std::mutex mu;
  std::condition_variable cv;
  std::size_t left = 0;
  std::vector<std::optional<Result<RedisReply>>> got;
};

}  // namespace

// One async_call() in flight; touched only on the thread of its loop (or the Redis thread).
struct RedisClient::AsyncCall {
  explicit AsyncCall(Lane* l) : lane(l) {}
  Lane* lane;  // whose connections carry it (nullptr: the Redis thread's)
  std::size_t left = 0;
  bool finished = false;
  std::vector<std::optional<Result<RedisReply>>> got;
  RedisClient::CallDone done;
};

// The awaited calls of one loop (or of the Redis thread), oldest first. Every call has the same
// timeout, so the front is the next to expire: one timer, armed at the front's deadline, stands
// for all of them (no timer per call); answered calls leave the queue when they reach its front.
struct RedisClient::Deadlines {
  explicit Deadlines(asio::io_context& ioc) : timer(ioc) {}
  asio::steady_timer timer;
  bool armed = false;
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::shared_ptr<AsyncCall>>> calls;
};

struct RedisClient::Lane {
  explicit Lane(asio::io_context& loop) : ioc(&loop), stop_timer(loop), deadlines(loop) {}
  asio::io_context* ioc;
  std::vector<std::unique_ptr<RedisConnection>> conns;  // standalone
  std::unique_ptr<RedisRouter> router;                  // cluster
  asio::steady_timer stop_timer;
  Deadlines deadlines;
  std::atomic<bool> live{true};
  bool ready() const {
    if (!live.load(std::memory_order_acquire)) {
      return false;
    }
    if (router) {
      return router->ready();
    }
    return std::all_of(conns.begin(), conns.end(), [](const auto& c) { return c->ready(); });
  }
};

RedisClient::RedisClient(const RedisOptions& opts)
    : opts_(opts),
      ioc_(std::make_unique<asio::io_context>(1)),
      deadlines_(std::make_unique<Deadlines>(*ioc_)) {}

Result<std::unique_ptr<RedisClient>> RedisClient::start(const RedisOptions& opts) {
  if (opts.pool_size < 1 || opts.pool_size > 64) {
    return fail(Errc::Config, "redis: pool size must be 1 to 64");
  }
  if (opts.timeout.count() <= 0 || opts.connect_timeout.count() <= 0) {
    return fail(Errc::Config, "redis: timeouts must be positive");
  }
  if (opts.cluster && (opts.url.kind != RedisUrl::Kind::Tcp || opts.url.db != 0)) {
    return fail(Errc::Config, "redis: a cluster is reached over TCP, with database 0");
  }
  if (opts.cluster && opts.cluster_refresh.count() <= 0) {
    return fail(Errc::Config, "redis: the cluster refresh interval must be positive");
  }
  std::unique_ptr<RedisClient> c(new RedisClient(opts));
  if (opts.cluster) {
    c->router_ = std::make_unique<RedisRouter>(*c->ioc_, c->opts_, c->counters_);
  } else {
    for (int i = 0; i < opts.pool_size; ++i) {
      c->conns_.push_back(std::make_unique<RedisConnection>(*c->ioc_, c->opts_, i, c->counters_));
    }
  }
  RedisClient* raw = c.get();
  asio::post(*c->ioc_, [raw] {
    if (raw->router_) {
      raw->router_->start();
    }
    for (auto& conn : raw->conns_) {
      conn->start();
    }
  });
  c->thread_ = std::thread([raw] {
    auto guard = asio::make_work_guard(*raw->ioc_);
    raw->ioc_->run();
  });
  return c;
}

namespace {
thread_local int t_write_batches = 0;
thread_local std::uint64_t t_deferred_sends = 0;
}  // namespace

RedisWriteBatch::RedisWriteBatch() : deferred_at_start_(t_deferred_sends) { ++t_write_batches; }
RedisWriteBatch::~RedisWriteBatch() { --t_write_batches; }
bool RedisWriteBatch::active() { return t_write_batches > 0; }
void RedisWriteBatch::note_deferred() { ++t_deferred_sends; }
bool RedisWriteBatch::deferred() const { return t_deferred_sends != deferred_at_start_; }

void RedisClient::attach_loops(const std::vector<asio::io_context*>& loops) {
  GF_CHECK(lanes_.empty(), "redis: attach_loops() once");
  for (asio::io_context* loop : loops) {
    auto lane = std::make_unique<Lane>(*loop);
    if (opts_.cluster) {
      lane->router = std::make_unique<RedisRouter>(*loop, opts_, counters_);
    } else {
      for (int i = 0; i < opts_.pool_size; ++i) {
        lane->conns.push_back(std::make_unique<RedisConnection>(*loop, opts_, i, counters_));
      }
    }
    Lane* raw = lane.get();
    asio::post(*loop, [raw] {
      if (raw->router) {
        raw->router->start();
      }
      for (auto& conn : raw->conns) {
        conn->start();
      }
    });
    lanes_.push_back(std::move(lane));
  }
}

namespace {

// Stops a detached loop's connections once no reply is awaited on them (a cluster router's at
// once), or at `deadline`; polled every 2 ms on the loop.
template <class Lane>
void stop_when_idle(Lane* lane, std::chrono::steady_clock::time_point deadline) {
  const bool idle =
      std::all_of(lane->conns.begin(), lane->conns.end(), [](const auto& c) { return c->idle(); });
  if (!idle && std::chrono::steady_clock::now() < deadline) {
    lane->stop_timer.expires_after(Millis(2));
    lane->stop_timer.async_wait([lane, deadline](boost::system::error_code ec) {
      if (!ec) {
        stop_when_idle(lane, deadline);
      }
    });
    return;
  }
  if (lane->router) {
    lane->router->stop();
  }
  for (auto& conn : lane->conns) {
    conn->stop();
  }
}

}  // namespace

void RedisClient::detach_loops() {
  const Millis grace = 2 * opts_.timeout;
  for (auto& lane : lanes_) {
    if (!lane->live.exchange(false)) {
      continue;
    }
    Lane* raw = lane.get();
    asio::post(*raw->ioc, [raw, grace] {
      // Replies still awaited get up to `grace` (each call's deadline answers it first).
      stop_when_idle(raw, std::chrono::steady_clock::now() + grace);
    });
  }
}

bool RedisClient::on_attached_loop() const {
  return std::any_of(lanes_.begin(), lanes_.end(), [](const auto& lane) {
    return lane->ioc->get_executor().running_in_this_thread();
  });
}

RedisClient::Lane* RedisClient::current_lane() const {
  for (const auto& lane : lanes_) {
    if (lane->ioc->get_executor().running_in_this_thread()) {
      return lane->ready() ? lane.get() : nullptr;
    }
  }
  return nullptr;
}

RedisClient::~RedisClient() {
  asio::post(*ioc_, [this] {
    if (router_) {
      router_->stop();
    }
    for (auto& conn : conns_) {
      conn->stop();  // waiting callers get "connection lost" now
    }
    ioc_->stop();
  });
  if (thread_.joinable()) {
    thread_.join();
  }
}

std::size_t RedisClient::conn_for(std::string_view key) const {
  if (router_) {
    return redis_key_slot(key);
  }
  return conns_.size() == 1 ? 0 : std::hash<std::string_view>{}(key) % conns_.size();
}

std::vector<std::size_t> RedisClient::scan_routes() const {
  if (!router_) {
    return {0};
  }
  const std::vector<std::uint16_t> slots = router_->master_slots();
  return std::vector<std::size_t>(slots.begin(), slots.end());
}

void RedisClient::dispatch(Lane* lane, const RedisCommand& c,
                           std::function<void(Result<RedisReply>)> done) {
  RedisRouter* router = lane != nullptr ? lane->router.get() : router_.get();
  if (router != nullptr) {
    router->submit(static_cast<std::uint16_t>(c.conn % kRedisSlots),
                   std::make_shared<const std::vector<std::string>>(c.args), std::move(done));
  } else {
    auto& conns = lane != nullptr ? lane->conns : conns_;
    conns[c.conn % conns.size()]->submit(c.args, std::move(done));
  }
}

void RedisClient::drain(Lane* lane) {
  RedisRouter* router = lane != nullptr ? lane->router.get() : router_.get();
  if (router != nullptr) {
    router->drain();
  }
  for (auto& conn : lane != nullptr ? lane->conns : conns_) {
    conn->drain();
  }
}

Result<void> RedisClient::check_ready(const std::vector<RedisCommand>& cmds) {
  if (router_) {
    return {};  // per slot, on the Redis thread: a command for a master that is down fails there
  }
  for (const RedisCommand& c : cmds) {
    if (c.conn >= conns_.size() || !conns_[c.conn]->ready()) {
      ++counters_.failures;
      return fail(Errc::StoreFailure, fmt::format("redis: not connected to {} (reconnecting)",
                                                  format_redis_url(opts_.url)));
    }
  }
  return {};
}

Result<std::vector<RedisReply>> RedisClient::call(std::vector<RedisCommand> cmds) {
  if (cmds.empty()) {
    return std::vector<RedisReply>{};
  }
  if (auto ok = check_ready(cmds); !ok) {
    return tl::unexpected(ok.error());
  }
  auto w = std::make_shared<Waiter>();
  w->left = cmds.size();
  w->got.resize(cmds.size());
  asio::post(*ioc_, [this, w, cmds = std::move(cmds)] {
    for (std::size_t i = 0; i < cmds.size(); ++i) {
      dispatch(nullptr, cmds[i], [w, i](Result<RedisReply> r) {
        std::lock_guard lock(w->mu);
        w->got[i] = std::move(r);
        if (--w->left == 0) {
          w->cv.notify_one();
        }
      });
    }
  });
  std::unique_lock lock(w->mu);
  if (!w->cv.wait_for(lock, opts_.timeout, [&] { return w->left == 0; })) {
    ++counters_.timeouts;
    ++counters_.failures;
    return fail(Errc::StoreFailure,
                fmt::format("redis: timeout after {}ms", opts_.timeout.count()));
  }
  ++counters_.round_trips;
  std::vector<RedisReply> out;
  out.reserve(w->got.size());
  for (auto& g : w->got) {
    if (!*g) {
      ++counters_.failures;
      return tl::unexpected(g->error());
    }
    out.push_back(std::move(**g));
  }
  return out;
}

void RedisClient::async_call(std::vector<RedisCommand> cmds, CallDone done) {
  start_call(std::move(cmds), std::move(done), true);
}

void RedisClient::async_write(std::vector<RedisCommand> cmds, CallDone done) {
  start_call(std::move(cmds), std::move(done), false);
}

void RedisClient::start_call(std::vector<RedisCommand> cmds, CallDone done, bool waited) {
  if (cmds.empty()) {
    done(std::vector<RedisReply>{});
    return;
  }
  if (Lane* lane = current_lane()) {  // this io thread's own connections: no hand-off
    ++counters_.loop_calls;
    auto call = std::make_shared<AsyncCall>(lane);
    call->done = std::move(done);
    run_call(lane, call, cmds, waited);
    return;
  }
  if (auto ok = check_ready(cmds); !ok) {
    done(tl::unexpected(ok.error()));
    return;
  }
  auto call = std::make_shared<AsyncCall>(nullptr);
  call->done = std::move(done);
  asio::post(*ioc_, [this, call, waited, cmds = std::move(cmds)] {
    run_call(nullptr, call, cmds, waited);
  });
}

void RedisClient::run_call(Lane* lane, const std::shared_ptr<AsyncCall>& call,
                           const std::vector<RedisCommand>& cmds, bool waited) {
  call->left = cmds.size();
  call->got.resize(cmds.size());
  if (waited) {  // a background write has no deadline: its connection's watchdog bounds it
    Deadlines& d = deadlines(lane);
    d.calls.emplace_back(std::chrono::steady_clock::now() + opts_.timeout, call);
    if (!d.armed) {
      arm_deadline(lane);
    }
  }
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    dispatch(lane, cmds[i], [this, call, i, waited](Result<RedisReply> r) {
      call->got[i] = std::move(r);
      if (--call->left != 0 || call->finished) {
        return;  // more to come, or the timer answered already
      }
      call->finished = true;
      // Out of the call, which may wait in its loop's deadline queue a while yet.
      const CallDone done = std::move(call->done);
      std::vector<std::optional<Result<RedisReply>>> got = std::move(call->got);
      std::vector<RedisReply> out;
      out.reserve(got.size());
      for (auto& g : got) {
        if (!*g) {
          ++counters_.failures;
          done(tl::unexpected(g->error()));
          return;
        }
        out.push_back(std::move(**g));
      }
      counters_.round_trips += waited ? 1 : 0;
      done(std::move(out));
    });
  }
}

RedisClient::Deadlines& RedisClient::deadlines(Lane* lane) {
  return lane != nullptr ? lane->deadlines : *deadlines_;
}

void RedisClient::arm_deadline(Lane* lane) {
  Deadlines& d = deadlines(lane);
  while (!d.calls.empty() && d.calls.front().second->finished) {
    d.calls.pop_front();
  }
  if (d.calls.empty()) {
    return;
  }
  d.armed = true;
  d.timer.expires_at(d.calls.front().first);
  d.timer.async_wait([this, lane](boost::system::error_code ec) {
    deadlines(lane).armed = false;
    if (!ec) {
      expire_calls(lane);
    }
  });
}

void RedisClient::expire_calls(Lane* lane) {
  Deadlines& d = deadlines(lane);
  const auto now = std::chrono::steady_clock::now();
  bool drained = false;
  while (!d.calls.empty()) {
    auto& [due, call] = d.calls.front();
    if (!call->finished && due > now) {
      break;
    }
    if (!call->finished && !drained) {
      drained = true;
      drain(lane);  // a busy loop may not have read a reply that is already here
      continue;     // (which may have answered this call and others)
    }
    std::shared_ptr<AsyncCall> late = std::move(call);
    d.calls.pop_front();
    if (late->finished) {
      continue;
    }
    late->finished = true;
    ++counters_.timeouts;
    ++counters_.failures;
    const CallDone done = std::move(late->done);
    done(fail(Errc::StoreFailure, fmt::format("redis: timeout after {}ms", opts_.timeout.count())));
  }
  if (!d.armed) {
    arm_deadline(lane);
  }
}

void RedisClient::note_write_failure(const std::string& why) {
  ++counters_.write_failures;
  std::lock_guard lock(write_err_mu_);
  if (write_err_.empty()) {
    write_err_ = why;
  }
}

Result<void> RedisClient::send(std::vector<RedisCommand> cmds) {
  if (cmds.empty()) {
    return {};
  }
  auto checked = [this](Result<RedisReply> r) {
    if (!r) {
      note_write_failure(r.error().message);
    } else if (r->type == RedisReply::Type::Error) {
      note_write_failure("redis: " + r->str);
    }
  };
  if (Lane* lane = current_lane()) {
    for (const RedisCommand& c : cmds) {
      dispatch(lane, c, checked);
    }
    if (RedisWriteBatch::active()) {
      RedisWriteBatch::note_deferred();  // the loop's flush writes it; the batch's owner waits
      return {};
    }
    if (lane->router) {
      lane->router->flush();
    }
    for (auto& conn : lane->conns) {
      conn->flush();  // in Redis's socket before the caller answers its client
    }
    return {};
  }
  if (auto ok = check_ready(cmds); !ok) {
    return ok;
  }
  asio::post(*ioc_, [this, checked, cmds = std::move(cmds)] {
    for (const RedisCommand& c : cmds) {
      dispatch(nullptr, c, checked);
    }
  });
  return {};
}

// Each other attached loop answers a PING on every connection (cluster: every master) after
// what it sent before; the caller's own loop cannot be waited for (its sends were flushed).
Result<void> RedisClient::ping_other_lanes() {
  struct Pings {
    std::mutex mu;
    std::condition_variable cv;
    std::size_t left = 0;
    std::string error;
  };
  auto p = std::make_shared<Pings>();
  std::vector<std::pair<Lane*, std::vector<RedisCommand>>> todo;
  for (const auto& lane : lanes_) {
    if (!lane->ready() || lane->ioc->get_executor().running_in_this_thread()) {
      continue;
    }
    std::vector<RedisCommand> pings;
    for (std::size_t i = 0; i < lane->conns.size(); ++i) {
      pings.push_back(RedisCommand{{"PING"}, i});
    }
    if (lane->router) {
      for (const std::uint16_t slot : lane->router->master_slots()) {
        pings.push_back(RedisCommand{{"PING"}, slot});
      }
    }
    p->left += pings.size();
    todo.emplace_back(lane.get(), std::move(pings));
  }
  if (p->left == 0) {
    return {};
  }
  for (auto& [lane, pings] : todo) {
    asio::post(*lane->ioc, [this, lane, p, pings = std::move(pings)] {
      for (const RedisCommand& c : pings) {
        dispatch(lane, c, [p](Result<RedisReply> r) {
          std::lock_guard lock(p->mu);
          if (!r && p->error.empty()) {
            p->error = r.error().message;
          }
          if (--p->left == 0) {
            p->cv.notify_one();
          }
        });
      }
    });
  }
  std::unique_lock lock(p->mu);
  if (!p->cv.wait_for(lock, opts_.timeout, [&] { return p->left == 0; })) {
    ++counters_.timeouts;
    ++counters_.failures;
    return fail(Errc::StoreFailure,
                fmt::format("redis: timeout after {}ms", opts_.timeout.count()));
  }
  if (!p->error.empty()) {
    ++counters_.failures;
    return fail(Errc::StoreFailure, p->error);
  }
  return {};
}

Result<void> RedisClient::barrier() {
  // One PING per connection (cluster: per master; replies on a connection come in order).
  std::vector<RedisCommand> pings;
  const std::size_t n = router_ ? 0 : conns_.size();
  for (std::size_t i = 0; i < n; ++i) {
    pings.push_back(RedisCommand{{"PING"}, i});
  }
  for (const std::size_t slot : router_ ? scan_routes() : std::vector<std::size_t>{}) {
    pings.push_back(RedisCommand{{"PING"}, slot});
  }
  auto r = call(std::move(pings));
  if (!r) {
    return tl::unexpected(r.error());
  }
  if (auto lanes = ping_other_lanes(); !lanes) {
    return lanes;
  }
  std::lock_guard lock(write_err_mu_);
  if (!write_err_.empty()) {
    std::string why = std::move(write_err_);
    write_err_.clear();
    return fail(Errc::StoreFailure, "redis: a buffered write failed: " + why);
  }
  return {};
}

bool RedisClient::wait_connected(Millis limit) const {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (true) {
    if (router_ ? router_->ready() : std::all_of(conns_.begin(), conns_.end(), [](const auto& c) {
          return c->ready();
        })) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= until) {
      return false;
    }
    std::this_thread::sleep_for(Millis(2));
  }
}

RedisStats RedisClient::stats() const {
  RedisStats s;
  s.round_trips = counters_.round_trips.load();
  s.commands = counters_.commands.load();
  s.bytes_out = counters_.bytes_out.load();
  s.failures = counters_.failures.load();
  s.timeouts = counters_.timeouts.load();
  s.write_failures = counters_.write_failures.load();
  s.connects = counters_.connects.load();
  s.disconnects = counters_.disconnects.load();
  s.redirects = counters_.redirects.load();
  s.ask_redirects = counters_.ask_redirects.load();
  s.map_refreshes = counters_.map_refreshes.load();
  s.loop_calls = counters_.loop_calls.load();
  s.cluster = router_ != nullptr;
  s.loops = static_cast<int>(lanes_.size());
  for (const auto& lane : lanes_) {
    s.loops_ready += lane->ready() ? 1 : 0;
  }
  if (router_) {
    s.pool_size = router_->nodes();
    s.connected = router_->connected();
    return s;
  }
  s.pool_size = static_cast<int>(conns_.size());
  for (const auto& c : conns_) {
    s.connected += c->ready() ? 1 : 0;
  }
  return s;
}

RedisReadPlan redis_read_plan(const RedisClient& client, std::vector<std::string> keys) {
  RedisReadPlan plan;
  plan.at.resize(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::size_t conn = client.conn_for(keys[i]);
    std::size_t c = 0;
    while (c < plan.cmds.size() && plan.cmds[c].conn != conn) {
      ++c;
    }
    if (c == plan.cmds.size()) {
      plan.cmds.push_back(RedisCommand{{"MGET"}, conn});
    }
    plan.at[i] = {c, plan.cmds[c].args.size() - 1};
    plan.cmds[c].args.push_back(std::move(keys[i]));
  }
  for (RedisCommand& c : plan.cmds) {
    if (c.args.size() == 2) {
      c.args[0] = "GET";
    }
  }
  return plan;
}

const RedisReply* redis_read_reply(const RedisReadPlan& plan,
                                   const std::vector<RedisReply>& replies, std::size_t i) {
  const auto [c, j] = plan.at[i];
  if (c >= replies.size()) {
    return nullptr;
  }
  const RedisReply& r = replies[c];
  if (plan.cmds[c].args.size() == 2) {
    return &r;  // a GET
  }
  if (r.type == RedisReply::Type::Array && j < r.elements.size()) {
    return &r.elements[j];
  }
  return r.type == RedisReply::Type::Error ? &r : nullptr;
}

std::string redis_glob_escape(std::string_view prefix) {
  std::string out;
  for (char c : prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

Result<std::string> redis_scan_step(RedisClient& client, std::size_t route,
                                    const std::string& cursor, const std::string& pattern,
                                    std::size_t count, std::vector<std::string>& keys) {
  auto r = client.call(
      {RedisCommand{{"SCAN", cursor, "MATCH", pattern, "COUNT", std::to_string(count)}, route}});
  if (!r) {
    return tl::unexpected(r.error());
  }
  const RedisReply& a = r->front();
  if (a.type != RedisReply::Type::Array || a.elements.size() != 2 ||
      a.elements[1].type != RedisReply::Type::Array) {
    return fail(Errc::StoreFailure, "redis: unexpected SCAN reply" +
                                        (a.type == RedisReply::Type::Error ? ": " + a.str : ""));
  }
  for (const RedisReply& k : a.elements[1].elements) {
    keys.push_back(k.str);
  }
  return a.elements[0].str;
}

namespace {

// (the key as the caller names it, the key in Redis), sorted by the first.
using KeyPairs = std::vector<std::pair<std::string, std::string>>;

Result<KeyPairs> scan_keys(RedisClient& client, std::size_t strip, std::string_view prefix,
                           const RedisKeyMapFn& unmap) {
  std::vector<std::string> keys;
  const std::string pattern = redis_glob_escape(prefix) + "*";
  for (const std::size_t route : client.scan_routes()) {
    std::string cursor = "0";
    do {
      auto next = redis_scan_step(client, route, cursor, pattern, 1000, keys);
      if (!next) {
        return tl::unexpected(next.error());
      }
      cursor = std::move(*next);
    } while (cursor != "0");
  }
  KeyPairs out;
  out.reserve(keys.size());
  for (std::string& k : keys) {
    const std::string_view own = std::string_view(k).substr(std::min(strip, k.size()));
    std::optional<std::string> name = unmap ? unmap(own) : std::optional<std::string>(own);
    if (name) {
      out.emplace_back(std::move(*name), std::move(k));
    }
  }
  // SCAN may return a key twice; std::string orders as unsigned bytes (char_traits<char>).
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

Result<void> redis_scan_prefix(RedisClient& client, std::size_t strip, std::string_view prefix,
                               const RedisScanFn& fn, const RedisKeyMapFn& unmap) {
  if (auto ok = client.barrier(); !ok) {
    return ok;
  }
  auto keys = scan_keys(client, strip, prefix, unmap);
  if (!keys) {
    return tl::unexpected(keys.error());
  }
  constexpr std::size_t kBatch = 256;
  for (std::size_t at = 0; at < keys->size(); at += kBatch) {
    const std::size_t end = std::min(keys->size(), at + kBatch);
    std::vector<RedisCommand> gets;
    for (std::size_t i = at; i < end; ++i) {
      const std::string& k = (*keys)[i].second;
      gets.push_back(RedisCommand{{"GET", k}, client.conn_for(k)});
    }
    auto vals = client.call(std::move(gets));
    if (!vals) {
      return tl::unexpected(vals.error());
    }
    for (std::size_t i = at; i < end; ++i) {
      const RedisReply& v = (*vals)[i - at];
      if (v.type != RedisReply::Type::String) {
        continue;  // deleted (or expired) since the SCAN
      }
      if (!fn((*keys)[i].first, v.str)) {
        return {};
      }
    }
  }
  return {};
}

}  // namespace gf::io
