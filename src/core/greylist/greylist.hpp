#pragma once
// The greylist state machine: one Postfix policy request in, one decision out.
//
// Flow of check(): not at RCPT -> DUNNO; bad client address -> DUNNO; client or recipient
// whitelisted (files or admin-added entries) -> DUNNO; client seen serving a fast-flux network
// (an infected host, as the injected flux-agent test says) -> always deferred, or rejected, as
// `flux_agents` says, however often it retries; client network auto-whitelisted, or
// (sender domain, client network) auto-whitelisted -> DUNNO; otherwise the triplet
// (client network, normalised sender, recipient) is looked up:
//   new, or seen less than `delay` ago        -> DEFER_IF_PERMIT (an early retry keeps the
//                                                 first-seen time: the clock is not restarted)
//   first seen longer than `retry_window` ago  -> counts as new again
//   first seen "in the future" (the wall clock went back while the record was kept: across a
//   restart, as the daemon's own time line never goes back) -> counts as new again, so the
//   delay starts now: it neither passes early nor waits the hour the clock went back
//   (a passed triplet stays passed and its last-seen time is brought back to now)
//   delay passed (or the same sender/recipient was first tried from another host of the same
//   provider, by verified client name and registrable domain, `delay` ago) -> first pass:
//   PREPEND X-Greylist on the first recipient of the message instance, DUNNO after that;
//   the auto-whitelist counters go up (at most once an hour per client network).
//   already passed                             -> DUNNO
// Every store error becomes the configured failure answer (DUNNO by default, or DEFER).
//
// Threading: check() may run on many threads at once. The policy and the admin whitelist
// entries are immutable snapshots swapped under a short lock; the message-instance set has its
// own lock; the store is thread-safe. Two concurrent first attempts of one triplet both record
// it (the later write wins, seconds apart at most), which changes no decision that matters.
// Time comes in as `now`.
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <variant>
#include <vector>

#include "core/common/ip.hpp"
#include "core/common/time.hpp"
#include "core/greylist/store.hpp"
#include "core/greylist/whitelist.hpp"
#include "core/policy/request.hpp"

namespace gf::greylist {

struct Settings {
  Seconds delay{300};
  Seconds retry_window{2 * 86400};
  Seconds max_age{35 * 86400};
  int ipv4_prefix = 24;
  int ipv6_prefix = 64;
  std::uint32_t auto_whitelist_after = 5;         // client network passes; 0 disables
  std::uint32_t domain_auto_whitelist_after = 2;  // distinct senders of a domain; 0 disables
  bool pooled_senders = true;
  std::string action = "DEFER_IF_PERMIT";
  // %s seconds still to wait, %r recipient domain.
  std::string text = "Greylisted, try again in %s seconds";
  // %t seconds delayed, %v version, %h host name, %d date.
  std::string header = "X-Greylist: delayed %t seconds by greyflux-%v at %h; %d";
  std::string hostname = "localhost";
  bool defer_on_store_failure = false;
  // Clients the fast-flux detector saw in the answers of a flux domain (infected hosts).
  enum class FluxAgents { Off, Defer, Reject };
  FluxAgents flux_agents = FluxAgents::Defer;
  // greylist.mode: where the milter greylists (core/milter/filter.hpp): every new triplet at
  // RCPT, only messages whose content score is in the suspicious band (at end of message), or
  // not at all. The policy server always greylists at RCPT and does not read it.
  enum class Mode { Always, Suspicious, Off };
  Mode mode = Mode::Always;
};

// "always" | "suspicious" | "off"; an error names greylist.mode.
[[nodiscard]] Result<Settings::Mode> parse_mode(std::string_view text);

// What the adapter needs besides Settings; reloadable as one immutable value.
struct Policy {
  Settings settings;
  ClientWhitelist clients;
  RecipientWhitelist recipients;
};

enum class Action { Dunno, Defer, Prepend, Reject };

enum class Reason {
  NotRcpt,
  BadClientAddress,
  ClientWhitelist,
  RecipientWhitelist,
  ClientAutoWhitelist,
  DomainAutoWhitelist,
  New,
  EarlyRetry,
  RetryWindowExpired,
  ClockWentBack,  // a waiting triplet first seen after `now`: its delay starts again
  Passed,
  PooledPassed,
  Known,
  FluxAgent,
  StoreFailure,  // keep last: counters are sized by it
};

const char* to_string(Action a);
const char* to_string(Reason r);
// The verdict a reason stands for on the dashboard and in /metrics: "defer" (new, early retry,
// retry window expired), "pass" (passed, pooled sender passed, known), "whitelisted" (client,
// recipient and auto-whitelists), "flux_agent", "store_failure", "dunno" (not RCPT, bad address).
const char* verdict_of(Reason r);

struct Decision {
  Action action = Action::Dunno;
  Reason reason = Reason::NotRcpt;
  std::string reply;         // the text after "action=" in the reply
  std::int64_t delay_s = 0;  // Defer: seconds still to wait; pass: seconds the mail was delayed
  std::string error;         // StoreFailure: what failed
};

// Returns the registrable domain of a host name ("mail-a.outbound.protection.outlook.com" ->
// "outlook.com"), or "" when it has none. Injected so the core needs no public suffix file.
using RegistrableDomainFn = std::function<std::string(std::string_view host)>;

// True when the fast-flux detector saw `ip` serving a flux name. Injected (the detector's index
// is swapped while the daemon runs); empty = no detector.
using FluxAgentFn = std::function<bool(const IpAddress& ip)>;

// Store key layout: one letter for the kind, ':' and fields joined by kKeySep.
inline constexpr char kKeySep = '\x1f';
namespace key {
std::string triplet(std::string_view net, std::string_view sender, std::string_view rcpt);
std::string client(std::string_view net);
std::string domain(std::string_view sender_domain, std::string_view net);
std::string sender(std::string_view sender, std::string_view net);
std::string pooled(std::string_view sender, std::string_view rcpt, std::string_view regdom);
std::string whitelist_client(std::string_view entry);
std::string whitelist_recipient(std::string_view entry);
}  // namespace key

// The last Unix second at which the record `rec` under `key` is kept; nullopt = for ever (admin
// whitelist entries). A store with native key expiry (Redis) expires the key just after it.
std::optional<std::int64_t> expires_at(std::string_view key, const Record& rec, const Settings& s);
// True when a stored record may be removed at `now` (expiry sweep): now is past expires_at().
bool is_expired(std::string_view key, const Record& rec, TimePoint now, const Settings& s);

class Greylist {
 public:
  Greylist(std::shared_ptr<const Policy> policy, Store& store, RegistrableDomainFn regdom);

  Decision check(const policy::Request& req, TimePoint now);

  // check() in two steps, for an adapter that reads the store without blocking its thread:
  // begin() decides what needs no store (not RCPT, whitelists, flux agents) or answers the keys
  // to read (`wanted`, in one Store::get_many() or get_many_async()); finish() decides with
  // what that read gave (an error: the store-failure answer) and writes through the store.
  // check() == begin() + get_many() + finish(). The Lookup keeps the policy snapshot of begin().
  struct Keys {
    std::string client, domain, triplet, sender, pooled;  // pooled: "" when not applicable
  };
  struct Lookup {
    std::shared_ptr<const Policy> policy;
    Keys keys;
    std::vector<std::string> wanted;
    bool domain_awl_on = false;
  };
  std::variant<Decision, Lookup> begin(const policy::Request& req);
  Decision finish(const policy::Request& req, const Lookup& look,
                  const Result<std::vector<std::optional<Record>>>& fetched, TimePoint now);
  // The client alone, before any envelope (a milter's connect step): client whitelists, then
  // the flux-agent rule as check() applies it. Dunno (NotRcpt) when neither says anything;
  // touches no store.
  Decision check_client(std::string_view client_address, std::string_view client_name);

  void set_policy(std::shared_ptr<const Policy> policy);
  // Call before check() runs on other threads (the daemon wires it at start-up).
  void set_flux_agents(FluxAgentFn is_agent) { flux_agent_ = std::move(is_agent); }
  std::shared_ptr<const Policy> policy() const;

  // Admin-added whitelist entries, kept in the store so they survive restarts.
  [[nodiscard]] Result<void> load_dynamic_whitelists();
  [[nodiscard]] Result<void> add_client_whitelist(std::string_view entry);
  [[nodiscard]] Result<bool> remove_client_whitelist(std::string_view entry);
  [[nodiscard]] Result<void> add_recipient_whitelist(std::string_view entry);
  [[nodiscard]] Result<bool> remove_recipient_whitelist(std::string_view entry);
  struct DynamicLists {
    ClientWhitelist clients;
    RecipientWhitelist recipients;
  };
  std::shared_ptr<const DynamicLists> dynamic_lists() const;

 private:
  Decision store_failure(const Settings& s, const Error& e) const;
  std::optional<Decision> flux_decision(const Settings& s, const IpAddress& ip,
                                        bool has_etrn_domain) const;
  Decision defer(const Settings& s, const policy::Request& req, Reason reason,
                 std::int64_t wait_s) const;
  Decision pass(const Settings& s, const policy::Request& req, Reason reason,
                std::int64_t delayed_s, TimePoint now);
  bool new_instance(const std::string& instance);
  // `rec` is the entry under `k` as the decision's one read found it.
  [[nodiscard]] Result<bool> auto_whitelisted(const std::string& k,
                                              const std::optional<Record>& rec, std::uint32_t after,
                                              TimePoint now);
  [[nodiscard]] Result<void> count_pass(const std::string& k, const std::optional<Record>& rec,
                                        TimePoint now, bool hourly);
  // Applies `edit` to a copy of the admin lists and publishes the copy.
  template <class Edit>
  void edit_dynamic(Edit edit);

  mutable std::mutex snap_mu_;  // guards policy_ and dyn_ (the pointers, not what they hold)
  std::shared_ptr<const Policy> policy_;
  std::shared_ptr<const DynamicLists> dyn_;
  std::mutex admin_mu_;  // serialises admin edits of the dynamic lists
  Store& store_;
  RegistrableDomainFn regdom_;
  FluxAgentFn flux_agent_;
  std::mutex inst_mu_;  // guards instance_order_ and instances_
  // The last message instances that got an X-Greylist header, so that a message with several
  // recipients gets one header (Postfix asks once per recipient).
  std::deque<std::string> instance_order_;
  std::unordered_set<std::string> instances_;
};

}  // namespace gf::greylist
