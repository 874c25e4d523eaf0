#include "io/store/redis_flux.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

namespace gf::io {

SharedFluxStore::SharedFluxStore(std::shared_ptr<RedisClient> client, std::string prefix,
                                 flux::SharedLimits limits, std::size_t batch)
    : client_(std::move(client)),
      prefix_(std::move(prefix)),
      limits_(limits),
      batch_(std::max<std::size_t>(1, batch)) {}

Result<void> SharedFluxStore::load_script() {
  for (std::size_t route : client_->scan_routes()) {
    auto r = client_->call({RedisCommand{{"SCRIPT", "LOAD", flux::shared_update_script()}, route}});
    if (!r) {
      return tl::unexpected(r.error());
    }
    const RedisReply& x = r->front();
    if (x.type != RedisReply::Type::String || x.str.size() != 40) {
      return fail(Errc::StoreFailure, "redis: SCRIPT LOAD of the flux script failed: " + x.str);
    }
    sha_ = x.str;
  }
  return {};
}

Result<void> SharedFluxStore::publish_batch(const std::vector<flux::NameDelta>& deltas,
                                            std::size_t from, std::size_t to) {
  std::vector<RedisCommand> cmds;
  for (std::size_t i = from; i < to; ++i) {
    const flux::NameDelta& d = deltas[i];
    cmds.push_back(RedisCommand{flux::shared_update_command(prefix_, d, limits_, sha_),
                                client_->conn_for(flux::shared_key(prefix_, d.name, 's'))});
  }
  auto replies = client_->call(cmds);
  if (!replies) {
    return tl::unexpected(replies.error());
  }
  std::vector<RedisCommand> again;  // NOSCRIPT: this node lost the script (restart, failover)
  for (std::size_t i = 0; i < replies->size(); ++i) {
    const RedisReply& r = (*replies)[i];
    if (r.type != RedisReply::Type::Error) {
      continue;
    }
    if (r.str.starts_with("NOSCRIPT")) {
      ++stats_.noscript;
      again.push_back(RedisCommand{
          flux::shared_update_command(prefix_, deltas[from + i], limits_, ""), cmds[i].conn});
      continue;
    }
    return fail(Errc::StoreFailure,
                "redis: flux update of " + deltas[from + i].name + ": " + r.str);
  }
  if (again.empty()) {
    return {};
  }
  auto retried = client_->call(std::move(again));
  if (!retried) {
    return tl::unexpected(retried.error());
  }
  for (const RedisReply& r : *retried) {
    if (r.type == RedisReply::Type::Error) {
      return fail(Errc::StoreFailure, "redis: flux update: " + r.str);
    }
  }
  return {};
}

Result<void> SharedFluxStore::publish(const std::vector<flux::NameDelta>& deltas,
                                      std::size_t* done) {
  if (done != nullptr) {
    *done = 0;
  }
  if (deltas.empty()) {
    return {};
  }
  if (sha_.empty()) {
    if (auto l = load_script(); !l) {
      ++stats_.failures;
      return l;
    }
  }
  for (std::size_t from = 0; from < deltas.size(); from += batch_) {
    const std::size_t to = std::min(deltas.size(), from + batch_);
    if (auto r = publish_batch(deltas, from, to); !r) {
      ++stats_.failures;
      return r;
    }
    stats_.names_published += to - from;
    if (done != nullptr) {
      *done = to;
    }
  }
  return {};
}

Result<void> SharedFluxStore::flag(const std::vector<std::pair<std::string, std::uint32_t>>& names,
                                   std::uint32_t expire_before_s) {
  const std::string key = prefix_ + "flagged";
  const std::size_t conn = client_->conn_for(key);
  std::vector<RedisCommand> cmds;
  for (std::size_t from = 0; from < names.size(); from += 500) {
    std::vector<std::string> args = {"ZADD", key, "GT"};
    for (std::size_t i = from; i < names.size() && i < from + 500; ++i) {
      args.push_back(std::to_string(names[i].second));
      args.push_back(names[i].first);
    }
    cmds.push_back(RedisCommand{std::move(args), conn});
  }
  cmds.push_back(
      RedisCommand{{"ZREMRANGEBYSCORE", key, "-inf", "(" + std::to_string(expire_before_s)}, conn});
  auto replies = client_->call(std::move(cmds));
  if (!replies) {
    ++stats_.failures;
    return tl::unexpected(replies.error());
  }
  for (const RedisReply& r : *replies) {
    if (r.type == RedisReply::Type::Error) {
      ++stats_.failures;
      return fail(Errc::StoreFailure, "redis: flux flagged list: " + r.str);
    }
  }
  return {};
}

Result<std::vector<std::pair<std::string, std::uint32_t>>> SharedFluxStore::flagged_since(
    std::uint32_t since_s) {
  const std::string key = prefix_ + "flagged";
  auto replies = client_->call(
      {RedisCommand{{"ZRANGEBYSCORE", key, std::to_string(since_s), "+inf", "WITHSCORES"},
                    client_->conn_for(key)}});
  if (!replies) {
    ++stats_.failures;
    return tl::unexpected(replies.error());
  }
  const RedisReply& r = replies->front();
  if (r.type != RedisReply::Type::Array || r.elements.size() % 2 != 0) {
    ++stats_.failures;
    return fail(Errc::StoreFailure, "redis: flux flagged list: not name/score pairs");
  }
  std::vector<std::pair<std::string, std::uint32_t>> out;
  for (std::size_t i = 0; i < r.elements.size(); i += 2) {
    const std::string& score = r.elements[i + 1].str;
    out.emplace_back(r.elements[i].str,
                     static_cast<std::uint32_t>(std::strtoull(score.c_str(), nullptr, 10)));
  }
  return out;
}

Result<std::unordered_map<std::string, flux::SharedView>> SharedFluxStore::read(
    const std::vector<std::string>& names) {
  std::unordered_map<std::string, flux::SharedView> out;
  for (std::size_t from = 0; from < names.size(); from += batch_) {
    const std::size_t to = std::min(names.size(), from + batch_);
    std::vector<RedisCommand> cmds;
    for (std::size_t i = from; i < to; ++i) {
      const std::size_t conn = client_->conn_for(flux::shared_key(prefix_, names[i], 's'));
      for (auto& args : flux::shared_read_commands(prefix_, names[i])) {
        cmds.push_back(RedisCommand{std::move(args), conn});
      }
    }
    auto replies = client_->call(std::move(cmds));
    if (!replies) {
      ++stats_.failures;
      return tl::unexpected(replies.error());
    }
    for (std::size_t i = from; i < to; ++i) {
      const RedisReply* r = &(*replies)[4 * (i - from)];
      auto view = flux::shared_view(r[0], r[1], r[2], r[3]);
      if (!view) {
        ++stats_.failures;
        return fail(Errc::StoreFailure,
                    fmt::format("redis: flux state of {}: {}", names[i], view.error().message));
      }
      if (!view->empty()) {
        out.emplace(names[i], std::move(*view));
      }
    }
    stats_.names_read += to - from;
  }
  return out;
}

}  // namespace gf::io
