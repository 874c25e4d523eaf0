#include "app/engine.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "app/redis_wiring.hpp"
#include "app/settings.hpp"
#include "core/common/strings.hpp"
#include "core/common/time.hpp"
#include "core/greylist/memory_store.hpp"
#include "io/net/line_server.hpp"
#include "io/store/lmdb_store.hpp"
#include "io/store/redis_store.hpp"
#include "io/sys/wall_clock.hpp"

namespace gf::app {
namespace {

std::string iso_time(std::uint32_t s) { return format_iso8601_utc(from_unix(s)); }

std::string_view kind_name(char k) { return admin::kind_name(k); }

std::string fields_of(std::string_view key) {
  std::string out(key.size() > 2 ? key.substr(2) : std::string_view());
  for (char& c : out) {
    if (c == greylist::kKeySep) {
      c = '\t';
    }
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::open(const Values& v,
                                             std::shared_ptr<const greylist::Policy> policy) {
  std::unique_ptr<Engine> e(new Engine());
  e->expiry_settings_ = policy->settings;
  e->max_listed_rows_ = static_cast<std::size_t>(v.integer("admin.max_list_rows"));
  if (v.str("store.backend") == "memory") {
    e->store_ = std::make_unique<greylist::MemoryStore>();
  } else if (v.str("store.backend") == "redis") {
    auto opts = redis_options(v);
    auto client = opts ? shared_redis_client(*opts)
                       : Result<std::shared_ptr<io::RedisClient>>(tl::unexpected(opts.error()));
    if (!client) {
      return tl::unexpected(client.error());
    }
    // Native expiry: each write carries the record's expiry under the live settings.
    Engine* self = e.get();
    auto store = std::make_unique<io::RedisStore>(
        *client, redis_greylist_prefix(v), [self](std::string_view key, const greylist::Record& r) {
          std::lock_guard lock(self->settings_mu_);
          return greylist::expires_at(key, r, self->expiry_settings_);
        });
    e->redis_ = store.get();
    e->store_ = std::move(store);
  } else {
    io::LmdbOptions opts;
    opts.path = v.str("store.path");
    opts.map_size = v.size("store.map_size");
    opts.commit_interval = v.duration("store.commit_interval");
    opts.sync = v.boolean("store.sync");
    opts.journal = v.boolean("store.journal");
    Engine* self = e.get();
    auto store = io::LmdbStore::open(opts, [self](std::string_view key, const greylist::Record& r) {
      greylist::Settings s;
      {
        std::lock_guard lock(self->settings_mu_);
        s = self->expiry_settings_;
      }
      const TimePoint now = io::daemon_clock().now();
      return greylist::is_expired(key, r, now, s);
    });
    if (!store) {
      return tl::unexpected(store.error());
    }
    e->lmdb_ = store->get();
    e->store_ = std::move(*store);
  }
  e->psl_ = std::make_unique<io::PublicSuffixList>();
  io::PublicSuffixList* psl = e->psl_.get();
  e->greylist_ = std::make_unique<greylist::Greylist>(
      policy, *e->store_, [psl](std::string_view host) { return psl->registrable_domain(host); });
  if (auto ok = e->greylist_->load_dynamic_whitelists(); !ok) {
    return tl::unexpected(ok.error());
  }
  return e;
}

Engine::~Engine() {
  if (lmdb_ != nullptr) {
    lmdb_->set_expired_fn({});  // the callback points into this object
  }
  greylist_.reset();
  store_.reset();  // commits what is pending
}

greylist::Decision Engine::check(const policy::Request& req, TimePoint now) {
  greylist::Decision d = greylist_->check(req, now);  // thread-safe, no engine-wide lock
  count(d);
  return d;
}

std::variant<greylist::Decision, greylist::Greylist::Lookup> Engine::begin(
    const policy::Request& req) {
  return greylist_->begin(req);
}

greylist::Decision Engine::finish(
    const policy::Request& req, const greylist::Greylist::Lookup& look,
    const Result<std::vector<std::optional<greylist::Record>>>& fetched, TimePoint now) {
  greylist::Decision d = greylist_->finish(req, look, fetched, now);
  count(d);
  return d;
}

void Engine::count(const greylist::Decision& d) {
  counters_.requests.fetch_add(1, std::memory_order_relaxed);
  counters_.by_reason[static_cast<std::size_t>(d.reason)].fetch_add(1, std::memory_order_relaxed);
  if (d.reason == greylist::Reason::StoreFailure && d.action == greylist::Action::Dunno) {
    counters_.fail_open.fetch_add(1, std::memory_order_relaxed);
  }
}

greylist::Decision Engine::check_client(std::string_view address, std::string_view client_name) {
  return greylist_->check_client(address, client_name);
}

void Engine::set_flux_agents(greylist::FluxAgentFn is_agent) {
  greylist_->set_flux_agents(std::move(is_agent));
}

void Engine::set_policy(std::shared_ptr<const greylist::Policy> policy) {
  greylist_->set_policy(policy);
  std::lock_guard lock(settings_mu_);
  expiry_settings_ = policy->settings;
}

std::shared_ptr<const greylist::Policy> Engine::policy() { return greylist_->policy(); }

void Engine::expire_step(TimePoint now) {
  if (lmdb_ != nullptr || redis_ != nullptr) {
    return;  // LMDB sweeps in its writer thread; Redis expires keys by itself
  }
  greylist::Settings s;
  {
    std::lock_guard lock(settings_mu_);
    s = expiry_settings_;
  }
  auto swept = store_->expire_step(
      [&](std::string_view key, const greylist::Record& r) {
        return greylist::is_expired(key, r, now, s);
      },
      2000);
  if (!swept) {
    // Runs once a second at most (the daemon's expiry timer), so this log is bounded.
    spdlog::warn("store: expiry step failed: {}", swept.error().message);
  }
}

std::string Engine::admin(const admin::Command& cmd, const io::LineServerStats* policy_stats) {
  // The greylist and the store are thread-safe: admin commands run beside requests.
  switch (cmd.verb) {
    case admin::Verb::GreylistList:
    case admin::Verb::GreylistShow:
      return greylist_rows(cmd);
    case admin::Verb::GreylistDelete:
      return greylist_delete(cmd.pattern);
    case admin::Verb::WhitelistList:
      return whitelist_list();
    case admin::Verb::WhitelistAdd:
    case admin::Verb::WhitelistRemove:
      return whitelist_change(cmd);
    case admin::Verb::Stats:
      return stats(policy_stats);
  }
  return fmt::format("error: {}\n", admin::usage());
}

std::string Engine::greylist_rows(const admin::Command& cmd) {
  const bool list = cmd.verb == admin::Verb::GreylistList;
  const std::string& pattern = cmd.pattern;  // lower-cased by the parser
  std::string out = list ? "network\tsender\trecipient\tfirst_seen\tlast_seen\tstate\n"
              : "kind\tkey\tfirst_seen\tlast_seen\tcount\n";
  std::size_t rows = 0;
  auto ok = store_->scan(list ? "t:" : "", [&](std::string_view key, const greylist::Record& r) {
    if (!pattern.empty() && ascii_lower(key).find(pattern) == std::string::npos) {
      return true;
    }
    if (list) {
      out += fmt::format("{}\t{}\t{}\t{}\n", fields_of(key), iso_time(r.first_s),
                         iso_time(r.last_s), r.count > 0 ? "passed" : "waiting");
    } else {
      out += fmt::format("{}\t{}\t{}\t{}\t{}\n", kind_name(key[0]), fields_of(key),
                         iso_time(r.first_s), iso_time(r.last_s), r.count);
    }
    ++rows;
    return rows <= max_listed_rows_;  // one row past the cap tells a full listing from a cut one
  });
  if (!ok) {
    return "error: " + ok.error().message + "\n";
  }
  if (rows > max_listed_rows_) {  // drop the extra row; the status line says where it stopped
    out.erase(out.rfind('\n', out.size() - 2) + 1);
    return fmt::format("ok truncated {}\n", max_listed_rows_) + out;
  }
  return "ok\n" + out;
}

std::string Engine::greylist_delete(const std::string& pattern) {
  std::vector<std::string> doomed;
  auto ok = store_->scan("", [&](std::string_view key, const greylist::Record&) {
    if (key[0] != 'w' && ascii_lower(key).find(pattern) != std::string::npos) {
      doomed.emplace_back(key);
    }
    return true;
  });
  if (!ok) {
    return "error: " + ok.error().message + "\n";
  }
  for (const std::string& k : doomed) {
    if (auto erased = store_->erase(k); !erased) {
      return "error: " + erased.error().message + "\n";
    }
  }
  if (auto flushed = store_->flush(); !flushed) {
    return "error: " + flushed.error().message + "\n";
  }
  return fmt::format("ok\ndeleted {} entries\n", doomed.size());
}

std::vector<Engine::WhitelistEntry> Engine::whitelist_entries() {
  std::vector<WhitelistEntry> out;
  const auto pol = greylist_->policy();
  const auto dyn = greylist_->dynamic_lists();
  for (const auto& e : pol->clients.entries()) {
    out.push_back({"client", "file", e});
  }
  for (const auto& e : dyn->clients.entries()) {
    out.push_back({"client", "admin", e});
  }
  for (const auto& e : pol->recipients.entries()) {
    out.push_back({"recipient", "file", e});
  }
  for (const auto& e : dyn->recipients.entries()) {
    out.push_back({"recipient", "admin", e});
  }
  return out;
}

std::string Engine::whitelist_list() {
  std::string out = "ok\n";
  for (const WhitelistEntry& e : whitelist_entries()) {
    out += e.list + "\t" + e.source + "\t" + e.entry + "\n";
  }
  return out;
}

Result<bool> Engine::whitelist_apply(bool add, admin::ListKind list, std::string_view entry) {
  const bool client = list == admin::ListKind::Client;
  bool existed = true;
  if (add) {
    auto ok =
        client ? greylist_->add_client_whitelist(entry) : greylist_->add_recipient_whitelist(entry);
    if (!ok) {
      return tl::unexpected(ok.error());
    }
  } else {
    auto removed = client ? greylist_->remove_client_whitelist(entry)
                          : greylist_->remove_recipient_whitelist(entry);
    if (!removed) {
      return tl::unexpected(removed.error());
    }
    existed = *removed;
  }
  if (existed) {
    if (auto flushed = store_->flush(); !flushed) {
      return tl::unexpected(flushed.error());
    }
  }
  return existed;
}

std::string Engine::whitelist_change(const admin::Command& cmd) {
  const bool add = cmd.verb == admin::Verb::WhitelistAdd;
  const bool client = cmd.list == admin::ListKind::Client;
  const std::string& entry = cmd.entry;
  auto done = whitelist_apply(add, cmd.list, entry);
  if (!done) {
    return "error: " + done.error().message + "\n";
  }
  if (!*done) {
    return fmt::format("error: {} is not an admin whitelist entry\n", entry);
  }
  return fmt::format("ok\n{} {} {}\n", add ? "added" : "removed", client ? "client" : "recipient",
                     entry);
}

StoreHealth Engine::store_health(bool probe) {
  StoreHealth h;
  if (lmdb_ != nullptr) {
    h.backend = "lmdb";
    h.errors = lmdb_->stats().commit_failures;
  } else if (redis_ != nullptr) {
    h.backend = "redis";
    const io::RedisStats s = redis_->client().stats();
    h.errors = s.failures;
    if (s.connected == 0) {
      h.healthy = false;
      h.problem = "no Redis connection is ready";
      return h;
    }
  } else {
    h.backend = "memory";
  }
  if (probe) {
    // A whitelist key that is never written: a read that works proves the store answers.
    if (auto r = store_->get(std::string("w:") + greylist::kKeySep + "readyz-probe"); !r) {
      h.healthy = false;
      h.problem = r.error().message;
    }
  }
  return h;
}

Result<admin::GreylistPage> Engine::greylist_search(const admin::GreylistFilter& f) {
  return admin::search_greylist(*store_, f);
}

Result<bool> Engine::greylist_erase(std::string_view key) {
  if (!admin::is_greylist_key(key)) {
    return fail(Errc::InvalidInput,
                "not a greylist entry key (whitelist entries have their own route)");
  }
  auto erased = store_->erase(key);
  if (!erased) {
    return tl::unexpected(erased.error());
  }
  if (auto flushed = store_->flush(); !flushed) {
    return tl::unexpected(flushed.error());
  }
  return *erased;
}

std::string Engine::stats(const io::LineServerStats* ps) {
  std::string out = "ok\n";
  out += fmt::format("requests\t{}\n", counters_.requests.load());
  out += fmt::format("protocol_errors\t{}\n", counters_.protocol_errors.load());
  for (std::size_t i = 0; i < kReasonCount; ++i) {
    out += fmt::format("decisions.{}\t{}\n", greylist::to_string(static_cast<greylist::Reason>(i)),
                       counters_.by_reason[i].load());
  }
  if (ps != nullptr) {
    out += fmt::format("connections.active\t{}\n", ps->active.load());
    out += fmt::format("connections.accepted\t{}\n", ps->accepted.load());
    out += fmt::format("connections.refused\t{}\n", ps->refused.load());
    out += fmt::format("connections.closed_bad_input\t{}\n", ps->closed_bad_input.load());
    out += fmt::format("connections.closed_idle\t{}\n", ps->closed_idle.load());
  }
  if (lmdb_ != nullptr) {
    const io::StoreStats s = lmdb_->stats();
    out += fmt::format("store.entries\t{}\n", s.entries);
    out += fmt::format("store.bytes_used\t{}\n", s.map_used_bytes);
    out += fmt::format("store.commits\t{}\n", s.commits);
    out += fmt::format("store.commit_failures\t{}\n", s.commit_failures);
    out += fmt::format("store.writer_promotions\t{}\n", s.writer_promotions);
    out += fmt::format("store.records_written\t{}\n", s.records_written);
    out += fmt::format("store.records_retained\t{}\n", s.records_retained);
    out += fmt::format("store.expired\t{}\n", s.expired);
  }
  if (redis_ != nullptr) {
    out += redis_stats_lines(redis_->client().stats());
  }
  const io::WallClock::Stats clock = io::daemon_clock().stats();
  out += fmt::format("clock.steps\t{}\n", clock.steps);
  out += fmt::format("clock.offset_s\t{}\n", clock.offset_s);
  return out;
}

}  // namespace gf::app
