#include "core/greylist/greylist.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/common/ip.hpp"
#include "core/common/strings.hpp"
#include "core/greylist/sender.hpp"
#include "gf_version.hpp"

namespace gf::greylist {
namespace {

constexpr std::size_t kMaxInstances = 4096;
constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kRefreshLastAfter = 60;  // seconds between last-seen updates
// LMDB takes keys up to 511 bytes; longer addresses are folded into a hash.
constexpr std::size_t kMaxKeyBytes = 400;

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

std::string make_key(char kind, std::initializer_list<std::string_view> fields) {
  std::size_t size = 2 + fields.size();  // kind, the colon, the separators (and one spare)
  for (std::string_view f : fields) {
    size += f.size();
  }
  std::string k;
  k.reserve(size);  // one allocation: this runs several times for every request
  k += kind;
  k += ':';
  bool first = true;
  for (std::string_view f : fields) {
    if (!first) {
      k += kKeySep;
    }
    first = false;
    k.append(f);
  }
  if (k.size() > kMaxKeyBytes) {
    const std::uint64_t h = fnv1a(k);
    k.resize(kMaxKeyBytes - 17);
    k += fmt::format("#{:016x}", h);
  }
  return k;
}

std::uint32_t secs(TimePoint t) {
  return static_cast<std::uint32_t>(std::max<std::int64_t>(0, to_unix(t)));
}

void replace_all(std::string& s, std::string_view what, std::string_view with) {
  std::size_t pos = 0;
  while ((pos = s.find(what, pos)) != std::string::npos) {
    s.replace(pos, what.size(), with);
    pos += with.size();
  }
}

}  // namespace

const char* to_string(Action a) {
  switch (a) {
    case Action::Dunno:
      return "pass";
    case Action::Defer:
      return "greylist";
    case Action::Prepend:
      return "pass";
    case Action::Reject:
      return "reject";
  }
  return "?";
}

Result<Settings::Mode> parse_mode(std::string_view text) {
  if (text == "always") {
    return Settings::Mode::Always;
  }
  if (text == "suspicious") {
    return Settings::Mode::Suspicious;
  }
  if (text == "off") {
    return Settings::Mode::Off;
  }
  return fail(Errc::Config, "greylist.mode: must be \"always\", \"suspicious\" or \"off\"");
}

const char* verdict_of(Reason r) {
  switch (r) {
    case Reason::New:
    case Reason::EarlyRetry:
    case Reason::RetryWindowExpired:
    case Reason::ClockWentBack:
      return "defer";
    case Reason::Passed:
    case Reason::PooledPassed:
    case Reason::Known:
      return "pass";
    case Reason::ClientWhitelist:
    case Reason::RecipientWhitelist:
    case Reason::ClientAutoWhitelist:
    case Reason::DomainAutoWhitelist:
      return "whitelisted";
    case Reason::FluxAgent:
      return "flux_agent";
    case Reason::StoreFailure:
      return "store_failure";
    case Reason::NotRcpt:
    case Reason::BadClientAddress:
      return "dunno";
  }
  return "dunno";
}

const char* to_string(Reason r) {
  switch (r) {
    case Reason::NotRcpt:
      return "not-rcpt-stage";
    case Reason::BadClientAddress:
      return "bad-client-address";
    case Reason::ClientWhitelist:
      return "client-whitelist";
    case Reason::RecipientWhitelist:
      return "recipient-whitelist";
    case Reason::ClientAutoWhitelist:
      return "client-awl";
    case Reason::DomainAutoWhitelist:
      return "domain-awl";
    case Reason::New:
      return "new";
    case Reason::EarlyRetry:
      return "early-retry";
    case Reason::RetryWindowExpired:
      return "retry-window-expired";
    case Reason::ClockWentBack:
      return "clock-went-back";
    case Reason::Passed:
      return "triplet-passed";
    case Reason::PooledPassed:
      return "pooled-sender-passed";
    case Reason::Known:
      return "triplet-known";
    case Reason::FluxAgent:
      return "flux-agent";
    case Reason::StoreFailure:
      return "store-failure";
  }
  return "?";
}

namespace key {
std::string triplet(std::string_view net, std::string_view sender, std::string_view rcpt) {
  return make_key('t', {net, sender.empty() ? std::string_view("<>") : sender, rcpt});
}
std::string client(std::string_view net) { return make_key('c', {net}); }
std::string domain(std::string_view sender_domain, std::string_view net) {
  return make_key('d', {sender_domain, net});
}
std::string sender(std::string_view sender, std::string_view net) {
  return make_key('s', {sender, net});
}
std::string pooled(std::string_view sender, std::string_view rcpt, std::string_view regdom) {
  return make_key('p', {sender.empty() ? std::string_view("<>") : sender, rcpt, regdom});
}
std::string whitelist_client(std::string_view entry) { return make_key('w', {"client", entry}); }
std::string whitelist_recipient(std::string_view entry) {
  return make_key('w', {"recipient", entry});
}
}  // namespace key

std::optional<std::int64_t> expires_at(std::string_view k, const Record& rec, const Settings& s) {
  const std::int64_t last = std::max(rec.first_s, rec.last_s);
  if (k.empty()) {
    return std::nullopt;
  }
  switch (k[0]) {
    case 't':
      return last + (rec.count > 0 ? s.max_age.count() : s.retry_window.count());
    case 'p':
      return static_cast<std::int64_t>(rec.first_s) + s.retry_window.count();
    case 'c':
    case 'd':
    case 's':
      return last + s.max_age.count();
    default:
      return std::nullopt;  // admin whitelist entries and unknown kinds are kept
  }
}

bool is_expired(std::string_view k, const Record& rec, TimePoint now, const Settings& s) {
  const std::optional<std::int64_t> until = expires_at(k, rec, s);
  return until && to_unix(now) > *until;
}

Greylist::Greylist(std::shared_ptr<const Policy> policy, Store& store, RegistrableDomainFn regdom)
    : policy_(std::move(policy)),
      dyn_(std::make_shared<DynamicLists>()),
      store_(store),
      regdom_(std::move(regdom)) {}

void Greylist::set_policy(std::shared_ptr<const Policy> policy) {
  std::lock_guard lock(snap_mu_);
  policy_ = std::move(policy);
}

std::shared_ptr<const Policy> Greylist::policy() const {
  std::lock_guard lock(snap_mu_);
  return policy_;
}

std::shared_ptr<const Greylist::DynamicLists> Greylist::dynamic_lists() const {
  std::lock_guard lock(snap_mu_);
  return dyn_;
}

template <class Edit>
void Greylist::edit_dynamic(Edit edit) {
  auto copy = std::make_shared<DynamicLists>(*dynamic_lists());
  edit(*copy);
  std::lock_guard lock(snap_mu_);
  dyn_ = std::move(copy);
}

Decision Greylist::store_failure(const Settings& s, const Error& e) const {
  Decision d;
  d.reason = Reason::StoreFailure;
  d.error = e.message;
  if (s.defer_on_store_failure) {
    d.action = Action::Defer;
    d.reply = "DEFER 4.3.0 Greylisting is temporarily unavailable, try again later";
  } else {
    d.action = Action::Dunno;
    d.reply = "DUNNO";
  }
  return d;
}

Decision Greylist::defer(const Settings& s, const policy::Request& req, Reason reason,
                         std::int64_t wait_s) const {
  std::string text = s.text;
  replace_all(text, "%s", std::to_string(wait_s));
  if (text.find("%r") != std::string::npos) {
    replace_all(text, "%r", address_domain(ascii_lower(req.recipient)));
  }
  if (req.has_etrn_domain && !(text.size() > 0 && text[0] >= '0' && text[0] <= '9')) {
    // Postfix >= 2.3 always sends etrn_domain; 4.2.0 avoids an Exchange retry bug (as postgrey).
    text = "4.2.0 " + text;
  }
  Decision d;
  d.action = Action::Defer;
  d.reason = reason;
  d.delay_s = wait_s;
  d.reply = s.action + " " + text;
  return d;
}

bool Greylist::new_instance(const std::string& instance) {
  if (instance.empty()) {
    return true;  // clients other than Postfix (Exim) send none
  }
  std::lock_guard lock(inst_mu_);
  if (instances_.count(instance) != 0) {
    return false;
  }
  instances_.insert(instance);
  instance_order_.push_back(instance);
  if (instance_order_.size() > kMaxInstances) {
    instances_.erase(instance_order_.front());
    instance_order_.pop_front();
  }
  return true;
}

Decision Greylist::pass(const Settings& s, const policy::Request& req, Reason reason,
                        std::int64_t delayed_s, TimePoint now) {
  Decision d;
  d.reason = reason;
  d.delay_s = delayed_s;
  if (reason != Reason::Known && new_instance(req.instance)) {
    std::string header = s.header;
    replace_all(header, "%t", std::to_string(delayed_s));
    replace_all(header, "%v", kVersion);
    replace_all(header, "%h", s.hostname);
    replace_all(header, "%d", format_rfc5322_utc(now));
    d.action = Action::Prepend;
    d.reply = "PREPEND " + header;
  } else {
    d.action = Action::Dunno;
    d.reply = "DUNNO";
  }
  return d;
}

Result<bool> Greylist::auto_whitelisted(const std::string& k, const std::optional<Record>& rec,
                                        std::uint32_t after, TimePoint now) {
  if (after == 0 || !rec || rec->count < after) {
    return false;
  }
  // Keep an active entry alive: refresh it at most once an hour.
  if (secs(now) >= rec->counted_s + kHour || rec->counted_s > secs(now)) {
    Record r = *rec;
    r.counted_s = r.last_s = secs(now);
    if (auto ok = store_.put(k, r); !ok) {
      return tl::unexpected(ok.error());
    }
  }
  return true;
}

Result<void> Greylist::count_pass(const std::string& k, const std::optional<Record>& rec,
                                  TimePoint now, bool hourly) {
  Record r = rec.value_or(Record{secs(now), secs(now), 0, 0});
  if (hourly && r.count > 0 && secs(now) < r.counted_s + kHour && r.counted_s <= secs(now)) {
    return {};
  }
  ++r.count;
  r.counted_s = r.last_s = secs(now);
  return store_.put(k, r);
}

std::optional<Decision> Greylist::flux_decision(const Settings& s, const IpAddress& ip,
                                                bool has_etrn_domain) const {
  if (s.flux_agents == Settings::FluxAgents::Off || !flux_agent_ || !flux_agent_(ip)) {
    return std::nullopt;
  }
  if (s.flux_agents == Settings::FluxAgents::Reject) {
    return Decision{Action::Reject,
                    Reason::FluxAgent,
                    "REJECT 5.7.1 client host serves a fast-flux network",
                    0,
                    {}};
  }
  // Same status-code rule as every deferral (4.2.0 when Postfix sends etrn_domain).
  return Decision{Action::Defer,
                  Reason::FluxAgent,
                  s.action + (has_etrn_domain ? " 4.2.0" : "") +
                      " Greylisted: client host serves a fast-flux network",
                  0,
                  {}};
}

Decision Greylist::check_client(std::string_view client_address, std::string_view client_name) {
  auto ip = parse_ip(client_address);
  if (!ip) {
    return Decision{Action::Dunno, Reason::BadClientAddress, "DUNNO", 0, ip.error().message};
  }
  std::shared_ptr<const Policy> pol_ptr;
  std::shared_ptr<const DynamicLists> dyn;
  {
    std::lock_guard lock(snap_mu_);
    pol_ptr = policy_;
    dyn = dyn_;
  }
  if (pol_ptr->clients.matches(*ip, client_name) || dyn->clients.matches(*ip, client_name)) {
    return Decision{Action::Dunno, Reason::ClientWhitelist, "DUNNO", 0, {}};
  }
  if (auto flux = flux_decision(pol_ptr->settings, *ip, false)) {
    return *flux;
  }
  return Decision{Action::Dunno, Reason::NotRcpt, "DUNNO", 0, {}};
}

std::variant<Decision, Greylist::Lookup> Greylist::begin(const policy::Request& req) {
  if (!iequals(req.protocol_state, "RCPT")) {
    return Decision{Action::Dunno, Reason::NotRcpt, "DUNNO", 0, {}};
  }
  auto ip = parse_ip(req.client_address);
  if (!ip) {
    return Decision{Action::Dunno, Reason::BadClientAddress, "DUNNO", 0, ip.error().message};
  }
  std::shared_ptr<const Policy> pol_ptr;
  std::shared_ptr<const DynamicLists> dyn;
  {
    std::lock_guard lock(snap_mu_);
    pol_ptr = policy_;
    dyn = dyn_;
  }
  const Policy& pol = *pol_ptr;
  const Settings& s = pol.settings;
  if (pol.clients.matches(*ip, req.client_name) || dyn->clients.matches(*ip, req.client_name)) {
    return Decision{Action::Dunno, Reason::ClientWhitelist, "DUNNO", 0, {}};
  }
  if (pol.recipients.matches(req.recipient) || dyn->recipients.matches(req.recipient)) {
    return Decision{Action::Dunno, Reason::RecipientWhitelist, "DUNNO", 0, {}};
  }
  // Before the auto-whitelists and the triplet: an infected host never earns a pass by retrying.
  if (auto flux = flux_decision(s, *ip, req.has_etrn_domain)) {
    return *flux;
  }

  const std::string net = network_key(*ip, s.ipv4_prefix, s.ipv6_prefix);
  const std::string sender = normalize_sender(req.sender);
  const std::string_view sender_domain = address_domain(sender);
  const std::string rcpt = ascii_lower(req.recipient);
  // Every key this decision may read, fetched at once (one round trip to a networked store).
  Lookup look;
  look.policy = pol_ptr;
  look.domain_awl_on = s.domain_auto_whitelist_after > 0 && !sender_domain.empty();
  Keys& k = look.keys;
  k.client = key::client(net);
  k.domain = key::domain(sender_domain, net);
  k.triplet = key::triplet(net, sender, rcpt);
  k.sender = key::sender(sender, net);
  if (s.pooled_senders && regdom_ && !req.client_name.empty() && req.client_name != "unknown") {
    if (const std::string regdom = regdom_(ascii_lower(req.client_name)); !regdom.empty()) {
      k.pooled = key::pooled(sender, rcpt, regdom);
    }
  }
  const bool domain_awl_on = look.domain_awl_on;
  std::vector<std::string>& wanted = look.wanted;
  wanted.reserve(5);
  wanted.push_back(k.triplet);
  if (s.auto_whitelist_after > 0) {
    wanted.push_back(k.client);
  }
  if (domain_awl_on) {
    wanted.push_back(k.domain);
    wanted.push_back(k.sender);
  }
  if (!k.pooled.empty()) {
    wanted.push_back(k.pooled);
  }
  return look;
}

Decision Greylist::check(const policy::Request& req, TimePoint now) {
  auto begun = begin(req);
  if (Decision* d = std::get_if<Decision>(&begun)) {
    return std::move(*d);
  }
  Lookup& look = std::get<Lookup>(begun);
  auto fetched = store_.get_many(look.wanted);
  return finish(req, look, fetched, now);
}

Decision Greylist::finish(const policy::Request& req, const Lookup& look,
                          const Result<std::vector<std::optional<Record>>>& fetched,
                          TimePoint now) {
  const Settings& s = look.policy->settings;
  const Keys& k = look.keys;
  const std::vector<std::string>& wanted = look.wanted;
  const bool domain_awl_on = look.domain_awl_on;
  if (!fetched) {
    return store_failure(s, fetched.error());
  }
  if (fetched->size() != wanted.size()) {
    return store_failure(s, Error{Errc::StoreFailure, "store answered a different number of keys"});
  }
  auto read = [&](const std::string& key) -> std::optional<Record> {
    for (std::size_t i = 0; i < wanted.size(); ++i) {
      if (wanted[i] == key) {
        return (*fetched)[i];
      }
    }
    return std::nullopt;
  };

  const std::optional<Record> client_rec = read(k.client);
  auto client_awl = auto_whitelisted(k.client, client_rec, s.auto_whitelist_after, now);
  if (!client_awl) {
    return store_failure(s, client_awl.error());
  }
  if (*client_awl) {
    return Decision{Action::Dunno, Reason::ClientAutoWhitelist, "DUNNO", 0, {}};
  }
  const std::optional<Record> domain_rec = domain_awl_on ? read(k.domain) : std::nullopt;
  if (domain_awl_on) {
    auto domain_awl = auto_whitelisted(k.domain, domain_rec, s.domain_auto_whitelist_after, now);
    if (!domain_awl) {
      return store_failure(s, domain_awl.error());
    }
    if (*domain_awl) {
      return Decision{Action::Dunno, Reason::DomainAutoWhitelist, "DUNNO", 0, {}};
    }
  }

  const std::string& tkey = k.triplet;
  const std::optional<Record> found = read(tkey);
  const std::uint32_t t = secs(now);
  Record rec = found.value_or(Record{t, t, 0, 0});
  const bool known = found.has_value();
  if (known && rec.count > 0) {
    if (t >= rec.last_s + kRefreshLastAfter || rec.last_s > t) {
      rec.last_s = t;
      if (auto ok = store_.put(tkey, rec); !ok) {
        return store_failure(s, ok.error());
      }
    }
    return pass(s, req, Reason::Known, 0, now);
  }

  Reason reason = known ? Reason::EarlyRetry : Reason::New;
  if (known && rec.first_s > t) {
    rec = Record{t, t, 0, 0};  // seen "in the future": the clock went back since
    reason = Reason::ClockWentBack;
  } else if (known && t - rec.first_s > s.retry_window.count()) {
    rec = Record{t, t, 0, 0};  // the first retry came too late
    reason = Reason::RetryWindowExpired;
  }
  std::int64_t waited = static_cast<std::int64_t>(t) - rec.first_s;
  bool pooled_pass = false;

  // Pooled senders: big providers retry from another address; key the attempt by the
  // registrable domain of the verified client name too.
  if (waited < s.delay.count() && !k.pooled.empty()) {
    const std::optional<Record> pooled = read(k.pooled);
    if (pooled && t >= pooled->first_s && t - pooled->first_s <= s.retry_window.count()) {
      const std::int64_t pooled_waited = static_cast<std::int64_t>(t) - pooled->first_s;
      if (pooled_waited >= s.delay.count()) {
        waited = pooled_waited;
        pooled_pass = true;
      }
    } else if (auto ok = store_.put(k.pooled, Record{t, t, 0, 0}); !ok) {
      return store_failure(s, ok.error());
    }
  }

  if (waited < s.delay.count()) {
    if (!known || reason == Reason::RetryWindowExpired || reason == Reason::ClockWentBack ||
        t >= rec.last_s + kRefreshLastAfter) {
      rec.last_s = t;
      if (auto ok = store_.put(tkey, rec); !ok) {
        return store_failure(s, ok.error());
      }
    }
    return defer(s, req, reason, s.delay.count() - waited);
  }

  // First pass of this triplet.
  rec.last_s = t;
  rec.count = 1;
  rec.counted_s = t;
  if (auto ok = store_.put(tkey, rec); !ok) {
    return store_failure(s, ok.error());
  }
  if (s.auto_whitelist_after > 0) {
    if (auto ok = count_pass(k.client, client_rec, now, /*hourly=*/true); !ok) {
      return store_failure(s, ok.error());
    }
  }
  if (domain_awl_on && !read(k.sender)) {
    // As sqlgrey: the domain counts distinct senders that passed from this network.
    if (auto ok = store_.put(k.sender, Record{t, t, 1, t}); !ok) {
      return store_failure(s, ok.error());
    }
    if (auto ok = count_pass(k.domain, domain_rec, now, /*hourly=*/false); !ok) {
      return store_failure(s, ok.error());
    }
  }
  return pass(s, req, pooled_pass ? Reason::PooledPassed : Reason::Passed, waited, now);
}

Result<void> Greylist::load_dynamic_whitelists() {
  ClientWhitelist clients;
  RecipientWhitelist recipients;
  const std::string cprefix = key::whitelist_client("");
  const std::string rprefix = key::whitelist_recipient("");
  auto ok = store_.scan("w:", [&](std::string_view k, const Record&) {
    if (k.starts_with(cprefix)) {
      clients.add_entry(k.substr(cprefix.size()));
    } else if (k.starts_with(rprefix)) {
      recipients.add_entry(k.substr(rprefix.size()));
    }
    return true;
  });
  if (!ok) {
    return ok;
  }
  std::lock_guard admin(admin_mu_);
  edit_dynamic([&](DynamicLists& d) {
    d.clients = std::move(clients);
    d.recipients = std::move(recipients);
  });
  return {};
}

Result<void> Greylist::add_client_whitelist(std::string_view entry) {
  std::string why;
  ClientWhitelist probe;
  if (!probe.add_entry(entry, &why)) {
    return fail(Errc::InvalidInput,
                why.empty() ? fmt::format("'{}' is not a client whitelist entry", entry) : why);
  }
  if (auto ok = store_.put(key::whitelist_client(trim_ws(entry)), Record{}); !ok) {
    return ok;
  }
  std::lock_guard admin(admin_mu_);
  edit_dynamic([&](DynamicLists& d) {
    d.clients.remove_entry(entry);
    d.clients.add_entry(entry);
  });
  return {};
}

Result<bool> Greylist::remove_client_whitelist(std::string_view entry) {
  auto erased = store_.erase(key::whitelist_client(trim_ws(entry)));
  if (!erased) {
    return erased;
  }
  std::lock_guard admin(admin_mu_);
  bool removed = false;
  edit_dynamic([&](DynamicLists& d) { removed = d.clients.remove_entry(entry); });
  return removed || *erased;
}

Result<void> Greylist::add_recipient_whitelist(std::string_view entry) {
  std::string why;
  RecipientWhitelist probe;
  if (!probe.add_entry(entry, &why)) {
    return fail(Errc::InvalidInput,
                why.empty() ? fmt::format("'{}' is not a recipient whitelist entry", entry) : why);
  }
  if (auto ok = store_.put(key::whitelist_recipient(trim_ws(entry)), Record{}); !ok) {
    return ok;
  }
  std::lock_guard admin(admin_mu_);
  edit_dynamic([&](DynamicLists& d) {
    d.recipients.remove_entry(entry);
    d.recipients.add_entry(entry);
  });
  return {};
}

Result<bool> Greylist::remove_recipient_whitelist(std::string_view entry) {
  auto erased = store_.erase(key::whitelist_recipient(trim_ws(entry)));
  if (!erased) {
    return erased;
  }
  std::lock_guard admin(admin_mu_);
  bool removed = false;
  edit_dynamic([&](DynamicLists& d) { removed = d.recipients.remove_entry(entry); });
  return removed || *erased;
}

}  // namespace gf::greylist
