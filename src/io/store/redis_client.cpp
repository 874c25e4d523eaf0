#include "io/store/redis_client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>

#include "io/store/redis_connection.hpp"

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

RedisClient::RedisClient(const RedisOptions& opts)
    : opts_(opts), ioc_(std::make_unique<asio::io_context>(1)) {}

Result<std::unique_ptr<RedisClient>> RedisClient::start(const RedisOptions& opts) {
  if (opts.pool_size < 1 || opts.pool_size > 64) {
    return fail(Errc::Config, "redis: pool size must be 1 to 64");
  }
  if (opts.timeout.count() <= 0 || opts.connect_timeout.count() <= 0) {
    return fail(Errc::Config, "redis: timeouts must be positive");
  }
  std::unique_ptr<RedisClient> c(new RedisClient(opts));
  for (int i = 0; i < opts.pool_size; ++i) {
    c->conns_.push_back(std::make_unique<RedisConnection>(*c->ioc_, c->opts_, i, c->counters_));
  }
  RedisClient* raw = c.get();
  asio::post(*c->ioc_, [raw] {
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

RedisClient::~RedisClient() {
  asio::post(*ioc_, [this] {
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
  return conns_.size() == 1 ? 0 : std::hash<std::string_view>{}(key) % conns_.size();
}

Result<void> RedisClient::check_ready(const std::vector<RedisCommand>& cmds) {
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
      conns_[cmds[i].conn]->submit(cmds[i].args, [w, i](Result<RedisReply> r) {
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
  if (auto ok = check_ready(cmds); !ok) {
    return ok;
  }
  asio::post(*ioc_, [this, cmds = std::move(cmds)] {
    for (const RedisCommand& c : cmds) {
      conns_[c.conn]->submit(c.args, [this](Result<RedisReply> r) {
        if (!r) {
          note_write_failure(r.error().message);
        } else if (r->type == RedisReply::Type::Error) {
          note_write_failure("redis: " + r->str);
        }
      });
    }
  });
  return {};
}

Result<void> RedisClient::barrier() {
  std::vector<RedisCommand> pings;
  for (std::size_t i = 0; i < conns_.size(); ++i) {
    pings.push_back(RedisCommand{{"PING"}, i});
  }
  auto r = call(std::move(pings));
  if (!r) {
    return tl::unexpected(r.error());
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
    if (std::all_of(conns_.begin(), conns_.end(), [](const auto& c) { return c->ready(); })) {
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
  s.pool_size = static_cast<int>(conns_.size());
  for (const auto& c : conns_) {
    s.connected += c->ready() ? 1 : 0;
  }
  return s;
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

namespace {

Result<std::vector<std::string>> scan_keys(RedisClient& client, std::string_view prefix) {
  std::vector<std::string> keys;
  const std::string pattern = redis_glob_escape(prefix) + "*";
  std::string cursor = "0";
  do {
    auto r = client.call({RedisCommand{{"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}, 0}});
    if (!r) {
      return tl::unexpected(r.error());
    }
    const RedisReply& a = r->front();
    if (a.type != RedisReply::Type::Array || a.elements.size() != 2 ||
        a.elements[1].type != RedisReply::Type::Array) {
      return fail(Errc::StoreFailure, "redis: unexpected SCAN reply" +
                                          (a.type == RedisReply::Type::Error ? ": " + a.str : ""));
    }
    cursor = a.elements[0].str;
    for (const RedisReply& k : a.elements[1].elements) {
      keys.push_back(k.str);
    }
  } while (cursor != "0");
  // SCAN may return a key twice; std::string orders as unsigned bytes (char_traits<char>).
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

}  // namespace

Result<void> redis_scan_prefix(RedisClient& client, std::size_t strip, std::string_view prefix,
                               const RedisScanFn& fn) {
  if (auto ok = client.barrier(); !ok) {
    return ok;
  }
  auto keys = scan_keys(client, prefix);
  if (!keys) {
    return tl::unexpected(keys.error());
  }
  constexpr std::size_t kBatch = 256;
  for (std::size_t at = 0; at < keys->size(); at += kBatch) {
    const std::size_t end = std::min(keys->size(), at + kBatch);
    std::vector<RedisCommand> gets;
    for (std::size_t i = at; i < end; ++i) {
      gets.push_back(RedisCommand{{"GET", (*keys)[i]}, client.conn_for((*keys)[i])});
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
      if (!fn(std::string_view((*keys)[i]).substr(strip), v.str)) {
        return {};
      }
    }
  }
  return {};
}

}  // namespace gf::io
