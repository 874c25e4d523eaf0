#include "app/flux_service.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "core/dns/message.hpp"
#include "core/flux/allowlist.hpp"
#include "core/flux/ingest.hpp"
#include "core/flux/rpz.hpp"
#include "core/flux/score.hpp"
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
  std::mutex lock;  // tracker and ingest
  std::unique_ptr<io::DnstapListener> listener;
  std::unique_ptr<io::PcapLive> live;
  std::atomic<bool> stop{false};
  std::thread listen_thread, capture_thread;
  std::string rpz_path, rpz_origin;
  bool rpz_ip = false;
  Seconds interval{60};
  mutable std::mutex index_lock;
  std::shared_ptr<const flux::FluxIndex> index = std::make_shared<flux::FluxIndex>();

  // Judges every name, rewrites the RPZ, swaps the index. Caller holds no lock.
  void publish() {
    const TimePoint now = std::chrono::time_point_cast<Seconds>(std::chrono::system_clock::now());
    auto idx = std::make_shared<flux::FluxIndex>();
    flux::RpzContent rpz;
    std::size_t names = 0;
    {
      std::lock_guard<std::mutex> g(lock);
      tracker->for_each([&](const std::string& name, const flux::NameState& s) {
        if (s.responses == 0) {
          return;
        }
        ++names;
        const auto v =
            flux::judge(flux::features(name, s, now, *tracker, allow ? &*allow : nullptr));
        if (v.flux()) {
          idx->add(v);
          rpz.names.push_back(v.features.name);
          rpz.agent_ips.insert(rpz.agent_ips.end(), v.features.addresses.begin(),
                               v.features.addresses.end());
        }
      });
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
  if (const std::string& p = v.str("flux.allowlist"); !p.empty()) {
    if (auto text = io::read_file(p)) {
      impl->allow = *flux::Allowlist::parse(*text);
    } else {
      spdlog::warn("flux: {} (no allowlist)", text.error().message);
    }
  }
  flux::TrackerConfig tc;
  tc.window = std::chrono::duration_cast<Seconds>(v.duration("flux.window"));
  tc.idle_evict = std::chrono::duration_cast<Seconds>(v.duration("flux.idle_evict"));
  tc.max_names = static_cast<std::size_t>(std::max<std::int64_t>(1, v.integer("flux.max_names")));
  Impl* raw = impl.get();
  impl->tracker = std::make_unique<flux::Tracker>(
      tc, impl->asn.get(), [raw](std::string_view n) { return raw->psl.registrable_domain(n); });
  impl->ingest = std::make_unique<flux::Ingest>(*impl->tracker);
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
    if (const flux::NameState* s = m.tracker->find(*name); s != nullptr && s->responses > 0) {
      const auto v =
          flux::judge(flux::features(*name, *s, now, *m.tracker, m.allow ? &*m.allow : nullptr));
      r.body = flux::to_json(v, true) + "\n";
      return r;
    }
  }
  if (auto hit = service->index()->match_host(*name)) {
    r.body = "{\"name\":\"" + flux::json_escape(*name) + "\",\"flux\":true,\"listed_as\":\"" +
             flux::json_escape(hit->name) + "\",\"score\":" + std::to_string(hit->score) + "}\n";
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
