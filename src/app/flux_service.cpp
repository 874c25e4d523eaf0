#include "app/flux_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <unordered_map>
#include <unordered_set>

#include "app/history_service.hpp"
#include "app/paths.hpp"
#include "app/redis_wiring.hpp"
#include "core/common/query.hpp"
#include "core/dns/message.hpp"
#include "core/flux/allowlist.hpp"
#include "core/flux/churn.hpp"
#include "core/flux/ingest.hpp"
#include "core/flux/networks.hpp"
#include "core/flux/rpz.hpp"
#include "core/flux/score.hpp"
#include "core/flux/shared.hpp"
#include "core/flux/verdicts.hpp"
#include "core/history/rows.hpp"
#include "io/capture/dnstap_socket.hpp"
#include "io/capture/pcap_live.hpp"
#include "io/dns/psl.hpp"
#include "io/flux/geoip_country.hpp"
#include "io/flux/mmdb_asn.hpp"
#include "io/store/redis_flux.hpp"
#include "io/sys/file.hpp"

namespace gf::app {
namespace {

// One row of GET /api/v1/flux, made when the names are judged.
struct Flagged {
  std::string name;
  double score = 0;
  bool current = false;  // flagged on its latest window (else held: flagged before)
  std::int64_t last_seen = 0;
  std::string evidence;  // JSON: the verdict (flux::to_json) or the held verdict (held_json)
};

// What the admin API reads between two judgings, swapped whole under FluxService::Impl::view_lock.
struct FluxView {
  std::vector<Flagged> ranked;              // by score, highest first; at most kMaxRanked
  std::vector<flux::FluxNetwork> networks;  // of two names or more
  std::unordered_map<std::string, std::size_t> network_of;
  std::unordered_map<std::string, std::vector<IpAddress>> agents_of;  // of networked names, sorted
  std::vector<std::string> rpz_names;  // sorted: the names the RPZ lists
};

constexpr std::size_t kMaxRanked = 1000;
constexpr std::size_t kMaxNetworkNames = 100;  // names listed per network in GET /api/v1/flux/NAME
// flux.shared: names published per pass at most (the rest follow in the next passes), and how
// many passes after its last local change a name's merged view is read again (other nodes
// publish on their own schedule).
constexpr std::size_t kMaxSharedPerPass = 100'000;
constexpr std::uint64_t kSharedRereadPasses = 5;
// The flux connection's round-trip limit: a pass sends hundreds of scripts per pipeline.
constexpr Millis kSharedTimeout{1000};

bool ip_less(const IpAddress& a, const IpAddress& b) { return a.bytes < b.bytes; }

std::size_t shared_count(const std::vector<IpAddress>& a, const std::vector<IpAddress>& b) {
  std::size_t n = 0;
  for (auto i = a.begin(), j = b.begin(); i != a.end() && j != b.end();) {
    if (ip_less(*i, *j)) {
      ++i;
    } else if (ip_less(*j, *i)) {
      ++j;
    } else {
      ++n, ++i, ++j;
    }
  }
  return n;
}

// flux.shared: a Redis connection of its own (the flux pass sends large pipelines; the policy
// server's round trips do not wait behind them), keys under store.redis_prefix + "f:".
Result<std::unique_ptr<io::SharedFluxStore>> open_shared(const Values& v,
                                                         const flux::TrackerConfig& tc) {
  auto opts = redis_options(v);
  if (!opts) {
    return tl::unexpected(opts.error());
  }
  opts->timeout = std::max(opts->timeout, kSharedTimeout);
  auto client = io::RedisClient::start(*opts);
  if (!client) {
    return tl::unexpected(client.error());
  }
  const Millis wait = opts->connect_timeout + Millis(1000);
  if (!(*client)->wait_connected(wait)) {
    return fail(Errc::Config, fmt::format("flux.shared: no answer from {} within {}ms",
                                          format_redis_url(opts->url), wait.count()));
  }
  flux::SharedLimits limits;
  limits.window_s = static_cast<std::uint32_t>(tc.window.count());
  limits.expire_s = static_cast<std::uint32_t>(std::max(tc.idle_evict, tc.window).count());
  limits.max_ips = static_cast<std::uint32_t>(tc.max_ips_per_name);
  limits.max_ns = static_cast<std::uint32_t>(tc.max_ns_per_name);
  return std::make_unique<io::SharedFluxStore>(std::shared_ptr<io::RedisClient>(std::move(*client)),
                                               v.str("store.redis_prefix") + "f:", limits);
}

}  // namespace

struct FluxService::Impl {
  std::unique_ptr<flux::AsnSource> asn;
  std::unique_ptr<flux::AsnSource> geo;  // countries only, when there is no ASN data
  std::string geo_note;
  std::optional<flux::Allowlist> allow;
  io::PublicSuffixList psl;
  std::unique_ptr<flux::Tracker> tracker;
  std::unique_ptr<flux::Ingest> ingest;
  std::unique_ptr<flux::VerdictMemory> memory;
  std::mutex lock;  // tracker, ingest and memory
  std::unique_ptr<io::DnstapListener> listener;
  std::unique_ptr<io::PcapLive> live;
  std::atomic<bool> stop{false};
  std::thread listen_thread, capture_thread;
  std::string rpz_path, rpz_origin;
  bool rpz_ip = false;
  Seconds interval{60};
  mutable std::mutex index_lock;
  std::shared_ptr<const flux::FluxIndex> index = std::make_shared<flux::FluxIndex>();
  flux::ChurnHistory churn;  // under `lock`
  std::atomic<std::uint64_t> flagged_total{0};
  mutable std::mutex view_lock;
  std::shared_ptr<const FluxView> view = std::make_shared<FluxView>();
  // flux.shared (null when off): used by the publish pass and the admin API's name route.
  std::unique_ptr<io::SharedFluxStore> shared;
  flux::SharedLedger ledger;  // under `lock`
  std::uint64_t pass = 0;     // publish passes (publish thread only)
  std::atomic<std::uint64_t> shared_published{0}, shared_read{0}, shared_failures{0};
  // Names on the shared flagged list: the last flux sighting looked at and the pass it moved
  // (publish thread only; entries older than verdict_ttl are dropped).
  struct FlaggedSeen {
    std::uint32_t last = 0;
    std::uint64_t pass = 0;
  };
  std::unordered_map<std::string, FlaggedSeen> flagged_seen;
  mutable std::mutex shared_io;  // one caller of `shared` at a time

  const flux::Allowlist* allowlist() const { return allow ? &*allow : nullptr; }

  // flux.shared: publishes what changed since the last pass, reads back the merged views of
  // the names changed in the last kSharedRereadPasses passes and returns their merged states.
  // On a Redis failure: logged, counted, and the names are judged on local state this pass.
  std::unordered_map<std::string, flux::NameState> share() {
    std::unordered_map<std::string, flux::NameState> out;
    if (!shared) {
      return out;
    }
    std::vector<flux::NameDelta> deltas;
    {
      std::lock_guard<std::mutex> g(lock);
      deltas = ledger.collect(*tracker, kMaxSharedPerPass);
    }
    ++pass;
    std::vector<std::string> names;
    Result<std::unordered_map<std::string, flux::SharedView>> views;
    {
      std::lock_guard<std::mutex> io_guard(shared_io);
      std::size_t done = 0;
      if (auto p = shared->publish(deltas, &done); !p) {
        deltas.resize(done);  // what Redis applied is not sent again
        std::lock_guard<std::mutex> g(lock);
        ledger.commit(*tracker, deltas, pass);
        shared_published.fetch_add(done, std::memory_order_relaxed);
        shared_failures.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("flux: shared state not published: {}", p.error().message);
        return out;
      }
      shared_published.fetch_add(deltas.size(), std::memory_order_relaxed);
      {
        std::lock_guard<std::mutex> g(lock);
        ledger.commit(*tracker, deltas, pass);
        names = ledger.recent(pass, kSharedRereadPasses);
      }
      views = shared->read(names);
    }
    if (!views) {
      shared_failures.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("flux: shared state not read: {}", views.error().message);
      return out;
    }
    shared_read.fetch_add(names.size(), std::memory_order_relaxed);
    std::lock_guard<std::mutex> g(lock);
    for (const auto& [name, v] : *views) {
      if (const flux::NameState* s = tracker->find(name); s != nullptr) {
        out.emplace(name, flux::merged_state(*s, v));
      }
    }
    return out;
  }

  // flux.shared: names another node flagged that this one does not track are judged here on
  // their merged view alone (not taken on trust) and held like a local flux verdict, so every
  // node's RPZ and agent index list them. A name is judged again in the kSharedRereadPasses
  // passes after its last flux sighting on the list moved (the other nodes' answers of that
  // moment arrive within a pass or two), then left alone until it moves again.
  void adopt_flagged(TimePoint now) {
    if (!shared) {
      return;
    }
    const std::int64_t ttl = memory->config().ttl.count();
    const auto since = static_cast<std::uint32_t>(std::max<std::int64_t>(0, to_unix(now) - ttl));
    std::vector<std::string> wanted;
    Result<std::unordered_map<std::string, flux::SharedView>> views;
    {
      std::lock_guard<std::mutex> io_guard(shared_io);
      auto flagged = shared->flagged_since(since);
      if (!flagged) {
        shared_failures.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("flux: shared flagged list not read: {}", flagged.error().message);
        return;
      }
      std::erase_if(flagged_seen, [&](const auto& kv) { return kv.second.last < since; });
      {
        std::lock_guard<std::mutex> g(lock);
        for (const auto& [name, last] : *flagged) {
          auto [it, added] = flagged_seen.emplace(name, FlaggedSeen{last, pass});
          if (!added && last > it->second.last) {
            it->second = FlaggedSeen{last, pass};
          } else if (!added && it->second.pass + kSharedRereadPasses <= pass) {
            continue;
          }
          if (tracker->find(name) == nullptr) {
            wanted.push_back(name);
          }
        }
      }
      if (wanted.empty()) {
        return;
      }
      views = shared->read(wanted);
    }
    if (!views) {
      for (const std::string& n : wanted) {
        flagged_seen[n].pass = pass;  // tried again in the next passes
      }
      shared_failures.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("flux: shared state not read: {}", views.error().message);
      return;
    }
    std::lock_guard<std::mutex> g(lock);
    for (const auto& [name, name_view] : *views) {
      flux::NameState none;
      none.registrable_domain = flux::naive_registrable_domain(name);
      memory->record(
          flux::judge_latest(name, flux::merged_state(none, name_view), *tracker, allowlist()));
    }
  }

  // flux.shared: this node's current flux names onto the shared flagged list.
  void flag(const std::vector<std::pair<std::string, std::uint32_t>>& names, TimePoint now) {
    if (!shared) {
      return;
    }
    const std::int64_t ttl = memory->config().ttl.count();
    const auto since = static_cast<std::uint32_t>(std::max<std::int64_t>(0, to_unix(now) - ttl));
    std::lock_guard<std::mutex> io_guard(shared_io);
    if (auto r = shared->flag(names, since); !r) {
      shared_failures.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("flux: shared flagged list not written: {}", r.error().message);
    }
  }

  // The merged view of one name for the admin API (nullopt: not shared, or Redis failed).
  std::optional<flux::SharedView> shared_view_of(const std::string& name) {
    if (!shared) {
      return std::nullopt;
    }
    std::lock_guard<std::mutex> io_guard(shared_io);
    auto views = shared->read({name});
    if (!views || !views->contains(name)) {
      return std::nullopt;
    }
    return std::move(views->at(name));
  }

  // Under `lock`: a churn point for a flagged name or one already followed; a name new to the
  // history gets its earlier points reconstructed from its addresses' sightings.
  void record_churn(const flux::Verdict& v, TimePoint now) {
    const std::string& name = v.features.name;
    if (!v.flux() && !churn.contains(name)) {
      return;
    }
    const flux::NameState* s = tracker->find(name);
    if (s == nullptr) {
      return;
    }
    const flux::ChurnPoint p = flux::point_of(v.features, *s, now);
    if (churn.contains(name)) {
      churn.record(name, p);
      return;
    }
    const auto steps = static_cast<std::size_t>(tracker->config().window / churn.config().step);
    churn.record(name, p,
                 flux::reconstruct(*s, now, churn.config().step,
                                   std::min(steps, churn.config().max_points - 1) + 1,
                                   tracker->config().window));
  }

  // The ranked list and the networks of the flagged (current and held) names.
  std::shared_ptr<FluxView> make_view(std::vector<Flagged> ranked,
                                      const std::vector<flux::NamedAddresses>& named,
                                      std::vector<std::string> rpz_names) {
    auto out = std::make_shared<FluxView>();
    std::sort(ranked.begin(), ranked.end(),
              [](const Flagged& a, const Flagged& b) { return a.score > b.score; });
    if (ranked.size() > kMaxRanked) {
      ranked.resize(kMaxRanked);
    }
    out->ranked = std::move(ranked);
    for (flux::FluxNetwork& n : flux::cluster_networks(named)) {
      if (n.names.size() < 2) {
        continue;
      }
      for (const std::string& name : n.names) {
        out->network_of[name] = out->networks.size();
      }
      out->networks.push_back(std::move(n));
    }
    for (const flux::NamedAddresses& a : named) {
      if (out->network_of.contains(a.name)) {
        auto& v = out->agents_of[a.name];
        v = a.addresses;
        std::sort(v.begin(), v.end(), ip_less);
        v.erase(std::unique(v.begin(), v.end()), v.end());
      }
    }
    out->rpz_names = std::move(rpz_names);
    return out;
  }

  std::atomic<HistoryService*> history_sink{nullptr};

  // A name flagged now that the previous index did not have: one history row.
  void record_if_new(const flux::FluxIndex& previous, const flux::Verdict& v, TimePoint now) {
    HistoryService* h = history_sink.load();
    if (h != nullptr && !previous.match_host(v.features.name)) {
      h->record(history::flux_row(v, to_unix(now)));
    }
  }

  // Judges every name on its latest window (recording flux verdicts in `memory`), rewrites the
  // RPZ with the flagged and the held names, swaps the index. Caller holds no lock.
  void publish() {
    const TimePoint now = std::chrono::time_point_cast<Seconds>(std::chrono::system_clock::now());
    std::shared_ptr<const flux::FluxIndex> flagged_before;
    {
      std::lock_guard<std::mutex> g(index_lock);
      flagged_before = index;
    }
    auto idx = std::make_shared<flux::FluxIndex>();
    const auto previous_index = [this] {
      std::lock_guard<std::mutex> g(index_lock);
      return index;
    }();
    flux::RpzContent rpz;
    std::size_t names = 0;
    std::vector<Flagged> ranked;
    std::vector<flux::NamedAddresses> named;
    std::unordered_set<std::string> current;
    const auto merged = share();
    adopt_flagged(now);
    std::vector<std::pair<std::string, std::uint32_t>> flagged_here;
    {
      std::lock_guard<std::mutex> g(lock);
      // judge_and_hold() (verdicts.hpp) with the merged state of the names flux.shared read.
      tracker->for_each([&](const std::string& name, const flux::NameState& s) {
        if (s.responses == 0) {
          return;  // NS-only state (a registrable domain seen through NS queries)
        }
        const auto m = merged.find(name);
        flux::Verdict v =
            flux::judge_latest(name, m == merged.end() ? s : m->second, *tracker, allowlist());
        memory->record(v);
        ++names;
        record_churn(v, now);
        if (v.flux() && memory->find(v.features.name, now) != nullptr) {
          idx->add(v);
          record_if_new(*flagged_before, v, now);
          rpz.agent_ips.insert(rpz.agent_ips.end(), v.features.addresses.begin(),
                               v.features.addresses.end());
          current.insert(v.features.name);
          ranked.push_back(Flagged{v.features.name, v.composite.score, true, v.features.last_seen,
                                   flux::to_json(v)});
          named.push_back(flux::NamedAddresses{v.features.name, v.features.addresses});
          flagged_here.emplace_back(v.features.name,
                                    static_cast<std::uint32_t>(v.features.last_seen));
        }
      });
      memory->expire(now);
      memory->for_each(now, [&](const std::string& name, const flux::HeldVerdict& h) {
        idx->add(name, h);
        if (!current.contains(name)) {
          ranked.push_back(
              Flagged{name, h.score, false, h.last_flux_s, flux::held_json(*memory, h)});
          named.push_back(flux::NamedAddresses{name, h.agents});
        }
      });
      flux::RpzContent held = flux::held_content(*memory, now);
      rpz.names = std::move(held.names);
      rpz.agent_ips.insert(rpz.agent_ips.end(), held.agent_ips.begin(), held.agent_ips.end());
    }
    flag(flagged_here, now);
    rpz.normalise();
    for (const Flagged& f : ranked) {
      const auto hit = previous_index->match_host(f.name);
      if (!hit || hit->name != f.name) {
        flagged_total.fetch_add(1, std::memory_order_relaxed);
      }
    }
    // The RPZ rules of a name exist only when the zone is written (flux.rpz_path).
    auto new_view = make_view(std::move(ranked), named,
                              rpz_path.empty() ? std::vector<std::string>() : rpz.names);
    {
      std::lock_guard<std::mutex> g(index_lock);
      index = idx;
    }
    {
      std::lock_guard<std::mutex> g(view_lock);
      view = std::move(new_view);
    }
    if (rpz_path.empty()) {
      return;
    }
    std::optional<std::uint32_t> previous;
    if (auto old = io::read_file(rpz_path)) {
      if (auto parsed = flux::parse_rpz(*old)) {
        previous = parsed->serial;
      }
    }
    flux::RpzOptions ro;
    ro.origin = rpz_origin;
    ro.serial = flux::next_serial(previous, now);
    ro.rpz_ip = rpz_ip;
    if (auto w = io::write_file_atomic(rpz_path, flux::write_rpz(rpz, ro)); !w) {
      spdlog::error("flux: {}", w.error().message);
      return;
    }
    spdlog::debug("flux: {} names, {} flagged, {} serial {}", names, rpz.names.size(), rpz_path,
                  ro.serial);
  }
};

Result<std::unique_ptr<FluxService>> FluxService::start(const Values& v) {
  const std::string socket = v.str("flux.dnstap_socket");
  const std::string iface = v.str("flux.interface");
  if (socket.empty() && iface.empty()) {
    return std::unique_ptr<FluxService>();
  }
  auto impl = std::make_unique<Impl>();
  if (const std::string& p = v.str("flux.asn_db"); !p.empty()) {
    auto a = io::open_asn_source(p);
    if (!a) {
      return tl::unexpected(a.error());
    }
    impl->asn = std::move(*a);
  } else {
    // No ASN data: countries from Debian's GeoIP.dat when installed (optional at run time).
    std::string note;
    auto g = io::open_geo_source(v.str("flux.geoip_db"), note);
    if (!g) {
      return fail(Errc::Config, "flux.geoip_db: " + g.error().message);
    }
    impl->geo = std::move(*g);
    impl->geo_note = std::move(note);  // logged once the flux detector has started
  }
  auto allow_path =
      data_file(v, "flux.allowlist", "the flux detector ([flux] dnstap_socket, interface)");
  if (!allow_path) {
    return tl::unexpected(allow_path.error());
  }
  if (const std::string& p = *allow_path; !p.empty()) {
    // load_config() made sure the file exists; failing to read it now is a start-up error.
    auto text = io::read_file(p);
    if (!text) {
      return fail(Errc::Config, "flux.allowlist: " + text.error().message);
    }
    auto allow = flux::Allowlist::parse(*text);
    if (!allow) {
      return fail(Errc::Config, fmt::format("flux.allowlist: {}: {}", p, allow.error().message));
    }
    impl->allow = std::move(*allow);
  }
  flux::TrackerConfig tc;
  tc.window = std::chrono::duration_cast<Seconds>(v.duration("flux.window"));
  tc.idle_evict = std::chrono::duration_cast<Seconds>(v.duration("flux.idle_evict"));
  tc.max_names = static_cast<std::size_t>(std::max<std::int64_t>(1, v.integer("flux.max_names")));
  Impl* raw = impl.get();
  impl->tracker = std::make_unique<flux::Tracker>(
      tc, impl->asn.get(), [raw](std::string_view n) { return raw->psl.registrable_domain(n); });
  impl->tracker->set_geo(impl->geo.get());
  impl->ingest = std::make_unique<flux::Ingest>(*impl->tracker);
  if (impl->allow) {
    // Addresses answering an allowlisted name are a listed provider's servers (score.cpp).
    const flux::Allowlist* allow = &*impl->allow;
    impl->tracker->set_listed([allow](std::string_view n) { return allow->match(n).has_value(); });
  }
  flux::VerdictMemoryConfig mc;
  mc.ttl = std::chrono::duration_cast<Seconds>(v.duration("flux.verdict_ttl"));
  impl->memory = std::make_unique<flux::VerdictMemory>(mc);
  // Judge a name before it loses data (window pruning, eviction), under the tracker's lock.
  impl->tracker->set_drop_hook([raw](const std::string& name, const flux::NameState& s) {
    if (s.responses > 0) {
      raw->memory->record(
          flux::judge_latest(name, s, *raw->tracker, raw->allow ? &*raw->allow : nullptr));
    }
  });
  if (v.boolean("flux.shared")) {
    auto shared = open_shared(v, tc);
    if (!shared) {
      return tl::unexpected(shared.error());
    }
    impl->shared = std::move(*shared);
  }
  impl->rpz_path = v.str("flux.rpz_path");
  impl->rpz_origin = v.str("flux.rpz_origin");
  impl->rpz_ip = v.boolean("flux.rpz_ip");
  impl->interval =
      std::max(Seconds(1), std::chrono::duration_cast<Seconds>(v.duration("flux.rpz_interval")));
  if (!socket.empty()) {
    impl->listener = std::make_unique<io::DnstapListener>(socket, *impl->ingest, impl->lock);
    if (auto b = impl->listener->bind(); !b) {
      return tl::unexpected(b.error());
    }
  }
  if (!iface.empty()) {
    impl->live = std::make_unique<io::PcapLive>(iface, *impl->ingest, impl->lock);
    if (auto r = impl->live->open(); !r) {
      return tl::unexpected(r.error());
    }
  }
  if (!impl->geo_note.empty()) {
    spdlog::info("flux: {}", impl->geo_note);
  }
  auto next = std::chrono::steady_clock::now() + impl->interval;
  auto tick = [raw, next]() mutable {
    if (std::chrono::steady_clock::now() >= next) {
      next += raw->interval;
      raw->publish();
    }
  };
  impl->listen_thread = std::thread([raw, tick]() mutable {
    const auto forever = std::chrono::steady_clock::time_point::max();
    if (raw->listener) {
      if (auto r = raw->listener->run(raw->stop, forever, tick); !r) {
        spdlog::error("flux: dnstap: {}", r.error().message);
      }
      return;
    }
    while (!raw->stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      tick();
    }
  });
  if (impl->live) {
    impl->capture_thread = std::thread([raw] {
      if (auto r = raw->live->run(raw->stop, std::chrono::steady_clock::time_point::max()); !r) {
        spdlog::error("flux: capture: {}", r.error().message);
      }
    });
  }
  spdlog::info("flux: collecting{}{}{}{}, rpz {} every {}s", socket.empty() ? "" : " dnstap on ",
               socket, iface.empty() ? "" : " capture on ", iface,
               impl->rpz_path.empty() ? "off" : impl->rpz_path, impl->interval.count());
  return std::unique_ptr<FluxService>(new FluxService(std::move(impl)));
}

FluxService::FluxService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FluxService::~FluxService() {
  impl_->stop = true;
  if (impl_->listen_thread.joinable()) {
    impl_->listen_thread.join();
  }
  if (impl_->capture_thread.joinable()) {
    impl_->capture_thread.join();
  }
  impl_->publish();
  spdlog::info("flux: stopped ({})", impl_->ingest->stats().summary());
}

namespace {

io::HttpResponse json_error(int status, std::string_view code, std::string_view message) {
  io::HttpResponse r;
  r.content_type = "application/json";
  r.status = status;
  r.body = "{\"error\":\"" + flux::json_escape(code) + "\",\"message\":\"" +
           flux::json_escape(message) + "\"}\n";
  return r;
}

}  // namespace

namespace {
constexpr std::string_view kFluxList = "/api/v1/flux";
constexpr std::string_view kFluxPrefix = "/api/v1/flux/";
}  // namespace

bool FluxService::routes(std::string_view path) {
  return path == kFluxList || path.starts_with(kFluxPrefix);
}

bool FluxService::is_open(const io::HttpRequest& req) {
  if ((req.method != "GET" && req.method != "HEAD") || !req.path.starts_with(kFluxPrefix)) {
    return false;
  }
  const std::string_view name = std::string_view(req.path).substr(kFluxPrefix.size());
  return !name.empty() && name.find('/') == std::string_view::npos;
}

io::HttpResponse FluxService::handle_http(const FluxService* service, const io::HttpRequest& req) {
  if (req.method != "GET" && req.method != "HEAD") {
    io::HttpResponse r = json_error(405, "method", "method not allowed");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  if (service == nullptr) {
    return json_error(503, "flux_off",
                      "flux detection is off: set [flux] dnstap_socket or interface");
  }
  if (req.path == kFluxList || req.path == kFluxPrefix) {
    return service->list(req);
  }
  std::string_view rest = std::string_view(req.path).substr(kFluxPrefix.size());
  constexpr std::string_view kSeries = "/series";
  const bool series = rest.ends_with(kSeries);
  if (series) {
    rest.remove_suffix(kSeries.size());
  }
  auto name = dns::canonical_name(rest);
  if (!name || name->empty()) {
    return json_error(400, "bad_name", "not a domain name");
  }
  return service->name(*name, series);
}

io::HttpResponse FluxService::list(const io::HttpRequest& req) const {
  std::size_t limit = 100;
  if (auto l = query_param(req.query, "limit")) {
    char* end = nullptr;
    const long n = std::strtol(l->c_str(), &end, 10);
    if (l->empty() || *end != '\0' || n < 1 || n > static_cast<long>(kMaxRanked)) {
      return json_error(400, "bad_limit", fmt::format("limit: a number from 1 to {}", kMaxRanked));
    }
    limit = static_cast<std::size_t>(n);
  }
  std::shared_ptr<const FluxView> view;
  {
    std::lock_guard<std::mutex> g(impl_->view_lock);
    view = impl_->view;
  }
  io::HttpResponse r;
  r.content_type = "application/json";
  r.body = fmt::format("{{\"total\":{},\"names\":[", view->ranked.size());
  for (std::size_t i = 0; i < view->ranked.size() && i < limit; ++i) {
    const Flagged& f = view->ranked[i];
    const auto net = view->network_of.find(f.name);
    r.body += fmt::format(
        "{}{{\"name\":\"{}\",\"score\":{},\"verdict\":\"{}\",\"last_seen\":{},"
        "\"network_size\":{},\"evidence\":{}}}",
        i == 0 ? "" : ",", flux::json_escape(f.name), f.score, f.current ? "flux" : "held",
        f.last_seen, net == view->network_of.end() ? 1 : view->networks[net->second].names.size(),
        f.evidence);
  }
  r.body += "]}\n";
  return r;
}

io::HttpResponse FluxService::name(const std::string& name, bool series) const {
  Impl& m = *impl_;
  const TimePoint now = std::chrono::time_point_cast<Seconds>(std::chrono::system_clock::now());
  io::HttpResponse r;
  r.content_type = "application/json";
  std::string body;  // a JSON object without its closing brace
  const auto shared_view = series ? std::nullopt : m.shared_view_of(name);
  {
    std::lock_guard<std::mutex> g(m.lock);
    const flux::NameState* s = m.tracker->find(name);
    if (s != nullptr && s->responses == 0) {
      s = nullptr;
    }
    if (series) {
      if (const auto* pts = m.churn.find(name); pts != nullptr) {
        r.body = flux::churn_json(name, *pts, m.churn.config().step) + "\n";
        return r;
      }
      if (s == nullptr) {
        return json_error(404, "not_found", "no churn history for " + name);
      }
      // Tracked but never flagged: its history rebuilt from the addresses' sightings, now.
      const auto v = flux::judge_latest(name, *s, *m.tracker, m.allow ? &*m.allow : nullptr);
      const Seconds step = m.churn.config().step;
      auto pts = flux::reconstruct(*s, now, step,
                                   static_cast<std::size_t>(m.tracker->config().window / step) + 1,
                                   m.tracker->config().window);
      pts.push_back(flux::point_of(v.features, *s, now));
      r.body =
          flux::churn_json(name, std::deque<flux::ChurnPoint>(pts.begin(), pts.end()), step) + "\n";
      return r;
    }
    const flux::HeldVerdict* held = m.memory->find(name, now);
    std::optional<std::string> held_json;
    if (held != nullptr) {
      held_json = flux::held_json(*m.memory, *held);
    }
    if (s != nullptr) {
      const auto v = shared_view ? flux::judge_latest(name, flux::merged_state(*s, *shared_view),
                                                      *m.tracker, m.allowlist())
                                 : flux::judge_latest(name, *s, *m.tracker, m.allowlist());
      body = flux::to_json(v, true, held_json ? &*held_json : nullptr);
    } else if (held_json) {
      body = "{\"name\":\"" + flux::json_escape(name) +
             "\",\"flux\":true,\"tracked\":false,\"held\":" + *held_json + "}";
    }
  }
  if (body.empty()) {
    if (auto hit = index()->match_host(name)) {
      body = "{\"name\":\"" + flux::json_escape(name) + "\",\"flux\":true,\"listed_as\":\"" +
             flux::json_escape(hit->name) + "\",\"score\":" + std::to_string(hit->score) +
             ",\"last_seen_fluxing\":" + std::to_string(hit->last_flux) + "}";
    }
  }
  if (body.empty()) {
    r.status = 404;
    r.body = "{\"name\":\"" + flux::json_escape(name) + "\",\"flux\":false,\"tracked\":false}\n";
    return r;
  }
  body.pop_back();  // the closing brace: "network" and "rpz" follow
  r.body = body + extra_json(name) + "}\n";
  return r;
}

// ,"network":{"names":[...],"agents":N}|null,"rpz":"lines"|null
std::string FluxService::extra_json(const std::string& name) const {
  std::shared_ptr<const FluxView> view;
  {
    std::lock_guard<std::mutex> g(impl_->view_lock);
    view = impl_->view;
  }
  // The other names of its network, most shared agents first.
  std::vector<std::pair<std::size_t, const std::string*>> others;
  if (auto it = view->network_of.find(name); it != view->network_of.end()) {
    const auto mine = view->agents_of.find(name);
    for (const std::string& o : view->networks[it->second].names) {
      const auto theirs = view->agents_of.find(o);
      if (o != name && mine != view->agents_of.end() && theirs != view->agents_of.end()) {
        others.emplace_back(shared_count(mine->second, theirs->second), &o);
      }
    }
    std::stable_sort(others.begin(), others.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
  }
  std::string out = ",\"network\":[";
  for (std::size_t i = 0; i < others.size() && i < kMaxNetworkNames; ++i) {
    out += fmt::format("{}{{\"name\":\"{}\",\"shared\":{}}}", i == 0 ? "" : ",",
                       flux::json_escape(*others[i].second), others[i].first);
  }
  out += fmt::format("],\"network_size\":{}", others.empty() ? 1 : others.size() + 1);
  out += ",\"rpz\":";
  std::string rules;
  if (std::binary_search(view->rpz_names.begin(), view->rpz_names.end(), name)) {
    flux::RpzOptions ro;
    ro.origin = impl_->rpz_origin;
    rules = flux::rpz_name_rules(name, ro);
  }
  if (rules.empty()) {
    out += "null";
  } else {
    rules.pop_back();  // the last newline
    out += "\"" + flux::json_escape(rules) + "\",\"rpz_origin\":\"" +
           flux::json_escape(impl_->rpz_origin) + "\"";
  }
  return out;
}

FluxService::Stats FluxService::stats() const {
  Stats st;
  {
    std::lock_guard<std::mutex> g(impl_->lock);
    st.names_tracked = impl_->tracker->size();
    st.addresses_tracked = impl_->tracker->total_ips();
    st.observations = impl_->tracker->stats().observations;
    st.churn_names = impl_->churn.size();
  }
  const auto idx = index();
  st.flagged = idx->names();
  st.agents = idx->agents();
  st.flagged_total = impl_->flagged_total.load(std::memory_order_relaxed);
  st.shared = impl_->shared != nullptr;
  st.shared_published = impl_->shared_published.load(std::memory_order_relaxed);
  st.shared_read = impl_->shared_read.load(std::memory_order_relaxed);
  st.shared_failures = impl_->shared_failures.load(std::memory_order_relaxed);
  return st;
}

std::shared_ptr<const flux::FluxIndex> FluxService::index() const {
  std::lock_guard<std::mutex> g(impl_->index_lock);
  return impl_->index;
}

void FluxService::set_history(HistoryService* h) { impl_->history_sink = h; }

}  // namespace gf::app
