#include "app/flux_service.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "app/paths.hpp"
#include "core/dns/message.hpp"
#include "core/flux/allowlist.hpp"
#include "core/flux/ingest.hpp"
#include "core/flux/rpz.hpp"
#include "core/flux/score.hpp"
#include "core/flux/verdicts.hpp"
#include "io/capture/dnstap_socket.hpp"
#include "io/capture/pcap_live.hpp"
#include "io/dns/psl.hpp"
#include "io/flux/mmdb_asn.hpp"
#include "io/sys/file.hpp"

namespace gf::app {

struct FluxService::Impl {
  std::unique_ptr<flux::AsnSource> asn;
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

  // Judges every name on its latest window (recording flux verdicts in `memory`), rewrites the
  // RPZ with the flagged and the held names, swaps the index. Caller holds no lock.
  void publish() {
    const TimePoint now = std::chrono::time_point_cast<Seconds>(std::chrono::system_clock::now());
    auto idx = std::make_shared<flux::FluxIndex>();
    flux::RpzContent rpz;
    std::size_t names = 0;
    {
      std::lock_guard<std::mutex> g(lock);
      flux::judge_and_hold(
          *tracker, *memory, allow ? &*allow : nullptr, now,
          [](const flux::Verdict& v) -> const flux::ScoreResult& { return v.composite; },
          [&](flux::Verdict v) {
            ++names;
            if (v.flux() && memory->find(v.features.name, now) != nullptr) {
              idx->add(v);
              rpz.agent_ips.insert(rpz.agent_ips.end(), v.features.addresses.begin(),
                                   v.features.addresses.end());
            }
          });
      memory->for_each(
          now, [&](const std::string& name, const flux::HeldVerdict& h) { idx->add(name, h); });
      flux::RpzContent held = flux::held_content(*memory, now);
      rpz.names = std::move(held.names);
      rpz.agent_ips.insert(rpz.agent_ips.end(), held.agent_ips.begin(), held.agent_ips.end());
    }
    rpz.normalise();
    {
      std::lock_guard<std::mutex> g(index_lock);
      index = idx;
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

io::HttpResponse FluxService::handle_http(const FluxService* service, const io::HttpRequest& req) {
  io::HttpResponse r;
  r.content_type = "application/json";
  auto error = [&](int status, std::string_view what) {
    r.status = status;
    r.body = "{\"error\":\"" + flux::json_escape(what) + "\"}\n";
    return r;
  };
  if (req.method != "GET" && req.method != "HEAD") {
    r.headers.emplace_back("Allow", "GET, HEAD");
    return error(405, "method not allowed");
  }
  if (service == nullptr) {
    return error(503, "flux detection is off: set [flux] dnstap_socket or interface");
  }
  constexpr std::string_view kPrefix = "/api/v1/flux/";
  auto name = dns::canonical_name(std::string_view(req.path).substr(kPrefix.size()));
  if (!name || name->empty()) {
    return error(400, "not a domain name");
  }
  Impl& m = *service->impl_;
  const TimePoint now = std::chrono::time_point_cast<Seconds>(std::chrono::system_clock::now());
  {
    std::lock_guard<std::mutex> g(m.lock);
    const flux::HeldVerdict* held = m.memory->find(*name, now);
    std::optional<std::string> held_json;
    if (held != nullptr) {
      held_json = flux::held_json(*m.memory, *held);
    }
    if (const flux::NameState* s = m.tracker->find(*name); s != nullptr && s->responses > 0) {
      const auto v = flux::judge_latest(*name, *s, *m.tracker, m.allow ? &*m.allow : nullptr);
      r.body = flux::to_json(v, true, held_json ? &*held_json : nullptr) + "\n";
      return r;
    }
    if (held_json) {
      r.body = "{\"name\":\"" + flux::json_escape(*name) +
               "\",\"flux\":true,\"tracked\":false,\"held\":" + *held_json + "}\n";
      return r;
    }
  }
  if (auto hit = service->index()->match_host(*name)) {
    r.body = "{\"name\":\"" + flux::json_escape(*name) + "\",\"flux\":true,\"listed_as\":\"" +
             flux::json_escape(hit->name) + "\",\"score\":" + std::to_string(hit->score) +
             ",\"last_seen_fluxing\":" + std::to_string(hit->last_flux) + "}\n";
    return r;
  }
  r.status = 404;
  r.body = "{\"name\":\"" + flux::json_escape(*name) + "\",\"flux\":false,\"tracked\":false}\n";
  return r;
}

std::shared_ptr<const flux::FluxIndex> FluxService::index() const {
  std::lock_guard<std::mutex> g(impl_->index_lock);
  return impl_->index;
}

}  // namespace gf::app
