#include "io/store/redis_store.hpp"

#include <fmt/format.h>

#include "core/greylist/slot_tag.hpp"

namespace gf::io {
namespace {

using greylist::Record;

Result<std::optional<Record>> record_of(const RedisReply& r, std::string_view key) {
  if (r.type == RedisReply::Type::Nil) {
    return std::optional<Record>();
  }
  if (r.type == RedisReply::Type::Error) {
    return fail(Errc::StoreFailure, "redis: " + r.str);
  }
  auto rec = greylist::decode_record(r.str);
  if (r.type != RedisReply::Type::String || !rec) {
    return fail(Errc::StoreFailure, fmt::format("redis: the value under {:?} is not a greylist "
                                                "record",
                                                std::string(key)));
  }
  return std::optional<Record>(*rec);
}

}  // namespace

std::string RedisStore::full(std::string_view key) const {
  return prefix_ + greylist::key::with_slot_tag(key);
}

RedisStore::RedisStore(std::shared_ptr<RedisClient> client, std::string prefix, ExpiryFn expiry)
    : client_(std::move(client)), prefix_(std::move(prefix)), expiry_(std::move(expiry)) {}

Result<std::optional<Record>> RedisStore::get(std::string_view key) {
  const std::string k = full(key);
  auto r = client_->call({RedisCommand{{"GET", k}, client_->conn_for(k)}});
  if (!r) {
    return tl::unexpected(r.error());
  }
  return record_of(r->front(), key);
}

RedisReadPlan RedisStore::plan_reads(const std::vector<std::string>& keys) const {
  std::vector<std::string> stored;
  stored.reserve(keys.size());
  for (const std::string& key : keys) {
    stored.push_back(full(key));
  }
  return redis_read_plan(*client_, std::move(stored));
}

Result<std::vector<std::optional<Record>>> RedisStore::records_of(
    const RedisReadPlan& plan, const std::vector<std::string>& keys,
    const Result<std::vector<RedisReply>>& r) {
  if (!r) {
    return tl::unexpected(r.error());
  }
  std::vector<std::optional<Record>> out;
  out.reserve(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const RedisReply* reply = redis_read_reply(plan, *r, i);
    if (reply == nullptr) {
      return fail(Errc::StoreFailure, "redis: unexpected reply to MGET");
    }
    auto rec = record_of(*reply, keys[i]);
    if (!rec) {
      return tl::unexpected(rec.error());
    }
    out.push_back(*rec);
  }
  return out;
}

Result<std::vector<std::optional<Record>>> RedisStore::get_many(
    const std::vector<std::string>& keys) {
  RedisReadPlan plan = plan_reads(keys);
  auto r = client_->call(plan.cmds);
  return records_of(plan, keys, r);
}

void RedisStore::get_many_async(std::vector<std::string> keys, ManyFn done) {
  auto plan = std::make_shared<RedisReadPlan>(plan_reads(keys));
  std::vector<RedisCommand> cmds = plan->cmds;
  client_->async_call(std::move(cmds),
                      [plan, keys = std::move(keys), done = std::move(done)](
                          Result<std::vector<RedisReply>> r) { done(records_of(*plan, keys, r)); });
}

Result<void> RedisStore::put(std::string_view key, const Record& rec) {
  std::string k = full(key);
  const std::size_t conn = client_->conn_for(k);
  RedisCommand c{{"SET", std::move(k), greylist::encode_record(rec)}, conn};
  if (expiry_) {
    if (const std::optional<std::int64_t> until = expiry_(key, rec)) {
      // Kept through `until`; an expiry already past deletes the key, as a sweep would.
      c.args.push_back("EXAT");
      c.args.push_back(std::to_string(std::max<std::int64_t>(1, *until + 1)));
    }
  }
  return client_->send({std::move(c)});
}

Result<bool> RedisStore::erase(std::string_view key) {
  const std::string k = full(key);
  auto r = client_->call({RedisCommand{{"DEL", k}, client_->conn_for(k)}});
  if (!r) {
    return tl::unexpected(r.error());
  }
  if (r->front().type != RedisReply::Type::Integer) {
    return fail(Errc::StoreFailure, "redis: unexpected reply to DEL " + r->front().str);
  }
  return r->front().integer > 0;
}

Result<void> RedisStore::scan(std::string_view prefix, const greylist::ScanFn& fn) {
  Result<void> bad;
  auto unmap = [prefix](std::string_view stored) -> std::optional<std::string> {
    auto key = greylist::key::without_slot_tag(stored);
    return key && key->starts_with(prefix) ? key : std::nullopt;
  };
  auto ok = redis_scan_prefix(
      *client_, prefix_.size(), prefix_ + greylist::key::stored_scan_prefix(prefix),
      [&](std::string_view key, std::string_view value) {
        auto rec = greylist::decode_record(value);
        if (!rec) {
          bad = fail(Errc::StoreFailure,
                     "redis: a value under the greylist prefix is not a "
                     "record");
          return false;
        }
        return fn(key, *rec);
      },
      unmap);
  if (!ok) {
    return ok;
  }
  return bad;
}

Result<void> RedisStore::flush() { return client_->barrier(); }

Result<std::size_t> RedisStore::expire_step(const ExpiredFn& expired, std::size_t budget) {
  std::lock_guard lock(expire_mu_);
  if (auto ok = client_->barrier(); !ok) {
    return tl::unexpected(ok.error());
  }
  // One SCAN step on one server; the cursor walks the servers (cluster masters) in turn.
  const std::vector<std::size_t> routes = client_->scan_routes();
  if (routes.empty()) {
    return fail(Errc::StoreFailure, "redis: no cluster slot map yet");
  }
  expire_route_ %= routes.size();
  std::vector<std::string> keys;
  auto next =
      redis_scan_step(*client_, routes[expire_route_], expire_cursor_,
                      redis_glob_escape(prefix_) + "*", std::max<std::size_t>(budget, 1), keys);
  if (!next) {
    return tl::unexpected(next.error());
  }
  expire_cursor_ = *next;
  if (expire_cursor_ == "0") {
    expire_route_ = (expire_route_ + 1) % routes.size();
  }
  std::vector<RedisCommand> gets;
  for (const std::string& k : keys) {
    gets.push_back(RedisCommand{{"GET", k}, client_->conn_for(k)});
  }
  auto vals = client_->call(gets);
  if (!vals) {
    return tl::unexpected(vals.error());
  }
  std::vector<RedisCommand> dels;
  for (std::size_t i = 0; i < gets.size() && dels.size() < budget; ++i) {
    const std::string& k = gets[i].args[1];
    auto rec = greylist::decode_record((*vals)[i].str);
    auto key = greylist::key::without_slot_tag(std::string_view(k).substr(prefix_.size()));
    if ((*vals)[i].type == RedisReply::Type::String && rec && key && expired(*key, *rec)) {
      dels.push_back(RedisCommand{{"DEL", k}, gets[i].conn});
    }
  }
  auto gone = client_->call(std::move(dels));
  if (!gone) {
    return tl::unexpected(gone.error());
  }
  std::size_t removed = 0;
  for (const RedisReply& g : *gone) {
    removed += g.type == RedisReply::Type::Integer && g.integer > 0 ? 1 : 0;
  }
  return removed;
}

}  // namespace gf::io
