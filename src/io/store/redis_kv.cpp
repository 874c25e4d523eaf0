#include "io/store/redis_kv.hpp"

#include <fmt/format.h>

namespace gf::io {
namespace {

constexpr std::size_t kCacheLimit = 16384;
constexpr int kMaxCasAttempts = 64;

// KEYS[1]; ARGV[1] "1" = expect no value, "0" = expect ARGV[2]; ARGV[3] the new value.
// Answers {1} when written, else {0} (no value now) or {0, current}.
constexpr std::string_view kCasScript = R"lua(
local cur = redis.call('GET', KEYS[1])
local match
if ARGV[1] == '1' then match = (cur == false) else match = (cur == ARGV[2]) end
if match then
  redis.call('SET', KEYS[1], ARGV[3])
  return {1}
end
if cur == false then return {0} end
return {0, cur}
)lua";

Result<std::optional<std::string>> value_of(const RedisReply& r) {
  switch (r.type) {
    case RedisReply::Type::String:
      return std::optional<std::string>(r.str);
    case RedisReply::Type::Nil:
      return std::optional<std::string>();
    case RedisReply::Type::Error:
      return fail(Errc::StoreFailure, "redis: " + r.str);
    default:
      return fail(Errc::StoreFailure, "redis: unexpected reply to GET");
  }
}

}  // namespace

RedisKv::RedisKv(std::shared_ptr<RedisClient> client, std::string prefix)
    : client_(std::move(client)), prefix_(std::move(prefix)) {}

RedisCommand RedisKv::command(std::initializer_list<std::string_view> head, std::string_view key,
                              std::vector<std::string> tail) const {
  RedisCommand c;
  for (std::string_view h : head) {
    c.args.emplace_back(h);
  }
  std::string full = prefix_ + std::string(key);
  c.conn = client_->conn_for(full);
  c.args.push_back(std::move(full));
  for (std::string& t : tail) {
    c.args.push_back(std::move(t));
  }
  return c;
}

void RedisKv::set_expiry(std::string key_prefix, Seconds ttl) {
  expiry_.emplace_back(std::move(key_prefix), ttl);
}

Result<std::optional<std::string>> RedisKv::get(std::string_view key) {
  if (!key_fits(key)) {
    return std::optional<std::string>();
  }
  auto r = client_->call({command({"GET"}, key)});
  if (!r) {
    return tl::unexpected(r.error());
  }
  return value_of(r->front());
}

// The keys that fit (those that do not cannot be stored: nullopt without asking), as one
// MGET per route.
RedisKv::Read RedisKv::plan_read(const std::vector<std::string>& keys) const {
  Read read;
  read.n = keys.size();
  std::vector<std::string> stored;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (key_fits(keys[i])) {
      stored.push_back(prefix_ + keys[i]);
      read.asked.push_back(i);
    }
  }
  read.plan = redis_read_plan(*client_, std::move(stored));
  return read;
}

Result<std::vector<std::optional<std::string>>> RedisKv::values_of(
    const Read& read, const Result<std::vector<RedisReply>>& r) {
  if (!r) {
    return tl::unexpected(r.error());
  }
  std::vector<std::optional<std::string>> out(read.n);
  for (std::size_t j = 0; j < read.asked.size(); ++j) {
    const RedisReply* reply = redis_read_reply(read.plan, *r, j);
    if (reply == nullptr) {
      return fail(Errc::StoreFailure, "redis: unexpected reply to MGET");
    }
    auto v = value_of(*reply);
    if (!v) {
      return tl::unexpected(v.error());
    }
    out[read.asked[j]] = std::move(*v);
  }
  return out;
}

Result<std::vector<std::optional<std::string>>> RedisKv::get_many(
    const std::vector<std::string>& keys) {
  Read read = plan_read(keys);
  if (read.plan.cmds.empty()) {
    return std::vector<std::optional<std::string>>(keys.size());
  }
  return values_of(read, client_->call(read.plan.cmds));
}

void RedisKv::get_many_async(std::vector<std::string> keys, ManyFn done) {
  auto read = std::make_shared<Read>(plan_read(keys));
  if (read->plan.cmds.empty()) {
    done(std::vector<std::optional<std::string>>(keys.size()));
    return;
  }
  std::vector<RedisCommand> cmds = read->plan.cmds;
  client_->async_call(std::move(cmds),
                      [read, done = std::move(done)](Result<std::vector<RedisReply>> r) {
                        done(values_of(*read, r));
                      });
}

Result<void> RedisKv::put(std::string_view key, std::string value) {
  if (!key_fits(key)) {
    return fail(Errc::InvalidInput, "key must be 1 to 511 bytes");
  }
  RedisCommand c = command({"SET"}, key, {std::move(value)});
  for (const auto& [p, ttl] : expiry_) {
    if (key.starts_with(p)) {
      c.args.push_back("EX");
      c.args.push_back(std::to_string(std::max<std::int64_t>(1, ttl.count())));
      break;
    }
  }
  forget(c.args[1]);
  return client_->send({std::move(c)});
}

Result<void> RedisKv::erase(std::string_view key) {
  if (!key_fits(key)) {
    return fail(Errc::InvalidInput, "key must be 1 to 511 bytes");
  }
  RedisCommand c = command({"DEL"}, key);
  forget(c.args[1]);
  return client_->send({std::move(c)});
}

std::optional<std::optional<std::string>> RedisKv::cached(const std::string& full_key) {
  std::lock_guard lock(cache_mu_);
  auto it = cache_.find(full_key);
  if (it == cache_.end()) {
    return std::nullopt;
  }
  return it->second;
}

void RedisKv::remember(const std::string& full_key, std::optional<std::string> value) {
  std::lock_guard lock(cache_mu_);
  if (cache_.size() >= kCacheLimit && cache_.count(full_key) == 0) {
    cache_.clear();  // a cold guess costs one more round trip, nothing else
  }
  cache_[full_key] = std::move(value);
}

void RedisKv::forget(const std::string& full_key) {
  std::lock_guard lock(cache_mu_);
  cache_.erase(full_key);
}

RedisCommand RedisKv::cas(std::string_view key, const std::optional<std::string>& expected,
                          const std::string& next) const {
  return command({"EVAL", kCasScript, "1"}, key,
                 {expected ? "0" : "1", expected.value_or(""), next});
}

Result<void> RedisKv::update(std::string_view key, const UpdateFn& fn) {
  if (!key_fits(key)) {
    return fail(Errc::InvalidInput, "key must be 1 to 511 bytes");
  }
  const std::string full = prefix_ + std::string(key);
  std::optional<std::string> expected = cached(full).value_or(std::nullopt);
  for (int attempt = 0; attempt < kMaxCasAttempts; ++attempt) {
    std::optional<std::string_view> cur;
    if (expected) {
      cur = *expected;
    }
    std::string next = fn(cur);
    auto r = client_->call({cas(key, expected, next)});
    if (!r) {
      forget(full);
      return tl::unexpected(r.error());
    }
    const RedisReply& a = r->front();
    if (a.type != RedisReply::Type::Array || a.elements.empty()) {
      forget(full);
      return fail(Errc::StoreFailure,
                  "redis: compare-and-set failed" +
                      (a.type == RedisReply::Type::Error ? ": " + a.str : std::string()));
    }
    if (a.elements[0].integer == 1) {
      remember(full, std::move(next));
      return {};
    }
    // Someone else wrote it: retry with what Redis holds now.
    expected = a.elements.size() > 1 ? std::optional<std::string>(a.elements[1].str) : std::nullopt;
  }
  forget(full);
  return fail(Errc::StoreFailure, fmt::format("redis: update of a contended key gave up after {} "
                                              "attempts",
                                              kMaxCasAttempts));
}

Result<void> RedisKv::put_and_update(std::string_view put_key, std::string value,
                                     std::string_view update_key, const UpdateFn& fn) {
  if (!key_fits(put_key) || !key_fits(update_key)) {
    return fail(Errc::InvalidInput, "key must be 1 to 511 bytes");
  }
  if (auto ok = put(put_key, std::move(value)); !ok) {
    return ok;
  }
  return update(update_key, fn);
}

Result<void> RedisKv::scan(std::string_view prefix, const ScanFn& fn) {
  return redis_scan_prefix(*client_, prefix_.size(), prefix_ + std::string(prefix), fn);
}

Result<void> RedisKv::flush() { return client_->barrier(); }

}  // namespace gf::io
