#include "io/store/redis_router.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace gf::io {
namespace asio = boost::asio;

namespace {

constexpr auto kRefreshSpacing = std::chrono::milliseconds(50);

bool starts_with(const Result<RedisReply>& r, std::string_view word) {
  return r && r->type == RedisReply::Type::Error && std::string_view(r->str).starts_with(word);
}

}  // namespace

RedisRouter::RedisRouter(asio::io_context& ioc, const RedisOptions& opts,
                         RedisClient::Counters& counters)
    : ioc_(ioc),
      opts_(opts),
      counters_(counters),
      owner_(kRedisSlots, nullptr),
      periodic_(ioc),
      soon_(ioc) {}

RedisRouter::~RedisRouter() = default;

void RedisRouter::start() {
  node(RedisEndpoint{opts_.url.host, opts_.url.port});
  refresh();  // the seed is still connecting: refresh() retries on the periodic timer
  schedule_periodic();
}

void RedisRouter::stop() {
  stopping_ = true;
  periodic_.cancel();
  soon_.cancel();
  for (auto& n : nodes_) {
    n->conn->stop();
  }
  ready_ = false;
}

RedisRouter::Node& RedisRouter::node(const RedisEndpoint& at) {
  for (auto& n : nodes_) {
    if (n->at == at) {
      return *n;
    }
  }
  RedisUrl url = opts_.url;
  url.kind = RedisUrl::Kind::Tcp;
  url.host = at.host;
  url.port = at.port;
  auto n = std::make_unique<Node>();
  n->at = at;
  n->conn = std::make_unique<RedisConnection>(ioc_, opts_, static_cast<int>(nodes_.size()),
                                              counters_, url);
  n->conn->start();
  std::lock_guard lock(snap_mu_);  // connected() and nodes() read nodes_ from other threads
  nodes_.push_back(std::move(n));
  return *nodes_.back();
}

void RedisRouter::submit(std::uint16_t slot, std::shared_ptr<const std::vector<std::string>> args,
                         Done done) {
  Node* n = slot < owner_.size() ? owner_[slot] : nullptr;
  if (n == nullptr || !n->conn->ready()) {
    want_refresh();
    done(fail(Errc::StoreFailure,
              n == nullptr ? fmt::format("redis: cluster slot {} has no known master", slot)
                           : fmt::format("redis: not connected to cluster node {} (reconnecting)",
                                         format_endpoint(n->at))));
    return;
  }
  send(*n, slot, std::move(args), std::move(done), 0, false);
}

void RedisRouter::drain() {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {  // a reply may add a node (a redirect)
    nodes_[i]->conn->drain();
  }
}

void RedisRouter::flush() {
  for (const auto& n : nodes_) {
    n->conn->flush();
  }
}

void RedisRouter::send(Node& n, std::uint16_t slot,
                       std::shared_ptr<const std::vector<std::string>> args, Done done, int hops,
                       bool asking) {
  if (asking) {
    n.conn->submit({"ASKING"}, [](Result<RedisReply>) {});  // same connection: runs first
  }
  const auto& argv = *args;
  n.conn->submit(argv, [this, &n, slot, args = std::move(args), done = std::move(done),
                        hops](Result<RedisReply> r) mutable {
    on_reply(n, slot, std::move(args), std::move(done), hops, std::move(r));
  });
}

void RedisRouter::on_reply(Node& n, std::uint16_t slot,
                           std::shared_ptr<const std::vector<std::string>> args, Done done,
                           int hops, Result<RedisReply> r) {
  if (r && r->type == RedisReply::Type::Error && is_redis_redirect(r->str) && !stopping_) {
    auto to = parse_redis_redirect(r->str, n.at.host);
    if (to && hops < kMaxRedirects) {
      ++counters_.redirects;
      if (to->kind == RedisRedirect::Kind::Ask) {
        ++counters_.ask_redirects;
      }
      Node& next = node(to->to);
      if (to->kind == RedisRedirect::Kind::Moved) {
        owner_[to->slot] = &next;  // at once; the refresh brings the rest of the map
        want_refresh();
      }
      if (!next.conn->ready()) {
        done(fail(Errc::StoreFailure, fmt::format("redis: redirected to cluster node {}, not "
                                                  "connected yet",
                                                  format_endpoint(next.at))));
        return;
      }
      send(next, slot, std::move(args), std::move(done), hops + 1,
           to->kind == RedisRedirect::Kind::Ask);
      return;
    }
  }
  if (!r || starts_with(r, "CLUSTERDOWN") || starts_with(r, "TRYAGAIN") ||
      starts_with(r, "MOVED") || starts_with(r, "ASK")) {
    want_refresh();  // a lost node or a failover in progress: look again
  }
  done(std::move(r));
}

void RedisRouter::want_refresh() {
  if (stopping_ || refreshing_ || soon_armed_) {
    return;
  }
  const auto wait = last_refresh_ + kRefreshSpacing - Clock::now();
  if (wait <= Clock::duration::zero()) {
    refresh();
    return;
  }
  soon_armed_ = true;
  soon_.expires_after(wait);
  soon_.async_wait([this](boost::system::error_code ec) {
    soon_armed_ = false;
    if (!ec && !stopping_) {
      refresh();
    }
  });
}

void RedisRouter::refresh() {
  if (stopping_ || refreshing_ || nodes_.empty()) {
    return;
  }
  // Ask the next ready node in turn, so that one broken node does not keep the map stale.
  Node* asked = nullptr;
  for (std::size_t i = 0; i < nodes_.size() && asked == nullptr; ++i) {
    Node& n = *nodes_[(next_asked_ + i) % nodes_.size()];
    if (n.conn->ready()) {
      asked = &n;
    }
  }
  next_asked_ = (next_asked_ + 1) % nodes_.size();
  if (asked == nullptr) {
    return;  // nothing connected yet: the periodic timer (or the next want_refresh) retries
  }
  refreshing_ = true;
  last_refresh_ = Clock::now();
  const bool shards = !use_slots_;
  asked->conn->submit(
      {"CLUSTER", shards ? "SHARDS" : "SLOTS"},
      [this, asked, shards](Result<RedisReply> r) { on_map(*asked, shards, std::move(r)); });
}

void RedisRouter::on_map(const Node& asked, bool shards, Result<RedisReply> r) {
  refreshing_ = false;
  if (stopping_ || !r) {
    return;
  }
  if (shards && r->type == RedisReply::Type::Error &&
      std::string_view(r->str).find("SHARDS") != std::string_view::npos) {
    use_slots_ = true;  // "unknown subcommand 'SHARDS'": a Redis before 7.0
    refresh();
    return;
  }
  auto map =
      shards ? parse_cluster_shards(*r, asked.at.host) : parse_cluster_slots(*r, asked.at.host);
  if (!map) {
    if (map.error().message != last_map_error_) {  // once per distinct error, not per refresh
      spdlog::warn("redis: cluster node {}: {}", format_endpoint(asked.at), map.error().message);
      last_map_error_ = map.error().message;
    }
    return;
  }
  last_map_error_.clear();
  ++counters_.map_refreshes;
  apply(*map);
}

void RedisRouter::apply(const RedisSlotMap& map) {
  for (const RedisEndpoint& e : map.endpoints()) {
    node(e);  // connects the nodes we do not know yet, replicas included
  }
  std::vector<Node*> by_shard;
  std::vector<std::uint16_t> firsts;
  for (const RedisShard& s : map.shards) {
    by_shard.push_back(&node(s.master));
    firsts.push_back(s.ranges.empty() ? 0 : s.ranges.front().first);
  }
  for (std::size_t slot = 0; slot < kRedisSlots; ++slot) {
    const std::uint16_t o = map.owner[slot];
    owner_[slot] = o == kNoShard ? nullptr : by_shard[o];
  }
  {
    std::lock_guard lock(snap_mu_);
    master_slots_ = std::move(firsts);
  }
  update_ready();
}

void RedisRouter::update_ready() {
  bool ok = true;
  for (const Node* n : owner_) {
    if (n == nullptr || !n->conn->ready()) {
      ok = false;
      break;
    }
  }
  ready_.store(ok, std::memory_order_release);
}

void RedisRouter::schedule_periodic() {
  // Quick until the first map, every 200 ms while a master is unreachable, then every
  // cluster_refresh.
  update_ready();
  const bool mapped = !master_slots().empty();
  periodic_.expires_after(ready() ? opts_.cluster_refresh : mapped ? Millis(200) : Millis(20));
  periodic_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopping_) {
      return;
    }
    if (!ready() || Clock::now() - last_refresh_ >= opts_.cluster_refresh) {
      refresh();
    }
    schedule_periodic();
  });
}

std::vector<std::uint16_t> RedisRouter::master_slots() const {
  std::lock_guard lock(snap_mu_);
  return master_slots_;
}

int RedisRouter::connected() const {
  std::lock_guard lock(snap_mu_);
  int n = 0;
  for (const auto& node : nodes_) {
    n += node->conn->ready() ? 1 : 0;
  }
  return n;
}

int RedisRouter::nodes() const {
  std::lock_guard lock(snap_mu_);
  return static_cast<int>(nodes_.size());
}

}  // namespace gf::io
