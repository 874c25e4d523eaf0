#pragma once
// RedisRouter: io::RedisClient's connections to a Redis Cluster (`[store] cluster = true`).
// Lives on the client's Redis thread; every method except the snapshots runs there.
//
// Flow: the router starts with one connection to the configured node (the seed) and asks it
// for the slot map (CLUSTER SHARDS; CLUSTER SLOTS on a Redis older than 7). It then keeps one
// RedisConnection per node of the map, masters and replicas (a replica promoted by a failover
// is connected already), and sends each command to the master of its key's slot
// (core/common/redis_cluster.hpp: redis_key_slot()). A MOVED reply re-points that slot at once
// and re-sends the command there; an ASK reply sends ASKING and the command to the named node
// for that command only; both count as redirects, at most kMaxRedirects per command. The map
// is re-read after a MOVED, when a slot has no reachable master, when a reply is CLUSTERDOWN or
// TRYAGAIN, and every `cluster_refresh` (at most one refresh in flight, at most one per 50 ms;
// every 200 ms while a master is unreachable).
//
// Error contract: `done` of submit() runs exactly once: with the reply (an error reply other
// than a redirect is passed on for the caller to judge), or a StoreFailure when the slot has no
// reachable master or the connection is lost. Nothing waits here: a command whose master is
// down fails at once, so the policy server's fail-open answer comes without delay.
#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/common/redis_cluster.hpp"
#include "io/store/redis_connection.hpp"

namespace gf::io {

class RedisRouter {
 public:
  using Done = RedisConnection::Done;
  static constexpr int kMaxRedirects = 5;

  RedisRouter(boost::asio::io_context& ioc, const RedisOptions& opts,
              RedisClient::Counters& counters);
  ~RedisRouter();

  void start();
  void stop();
  void submit(std::uint16_t slot, std::shared_ptr<const std::vector<std::string>> args, Done done);
  // Every node's RedisConnection::drain() / flush().
  void drain();
  void flush();

  // Snapshots, safe from any thread.
  // One slot of each master of the current map (a route that reaches that master), in shard
  // order; empty before the first map.
  std::vector<std::uint16_t> master_slots() const;
  // The map covers every slot and every master's connection is ready.
  bool ready() const { return ready_.load(std::memory_order_acquire); }
  int connected() const;
  int nodes() const;

 private:
  struct Node {
    RedisEndpoint at;
    std::unique_ptr<RedisConnection> conn;
  };
  using Clock = std::chrono::steady_clock;

  Node& node(const RedisEndpoint& at);
  void send(Node& n, std::uint16_t slot, std::shared_ptr<const std::vector<std::string>> args,
            Done done, int hops, bool asking);
  void on_reply(Node& n, std::uint16_t slot, std::shared_ptr<const std::vector<std::string>> args,
                Done done, int hops, Result<RedisReply> r);
  void want_refresh();
  void refresh();
  void on_map(const Node& asked, bool shards, Result<RedisReply> r);
  void apply(const RedisSlotMap& map);
  void update_ready();
  void schedule_periodic();

  boost::asio::io_context& ioc_;
  const RedisOptions& opts_;
  RedisClient::Counters& counters_;
  std::vector<std::unique_ptr<Node>> nodes_;  // grows only: Node addresses stay valid
  std::vector<Node*> owner_;                  // per slot: its master, or nullptr
  bool use_slots_ = false;                    // CLUSTER SHARDS is unknown here
  bool refreshing_ = false;
  bool stopping_ = false;
  std::size_t next_asked_ = 0;  // rotates the node asked for the map
  std::string last_map_error_;  // the last unusable map reply, logged once
  Clock::time_point last_refresh_{};
  boost::asio::steady_timer periodic_;
  boost::asio::steady_timer soon_;  // a refresh wanted within the 50 ms spacing
  bool soon_armed_ = false;
  std::atomic<bool> ready_{false};
  mutable std::mutex snap_mu_;  // guards master_slots_, and nodes_ against the Redis thread's
                                // push_back (which alone writes it and reads it unlocked)
  std::vector<std::uint16_t> master_slots_;
};

}  // namespace gf::io
