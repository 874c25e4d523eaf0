#pragma once
// The greylist engine as the wiring shares it: the state machine behind its lock, the store,
// and the counters that `greyflux stats` prints. Used by the daemon and, when no daemon is
// running, directly by the admin CLI.
#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/admin/command.hpp"
#include "core/admin/greylist_view.hpp"
#include "core/greylist/greylist.hpp"
#include "core/metrics/metrics.hpp"
#include "io/dns/psl.hpp"

namespace gf::io {
class LmdbStore;
class RedisStore;
struct LineServerStats;
}  // namespace gf::io

namespace gf::app {

class Values;

inline constexpr std::size_t kReasonCount =
    static_cast<std::size_t>(greylist::Reason::StoreFailure) + 1;

// Counted with relaxed atomics on the request path; read by `greyflux stats` and /metrics.
struct Counters {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> protocol_errors{0};
  std::array<std::atomic<std::uint64_t>, kReasonCount> by_reason{};
  // Store failures answered DUNNO (policy.on_store_failure = "dunno"): the mail went on unchecked.
  std::atomic<std::uint64_t> fail_open{0};
  // Policy requests, bytes parsed to reply formatted (PolicyDoor::on_frame).
  metrics::Histogram latency;
};

// The greylist store as /readyz and /api/v1/status see it.
struct StoreHealth {
  std::string backend;       // "lmdb", "redis", "memory"
  bool healthy = true;       // the probe read worked (and Redis has a ready connection)
  std::string problem;       // why not, when !healthy
  std::uint64_t errors = 0;  // LMDB commit failures, or Redis call failures, since start
};

class Engine {
 public:
  // Opens the configured store and builds the greylist; errors are startup errors.
  [[nodiscard]] static Result<std::unique_ptr<Engine>> open(
      const Values& v, std::shared_ptr<const greylist::Policy> policy);
  ~Engine();

  greylist::Decision check(const policy::Request& req, TimePoint now);
  // check() in two steps around a read that does not block (greylist::Greylist::begin/finish):
  // the policy door awaits store().get_many_async() between them when reads_async().
  std::variant<greylist::Decision, greylist::Greylist::Lookup> begin(const policy::Request& req);
  greylist::Decision finish(const policy::Request& req, const greylist::Greylist::Lookup& look,
                            const Result<std::vector<std::optional<greylist::Record>>>& fetched,
                            TimePoint now);
  // Counts a decision (check() and finish() do it; the policy door for what begin() decided).
  void count(const greylist::Decision& d);
  bool reads_async() const { return store_->reads_async(); }
  // The client alone (the milter's connect step): whitelists and the flux-agent rule.
  greylist::Decision check_client(std::string_view address, std::string_view client_name);
  void set_policy(std::shared_ptr<const greylist::Policy> policy);
  // The fast-flux detector's agent test (greylist.flux_agents); call before serving.
  void set_flux_agents(greylist::FluxAgentFn is_agent);
  std::shared_ptr<const greylist::Policy> policy();

  // Runs one parsed admin command (core/admin/command.hpp). The reply's first line is "ok" or
  // "error: ..."; `policy_stats` (may be null: no daemon) adds the connection counters to stats.
  std::string admin(const admin::Command& cmd, const io::LineServerStats* policy_stats);

  // The structured operations behind both the admin socket's text replies and the REST API
  // (app/admin_api.hpp), so the two cannot drift apart.
  struct WhitelistEntry {
    std::string list;    // "client" or "recipient"
    std::string source;  // "file" (greylist.*_whitelist files) or "admin" (added at run time)
    std::string entry;
  };
  [[nodiscard]] Result<admin::GreylistPage> greylist_search(const admin::GreylistFilter& f);
  // Removes one greylist entry by its store key; false when there was none. A whitelist key
  // is refused (InvalidInput).
  [[nodiscard]] Result<bool> greylist_erase(std::string_view key);
  [[nodiscard]] std::vector<WhitelistEntry> whitelist_entries();
  // Adds or removes an admin whitelist entry (stored, effective at once); for a remove, false
  // when it was not an admin entry. The entry's own syntax errors are InvalidInput.
  [[nodiscard]] Result<bool> whitelist_apply(bool add, admin::ListKind list,
                                             std::string_view entry);

  greylist::Store& store() { return *store_; }
  Counters& counters() { return counters_; }
  // `probe`: read one key through the store (a Redis round trip) to prove it usable.
  [[nodiscard]] StoreHealth store_health(bool probe);
  // For the memory backend: one incremental expiry step (LMDB runs its own in its writer).
  void expire_step(TimePoint now);

 private:
  Engine() = default;
  std::string greylist_rows(const admin::Command& cmd);
  std::string greylist_delete(const std::string& pattern);
  std::string whitelist_list();
  std::string whitelist_change(const admin::Command& cmd);
  std::string stats(const io::LineServerStats* policy_stats);

  std::unique_ptr<greylist::Store> store_;
  io::LmdbStore* lmdb_ = nullptr;    // the same object as store_ when the backend is LMDB
  io::RedisStore* redis_ = nullptr;  // the same object as store_ when the backend is Redis
  std::unique_ptr<io::PublicSuffixList> psl_;
  std::unique_ptr<greylist::Greylist> greylist_;
  // admin.max_list_rows: `greylist list` and `show` stop there (the reply is built in memory);
  // a cut listing's status line is "ok truncated N".
  std::size_t max_listed_rows_ = 100000;
  std::mutex settings_mu_;  // guards expiry_settings_, read by the store's writer thread
  greylist::Settings expiry_settings_;
  Counters counters_;
};

}  // namespace gf::app
