#include "io/store/redis_kv.hpp"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "core/common/redis_cluster.hpp"

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

// A capped put (RedisKv::set_capped): KEYS[1] the key, KEYS[2] its bucket's index; ARGV[1]
// the value, ARGV[2] ttl (s), ARGV[3] the index score (µs), ARGV[4] the bucket's cap, ARGV[5]
// the index member (the key's rest), ARGV[6] the bucket's key prefix (KEYS[1] without the
// member), ARGV[7] the score below which entries are past the ttl. Every key it touches carries
// the bucket's hash tag: one slot. Compact: it is sent with every put.
constexpr std::string_view kCappedPutScript = R"lua(
local t,k=tonumber(ARGV[2]),KEYS[2]
redis.call('SET',KEYS[1],ARGV[1],'EX',t)
redis.call('ZADD',k,ARGV[3],ARGV[5])
redis.call('ZREMRANGEBYSCORE',k,'-inf','('..ARGV[7])
local o=redis.call('ZCARD',k)-tonumber(ARGV[4])
if o>0 then
for _,m in ipairs(redis.call('ZRANGE',k,0,o-1)) do redis.call('DEL',ARGV[6]..m) end
redis.call('ZREMRANGEBYRANK',k,0,o-1)
end
redis.call('PEXPIRE',k,t*1000)
)lua";

// The index score of a put: the wall clock in µs, strictly increasing in this process, so that
// this node's puts of one millisecond still trim oldest first (2^53 µs is in the year 2255).
std::int64_t next_score_us() {
  static std::atomic<std::int64_t> last{0};
  const std::int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  std::int64_t prev = last.load();
  std::int64_t next = 0;
  do {
    next = std::max(now, prev + 1);
  } while (!last.compare_exchange_weak(prev, next));
  return next;
}

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

struct RedisKv::Shared {
  explicit Shared(std::shared_ptr<RedisClient> c) : client(std::move(c)) {}
  std::shared_ptr<RedisClient> client;
  // The last value this node wrote or saw under each updated key: the CAS guess. Bounded.
  std::mutex cache_mu;
  std::unordered_map<std::string, std::optional<std::string>> cache;
  // Background updates per key: the functions not yet written; `busy` while a compare-and-set
  // of the key is out (or about to go): then a new function waits for the next one.
  struct Later {
    std::vector<UpdateFn> fns;
    bool busy = false;
  };
  std::mutex later_mu;
  std::condition_variable later_cv;  // notified when `later` empties
  std::unordered_map<std::string, Later> later;

  std::optional<std::optional<std::string>> cached(const std::string& full_key) {
    std::lock_guard lock(cache_mu);
    auto it = cache.find(full_key);
    if (it == cache.end()) {
      return std::nullopt;
    }
    return it->second;
  }
  void remember(const std::string& full_key, std::optional<std::string> value) {
    std::lock_guard lock(cache_mu);
    if (cache.size() >= kCacheLimit && cache.count(full_key) == 0) {
      cache.clear();  // a cold guess costs one more round trip, nothing else
    }
    cache[full_key] = std::move(value);
  }
  void forget(const std::string& full_key) {
    std::lock_guard lock(cache_mu);
    cache.erase(full_key);
  }
  void wait_key(const std::string& full_key) {
    if (client->on_attached_loop()) {
      return;  // the update's reply may be this very thread's to read: never wait for it here
    }
    std::unique_lock lock(later_mu);
    later_cv.wait_for(lock, kLaterWait, [&] { return later.count(full_key) == 0; });
  }
  bool wait_later(Millis limit) {
    std::unique_lock lock(later_mu);
    return later_cv.wait_for(lock, limit, [this] { return later.empty(); });
  }
};

RedisKv::RedisKv(std::shared_ptr<RedisClient> client, std::string prefix)
    : client_(std::move(client)),
      prefix_(std::move(prefix)),
      shared_(std::make_shared<Shared>(client_)) {}

RedisKv::~RedisKv() { shared_->wait_later(kLaterWait); }

std::string RedisKv::cap_tag(std::string_view rest) const {
  const std::size_t b = redis_crc16(rest) % kCapBuckets;
  return fmt::format("{{{}{:02}}}", cap_->prefix.substr(0, 1), b);
}

std::string RedisKv::cap_index(std::string_view tag) const {
  return prefix_ + cap_->prefix.substr(0, 1) + "i:" + std::string(tag);
}

std::string RedisKv::full_key(std::string_view key) const {
  if (cap_ && key.starts_with(cap_->prefix)) {
    const std::string_view rest = key.substr(cap_->prefix.size());
    return prefix_ + cap_->prefix + cap_tag(rest) + std::string(rest);
  }
  return prefix_ + std::string(key);
}

std::optional<std::string> RedisKv::unmap(std::string_view stored) const {
  if (!cap_) {
    return std::string(stored);
  }
  const std::string index = cap_->prefix.substr(0, 1) + "i:{";
  if (stored.starts_with(index)) {
    return std::nullopt;  // a bucket's index, not an entry
  }
  if (stored.starts_with(cap_->prefix)) {
    std::string_view rest = stored.substr(cap_->prefix.size());
    // "{c07}" (a key written before set_capped() keeps its plain name)
    if (rest.size() >= 5 && rest[0] == '{' && rest[4] == '}') {
      rest.remove_prefix(5);
    }
    return cap_->prefix + std::string(rest);
  }
  return std::string(stored);
}

void RedisKv::set_capped(std::string key_prefix, std::size_t max_entries, Seconds ttl) {
  const std::size_t per = (std::max<std::size_t>(max_entries, 1) + kCapBuckets - 1) / kCapBuckets;
  cap_ = Cap{std::move(key_prefix), per, ttl};
}

RedisCommand RedisKv::command(std::initializer_list<std::string_view> head, std::string_view key,
                              std::vector<std::string> tail) const {
  RedisCommand c;
  for (std::string_view h : head) {
    c.args.emplace_back(h);
  }
  std::string full = full_key(key);
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
  shared_->wait_key(full_key(key));  // this node's background update, if any
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
      stored.push_back(full_key(keys[i]));
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
  for (const RedisCommand& c : read.plan.cmds) {
    for (std::size_t i = 1; i < c.args.size(); ++i) {
      shared_->wait_key(c.args[i]);
    }
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
  if (cap_ && key.starts_with(cap_->prefix)) {
    const std::string_view rest = key.substr(cap_->prefix.size());
    const std::string tag = cap_tag(rest);
    std::string bucket = prefix_ + cap_->prefix + tag;
    std::string full = bucket + std::string(rest);  // full_key(key)
    const std::int64_t ttl_s = std::max<std::int64_t>(1, cap_->ttl.count());
    const std::int64_t score = next_score_us();
    RedisCommand c{
        {"EVAL", std::string(kCappedPutScript), "2", full, cap_index(tag), std::move(value),
         std::to_string(ttl_s), std::to_string(score), std::to_string(cap_->per_bucket),
         std::string(rest), std::move(bucket), std::to_string(score - ttl_s * 1000000)},
        client_->conn_for(full)};
    shared_->forget(full);
    return client_->send({std::move(c)});
  }
  RedisCommand c = command({"SET"}, key, {std::move(value)});
  for (const auto& [p, ttl] : expiry_) {
    if (key.starts_with(p)) {
      c.args.push_back("EX");
      c.args.push_back(std::to_string(std::max<std::int64_t>(1, ttl.count())));
      break;
    }
  }
  shared_->forget(c.args[1]);
  return client_->send({std::move(c)});
}

Result<void> RedisKv::erase(std::string_view key) {
  if (!key_fits(key)) {
    return fail(Errc::InvalidInput, "key must be 1 to 511 bytes");
  }
  RedisCommand c = command({"DEL"}, key);
  shared_->forget(c.args[1]);
  if (cap_ && key.starts_with(cap_->prefix)) {
    const std::string_view rest = key.substr(cap_->prefix.size());
    std::string index = cap_index(cap_tag(rest));
    const std::size_t conn = client_->conn_for(index);
    return client_->send(
        {std::move(c), RedisCommand{{"ZREM", std::move(index), std::string(rest)}, conn}});
  }
  return client_->send({std::move(c)});
}

RedisCommand RedisKv::cas(const RedisClient& client, const std::string& full_key,
                          const std::optional<std::string>& expected, const std::string& next) {
  return RedisCommand{{"EVAL", std::string(kCasScript), "1", full_key, expected ? "0" : "1",
                       expected.value_or(""), next},
                      client.conn_for(full_key)};
}

Result<void> RedisKv::update(std::string_view key, const UpdateFn& fn) {
  if (!key_fits(key)) {
    return fail(Errc::InvalidInput, "key must be 1 to 511 bytes");
  }
  const std::string full = full_key(key);
  std::optional<std::string> expected = shared_->cached(full).value_or(std::nullopt);
  for (int attempt = 0; attempt < kMaxCasAttempts; ++attempt) {
    std::optional<std::string_view> cur;
    if (expected) {
      cur = *expected;
    }
    std::string next = fn(cur);
    auto r = client_->call({cas(*client_, full, expected, next)});
    if (!r) {
      shared_->forget(full);
      return tl::unexpected(r.error());
    }
    const RedisReply& a = r->front();
    if (a.type != RedisReply::Type::Array || a.elements.empty()) {
      shared_->forget(full);
      return fail(Errc::StoreFailure,
                  "redis: compare-and-set failed" +
                      (a.type == RedisReply::Type::Error ? ": " + a.str : std::string()));
    }
    if (a.elements[0].integer == 1) {
      shared_->remember(full, std::move(next));
      return {};
    }
    // Someone else wrote it: retry with what Redis holds now.
    expected = a.elements.size() > 1 ? std::optional<std::string>(a.elements[1].str) : std::nullopt;
  }
  shared_->forget(full);
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

Result<void> RedisKv::put_and_update_later(std::string_view put_key, std::string value,
                                           std::string_view update_key, const UpdateFn& fn) {
  if (!key_fits(put_key) || !key_fits(update_key)) {
    return fail(Errc::InvalidInput, "key must be 1 to 511 bytes");
  }
  if (auto ok = put(put_key, std::move(value)); !ok) {
    return ok;
  }
  update_later(shared_, full_key(update_key), fn);
  return {};
}

void RedisKv::update_later(const std::shared_ptr<Shared>& sh, std::string full_key,
                           const UpdateFn& fn) {
  {
    std::lock_guard lock(sh->later_mu);
    Shared::Later& l = sh->later[full_key];
    l.fns.push_back(fn);
    if (l.busy) {
      return;  // folded into the next compare-and-set of this key
    }
    l.busy = true;
  }
  cas_later(sh, full_key, sh->cached(full_key).value_or(std::nullopt), 0);
}

// One compare-and-set of every update of `full_key` not yet written; its reply sends the next.
void RedisKv::cas_later(const std::shared_ptr<Shared>& sh, const std::string& full_key,
                        std::optional<std::string> expected, int attempt) {
  std::vector<UpdateFn> fns;
  {
    std::lock_guard lock(sh->later_mu);
    fns = sh->later[full_key].fns;
  }
  std::optional<std::string> folded = expected;
  for (const UpdateFn& f : fns) {
    std::optional<std::string_view> cur;
    if (folded) {
      cur = *folded;
    }
    folded = f(cur);
  }
  const std::string next = folded.value_or(std::string());
  // Written, given up or failed: the first `n` are done; the next batch goes out, if any.
  auto done_with = [sh, full_key](std::size_t n) -> bool {
    std::lock_guard lock(sh->later_mu);
    Shared::Later& l = sh->later[full_key];
    l.fns.erase(l.fns.begin(), l.fns.begin() + static_cast<std::ptrdiff_t>(n));
    if (l.fns.empty()) {
      sh->later.erase(full_key);
      sh->later_cv.notify_all();
      return false;
    }
    return true;
  };
  const std::size_t n = fns.size();
  sh->client->async_write(
      {cas(*sh->client, full_key, expected, next)},
      [sh, full_key, next, n, attempt, done_with](Result<std::vector<RedisReply>> r) {
        const RedisReply* a = r ? &r->front() : nullptr;
        if (a != nullptr && a->type == RedisReply::Type::Array && !a->elements.empty()) {
          if (a->elements[0].integer == 1) {
            sh->remember(full_key, next);
            if (done_with(n)) {
              cas_later(sh, full_key, next, 0);
            }
            return;
          }
          if (attempt + 1 < kMaxCasAttempts) {  // another node wrote it: again from its value
            cas_later(sh, full_key,
                      a->elements.size() > 1 ? std::optional<std::string>(a->elements[1].str)
                                             : std::nullopt,
                      attempt + 1);
            return;
          }
        }
        sh->forget(full_key);
        sh->client->report_write_failure(
            !r ? r.error().message
               : fmt::format("redis: background update of {:?} failed{}", full_key,
                             a != nullptr && a->type == RedisReply::Type::Error ? ": " + a->str
                                                                                : std::string()));
        if (done_with(n)) {
          cas_later(sh, full_key, std::nullopt, 0);
        }
      });
}

Result<void> RedisKv::scan(std::string_view prefix, const ScanFn& fn) {
  if (!cap_) {
    return redis_scan_prefix(*client_, prefix_.size(), prefix_ + std::string(prefix), fn);
  }
  // A capped key's name in Redis has its bucket's tag after the capped prefix: scan from what
  // both names share, and keep the keys whose store name has `prefix`.
  const std::string_view shared_part =
      prefix.size() > cap_->prefix.size() && prefix.starts_with(cap_->prefix)
          ? std::string_view(cap_->prefix)
          : prefix;
  return redis_scan_prefix(*client_, prefix_.size(), prefix_ + std::string(shared_part), fn,
                           [this, prefix](std::string_view stored) -> std::optional<std::string> {
                             auto name = unmap(stored);
                             if (!name || !name->starts_with(prefix)) {
                               return std::nullopt;
                             }
                             return name;
                           });
}

Result<void> RedisKv::flush() {
  if (!shared_->wait_later(kLaterWait)) {
    return fail(Errc::StoreFailure, "redis: background updates still unanswered");
  }
  return client_->barrier();
}

}  // namespace gf::io
