#include "app/flux_cli.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include "app/config.hpp"
#include "app/paths.hpp"
#include "core/flux/allowlist.hpp"
#include "core/flux/ingest.hpp"
#include "core/flux/networks.hpp"
#include "core/flux/rpz.hpp"
#include "core/flux/score.hpp"
#include "core/flux/verdicts.hpp"
#include "io/capture/capture.hpp"
#include "io/capture/dnstap_socket.hpp"
#include "io/capture/pcap_live.hpp"
#include "io/dns/psl.hpp"
#include "io/flux/active_check.hpp"
#include "io/flux/geoip_country.hpp"
#include "io/flux/mmdb_asn.hpp"
#include "io/sys/file.hpp"

namespace gf::app {
namespace {

bool file_exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

std::uint64_t file_size(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

// A progress bar on standard error for big inputs, only on a terminal.
class ProgressBar {
 public:
  ProgressBar(std::string label, bool enabled) : label_(std::move(label)), enabled_(enabled) {}
  ~ProgressBar() {
    if (drawn_) {
      std::fputs("\r\033[K", stderr);
    }
  }
  void update(std::uint64_t done, std::uint64_t total) {
    if (!enabled_ || total == 0) {
      return;
    }
    const int pct = static_cast<int>(std::min<std::uint64_t>(100, done * 100 / total));
    if (pct == last_) {
      return;
    }
    last_ = pct;
    drawn_ = true;
    const int w = 30;
    const int fill = pct * w / 100;
    std::fprintf(stderr, "\r[%s%s] %3d%% %s",
                 std::string(static_cast<std::size_t>(fill), '#').c_str(),
                 std::string(static_cast<std::size_t>(w - fill), '.').c_str(), pct, label_.c_str());
    std::fflush(stderr);
  }

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  int last_ = -1;
};

const flux::ScoreResult& pick(const flux::Verdict& v, const std::string& scorer) {
  return scorer == "holz" ? v.holz : scorer == "nazario" ? v.nazario : v.composite;
}

struct Context {
  Values values;
  std::unique_ptr<flux::AsnSource> asn;
  std::unique_ptr<flux::AsnSource> geo;  // countries only, when there is no ASN data
  std::optional<flux::Allowlist> allow;
  std::unique_ptr<io::PublicSuffixList> psl;
  std::unique_ptr<flux::Tracker> tracker;
  std::unique_ptr<flux::Ingest> ingest;
  std::unique_ptr<flux::VerdictMemory> memory;
  std::vector<std::string> notes;
};

Result<std::unique_ptr<Context>> make_context(const FluxCli::Options& o) {
  auto ctx = std::make_unique<Context>();
  if (file_exists(o.config)) {
    auto v = load_config(o.config, o.overrides);
    if (!v) {
      return tl::unexpected(v.error());
    }
    ctx->values = std::move(*v);
  }
  const std::string asn_path = o.asn.empty() ? ctx->values.str("flux.asn_db") : o.asn;
  if (!asn_path.empty()) {
    auto a = io::open_asn_source(asn_path);
    if (!a) {
      return tl::unexpected(a.error());
    }
    ctx->asn = std::move(*a);
    ctx->notes.push_back("asn: " + ctx->asn->describe());
  } else {
    ctx->notes.push_back("asn: none (/16 networks stand in; verdicts are approximate)");
    std::string note;
    const std::string geo_path = o.geoip.empty()     ? ctx->values.str("flux.geoip_db")
                                 : o.geoip == "none" ? std::string()
                                                     : o.geoip;
    auto g = io::open_geo_source(geo_path, note);
    if (!g) {
      return tl::unexpected(g.error());
    }
    ctx->geo = std::move(*g);
    ctx->notes.push_back(note);
  }
  std::string allow_path = o.allowlist;
  if (allow_path.empty()) {
    auto configured =
        data_file(ctx->values, "flux.allowlist", "greyflux flux (without --allowlist)");
    if (!configured) {
      return tl::unexpected(configured.error());
    }
    allow_path = *configured;
  }
  if (!allow_path.empty() && allow_path != "none") {
    // A configured allowlist exists (load_config checks it); one that cannot be read is an
    // error, never a silent "none" (the NTP pool would be flagged as fast flux).
    auto text = io::read_file(allow_path);
    if (!text) {
      return tl::unexpected(text.error());
    }
    auto a = flux::Allowlist::parse(*text);
    if (!a) {
      return fail(Errc::Config, fmt::format("allowlist {}: {}", allow_path, a.error().message));
    }
    ctx->notes.push_back(fmt::format("allowlist: {} ({} suffixes)", allow_path, a->size()));
    ctx->allow = std::move(*a);
  }
  ctx->psl = std::make_unique<io::PublicSuffixList>();
  flux::TrackerConfig tc;
  tc.window = std::chrono::duration_cast<Seconds>(ctx->values.duration("flux.window"));
  tc.idle_evict = std::chrono::duration_cast<Seconds>(ctx->values.duration("flux.idle_evict"));
  tc.max_names =
      static_cast<std::size_t>(std::max<std::int64_t>(1, ctx->values.integer("flux.max_names")));
  const io::PublicSuffixList* psl = ctx->psl.get();
  ctx->tracker = std::make_unique<flux::Tracker>(
      tc, ctx->asn.get(), [psl](std::string_view n) { return psl->registrable_domain(n); });
  ctx->tracker->set_geo(ctx->geo.get());
  ctx->ingest = std::make_unique<flux::Ingest>(*ctx->tracker);
  if (ctx->allow) {
    // Addresses answering an allowlisted name are a listed provider's servers (score.cpp).
    const flux::Allowlist* allow = &*ctx->allow;
    ctx->tracker->set_listed([allow](std::string_view n) { return allow->match(n).has_value(); });
  }
  flux::VerdictMemoryConfig mc;
  mc.ttl = std::chrono::duration_cast<Seconds>(ctx->values.duration("flux.verdict_ttl"));
  ctx->memory = std::make_unique<flux::VerdictMemory>(mc);
  // A name about to lose data (window pruning, eviction in a long capture) is judged on the
  // window ending at its last answer, and a flux verdict is held.
  Context* raw = ctx.get();
  const std::string scorer = o.scorer;
  ctx->tracker->set_drop_hook([raw, scorer](const std::string& name, const flux::NameState& s) {
    if (s.responses > 0) {
      const auto v =
          flux::judge_latest(name, s, *raw->tracker, raw->allow ? &*raw->allow : nullptr);
      raw->memory->record(v, pick(v, scorer));
    }
  });
  return ctx;
}

struct Judged {
  std::vector<flux::Verdict> verdicts;  // ranked by the chosen scorer
  std::size_t n_comp = 0, n_holz = 0, n_naz = 0;
  std::vector<flux::NamedAddresses> flagged;
  flux::RpzContent rpz;
  // Held verdicts of names the tracker no longer has (evicted during a long capture).
  std::vector<std::pair<std::string, const flux::HeldVerdict*>> held_only;
};

// Every tracked name judged on its own latest window (the one ending at its last answer,
// whatever came after it), plus the verdicts held in ctx.memory (names that fluxed earlier and
// were evicted or have gone quiet), expired at `now`.
Judged judge_all(Context& ctx, const FluxCli::Options& o, TimePoint now) {
  Judged j;
  j.verdicts.reserve(ctx.tracker->size());
  const flux::Allowlist* allow = ctx.allow ? &*ctx.allow : nullptr;
  flux::judge_and_hold(
      *ctx.tracker, *ctx.memory, allow, now,
      [&](const flux::Verdict& v) -> const flux::ScoreResult& { return pick(v, o.scorer); },
      [&](flux::Verdict v) { j.verdicts.push_back(std::move(v)); });
  std::sort(j.verdicts.begin(), j.verdicts.end(),
            [&](const flux::Verdict& a, const flux::Verdict& b) {
              const auto& sa = pick(a, o.scorer);
              const auto& sb = pick(b, o.scorer);
              if (sa.score != sb.score) {
                return sa.score > sb.score;
              }
              return a.features.name < b.features.name;
            });
  for (const auto& v : j.verdicts) {
    j.n_comp += v.composite.flux;
    j.n_holz += v.holz.flux;
    j.n_naz += v.nazario.flux;
    if (pick(v, o.scorer).flux) {
      j.flagged.push_back({v.features.name, v.features.addresses});
    }
    // The outputs list what is held at `now` (a verdict older than verdict_ttl has expired).
    if (pick(v, o.scorer).flux && ctx.memory->find(v.features.name, now) != nullptr) {
      j.rpz.agent_ips.insert(j.rpz.agent_ips.end(), v.features.addresses.begin(),
                             v.features.addresses.end());
    }
  }
  flux::RpzContent held = flux::held_content(*ctx.memory, now);
  j.rpz.names = std::move(held.names);
  j.rpz.agent_ips.insert(j.rpz.agent_ips.end(), held.agent_ips.begin(), held.agent_ips.end());
  j.rpz.nsdnames = std::move(held.nsdnames);
  ctx.memory->for_each(now, [&](const std::string& name, const flux::HeldVerdict& h) {
    if (ctx.tracker->find(name) == nullptr) {
      j.held_only.push_back({name, &h});
    }
  });
  std::sort(j.held_only.begin(), j.held_only.end());
  j.rpz.normalise();
  return j;
}

// Writes the RPZ and rbldnsd files that were asked for; false (with a message) on failure.
bool write_outputs(Context& ctx, const FluxCli::Options& o, const Judged& j, bool note) {
  if (!o.rpz.empty()) {
    std::optional<std::uint32_t> previous;
    if (auto old = io::read_file(o.rpz)) {
      if (auto parsed = flux::parse_rpz(*old)) {
        previous = parsed->serial;
      }
    }
    flux::RpzOptions ro;
    ro.origin = o.rpz_origin.empty() ? ctx.values.str("flux.rpz_origin") : o.rpz_origin;
    ro.serial = flux::next_serial(
        previous, std::chrono::time_point_cast<Seconds>(std::chrono::system_clock::now()));
    ro.rpz_ip = o.rpz_ip;
    ro.rpz_nsdname = o.rpz_nsdname;
    ro.wildcard = !o.no_wildcard;
    flux::RpzWriteStats ws;
    if (auto w = io::write_file_atomic(o.rpz, flux::write_rpz(j.rpz, ro, &ws)); !w) {
      std::fprintf(stderr, "%s\n", w.error().message.c_str());
      return false;
    }
    if (note) {
      ctx.notes.push_back(
          fmt::format("rpz: {} serial {} ({} names, {} rpz-ip, {} rpz-nsdname, {} skipped)", o.rpz,
                      ro.serial, ws.names, ws.ips, ws.nsdnames, ws.skipped));
    }
  }
  if (!o.dnset.empty()) {
    if (auto w = io::write_file_atomic(
            o.dnset, flux::write_rbldnsd_dnset(j.rpz.names, "Fast-flux name (greyflux)"));
        !w) {
      std::fprintf(stderr, "%s\n", w.error().message.c_str());
      return false;
    }
  }
  if (!o.ip4set.empty()) {
    std::size_t v6 = 0;
    if (auto w = io::write_file_atomic(
            o.ip4set,
            flux::write_rbldnsd_ip4set(j.rpz.agent_ips, "Fast-flux agent (greyflux)", &v6));
        !w) {
      std::fprintf(stderr, "%s\n", w.error().message.c_str());
      return false;
    }
  }
  return true;
}

int report(Context& ctx, const FluxCli::Options& o, TimePoint now, const std::string& inputs_json) {
  Judged j = judge_all(ctx, o, now);
  const auto& verdicts = j.verdicts;
  const std::size_t n_comp = j.n_comp, n_holz = j.n_holz, n_naz = j.n_naz;
  const auto networks = flux::cluster_networks(j.flagged, o.min_shared);
  if (!write_outputs(ctx, o, j, true)) {
    return 1;
  }

  const auto& st = ctx.ingest->stats();
  // Every name the chosen scorer flags is listed (they rank first), then the top benign ones.
  const std::size_t n_chosen = o.scorer == "holz" ? n_holz : o.scorer == "nazario" ? n_naz : n_comp;
  const std::size_t shown =
      o.all ? verdicts.size() : std::min(verdicts.size(), std::max(o.top, n_chosen));
  if (o.json) {
    std::string out = fmt::format(
        R"({{"inputs":{},"ingest":{{"frames":{},"messages":{},"responses":{},"observations":{},)"
        R"("parse_errors":{},"bad_records":{},"fragments":{},"truncated":{},"tc":{}}},)"
        R"("names":{},"flagged":{{"composite":{},"holz":{},"nazario":{}}},"scorer":"{}","verdicts":[)",
        inputs_json, st.frames, st.messages, st.responses, st.observations, st.parse_error_total(),
        st.bad_records, st.packet_status[static_cast<int>(dns::PacketStatus::Fragment)],
        st.packet_status[static_cast<int>(dns::PacketStatus::Truncated)], st.tc_responses,
        verdicts.size(), n_comp, n_holz, n_naz, o.scorer);
    for (std::size_t i = 0; i < shown; ++i) {
      const flux::HeldVerdict* h = ctx.memory->find(verdicts[i].features.name, now);
      const std::string held = h ? flux::held_json(*ctx.memory, *h) : std::string();
      out += (i ? "," : "") + flux::to_json(verdicts[i], true, h ? &held : nullptr);
    }
    out += "],\"held_untracked\":[";
    for (std::size_t i = 0; i < j.held_only.size(); ++i) {
      out += fmt::format(R"({}{{"name":"{}","flux":true,"held":{}}})", i ? "," : "",
                         flux::json_escape(j.held_only[i].first),
                         flux::held_json(*ctx.memory, *j.held_only[i].second));
    }
    out += "],\"networks\":[";
    for (std::size_t i = 0; i < networks.size(); ++i) {
      std::string names, agents;
      for (const auto& n : networks[i].names) {
        names += (names.empty() ? "\"" : ",\"") + flux::json_escape(n) + "\"";
      }
      for (const auto& a : networks[i].agents) {
        agents += (agents.empty() ? "\"" : ",\"") + to_string(a) + "\"";
      }
      out += fmt::format(R"({}{{"names":[{}],"agents":[{}]}})", i ? "," : "", names, agents);
    }
    out += "]}\n";
    std::fputs(out.c_str(), stdout);
    return 0;
  }
  for (const auto& n : ctx.notes) {
    std::printf("# %s\n", n.c_str());
  }
  std::printf("# ingest: %s\n", st.summary().c_str());
  std::printf("# %zu names; flagged: composite %zu, holz %zu, nazario %zu; %zu flux networks\n",
              verdicts.size(), n_comp, n_holz, n_naz, networks.size());
  std::printf("# held verdicts (flux.verdict_ttl %llds): %zu names listed, %zu no longer tracked\n",
              static_cast<long long>(ctx.memory->config().ttl.count()), j.rpz.names.size(),
              j.held_only.size());
  if (o.explain) {
    for (std::size_t i = 0; i < shown; ++i) {
      std::printf("%s\n", flux::to_text_line(verdicts[i]).c_str());
    }
  } else {
    std::printf("%-7s %6s %8s %3s %5s %5s %5s %6s %6s %s\n", "VERDICT", "SCORE", "HOLZ", "NAZ",
                "ASNS", "IPS", "/24", "TTL", "GROWTH", "NAME");
  }
  for (std::size_t i = 0; i < shown && !o.explain; ++i) {
    const auto& v = verdicts[i];
    const auto& f = v.features;
    const bool held = ctx.memory->find(f.name, now) != nullptr;
    std::printf("%-7s %6.1f %7.1f%s %2.0f%s %4u%s %5u %5u %6u %6.2f %s%s\n",
                pick(v, o.scorer).flux ? "FLUX"
                : held                 ? "HELD"
                                       : "benign",
                v.composite.score, v.holz.score, v.holz.flux ? "!" : " ", v.nazario.score,
                v.nazario.flux ? "!" : " ", f.asns, f.asn_approximate ? "~" : " ", f.unique_ips,
                f.v4_slash24 + f.v6_slash48, f.ttl_median_s, f.ip_growth, f.name.c_str(),
                f.allowlisted ? (" (allowlisted: " + f.allowlisted->suffix + ")").c_str() : "");
  }
  if (shown < verdicts.size()) {
    std::printf("# %zu more benign names (--all shows them)\n", verdicts.size() - shown);
  }
  for (const auto& [name, h] : j.held_only) {
    std::printf("HELD    %6.1f  last seen fluxing %u, %zu agents: %s\n", h->score, h->last_flux_s,
                h->agents.size(), name.c_str());
  }
  std::size_t shown_nets = 0;
  for (const auto& net : networks) {
    if (shown_nets++ == 10) {
      std::printf("# ... %zu more networks (--json lists all)\n", networks.size() - 10);
      break;
    }
    std::printf("# network %zu: %zu names, %zu agents: %s%s\n", shown_nets, net.names.size(),
                net.agents.size(), net.names.front().c_str(), net.names.size() > 1 ? ", ..." : "");
  }
  return 0;
}

std::string inputs_json(const std::vector<std::pair<std::string, std::string>>& in) {
  std::string out = "[";
  for (std::size_t i = 0; i < in.size(); ++i) {
    out += fmt::format(R"({}{{"input":"{}","format":"{}"}})", i ? "," : "",
                       flux::json_escape(in[i].first), in[i].second);
  }
  return out + "]";
}

int run_scan(const FluxCli::Options& o) {
  auto ctx = make_context(o);
  if (!ctx) {
    std::fprintf(stderr, "%s\n", ctx.error().message.c_str());
    return 1;
  }
  std::vector<std::pair<std::string, std::string>> inputs;
  const bool tty = o.progress && ::isatty(2) == 1;
  for (std::size_t i = 0; i < o.inputs.size(); ++i) {
    const std::string& path = o.inputs[i];
    ProgressBar bar(path, tty && file_size(path) > (8u << 20));
    auto r = io::read_capture(path, *(*ctx)->ingest, static_cast<std::uint32_t>(i),
                              [&](std::uint64_t d, std::uint64_t t) { bar.update(d, t); });
    if (!r) {
      std::fprintf(stderr, "%s\n", r.error().message.c_str());
      return 1;
    }
    inputs.emplace_back(path, std::string(io::to_string(*r)));
  }
  // The window ends at the newest record of the inputs, not at the wall clock.
  std::uint32_t newest = 0;
  (*ctx)->tracker->for_each([&](const std::string&, const flux::NameState& s) {
    newest = std::max(newest, s.last_seen_s);
  });
  return report(**ctx, o, from_unix(newest), inputs_json(inputs));
}

int run_check(const FluxCli::Options& o) {
  auto ctx = make_context(o);
  if (!ctx) {
    std::fprintf(stderr, "%s\n", ctx.error().message.c_str());
    return 1;
  }
  io::CheckOptions co;
  co.forwarder = o.resolver.empty() ? (*ctx)->values.str("flux.resolver") : o.resolver;
  co.rounds =
      o.rounds > 0 ? o.rounds : static_cast<int>((*ctx)->values.integer("flux.check_rounds"));
  co.max_wait = std::chrono::duration_cast<Seconds>((*ctx)->values.duration("flux.check_max_wait"));
  if (!o.max_wait.empty()) {
    auto d = parse_duration(o.max_wait);
    if (!d) {
      std::fprintf(stderr, "--max-wait: %s\n", d.error().message.c_str());
      return 1;
    }
    co.max_wait = std::chrono::duration_cast<Seconds>(*d);
  }
  const io::PublicSuffixList* psl = (*ctx)->psl.get();
  co.registrable = [psl](std::string_view n) { return psl->registrable_domain(n); };
  std::vector<std::string> names;
  for (const auto& n : o.inputs) {
    auto c = dns::canonical_name(n);
    if (!c || c->empty()) {
      std::fprintf(stderr, "'%s' is not a domain name\n", n.c_str());
      return 2;
    }
    names.push_back(*c);
  }
  const bool tty = o.progress && ::isatty(2) == 1;
  co.progress = [tty](int round, int rounds, const std::string& what) {
    if (tty) {
      std::fprintf(stderr, "\r\033[K[round %d/%d] %s", round, rounds, what.c_str());
      std::fflush(stderr);
    }
  };
  auto st = io::active_check(names, *(*ctx)->ingest, co);
  if (tty) {
    std::fputs("\r\033[K", stderr);
  }
  if (!st) {
    std::fprintf(stderr, "%s\n", st.error().message.c_str());
    return 1;
  }
  (*ctx)->notes.push_back(fmt::format("check: {} rounds via {}, {} lookups, {} failed, waited {}s",
                                      co.rounds,
                                      co.forwarder.empty() ? "full recursion" : co.forwarder,
                                      st->lookups, st->failures, st->waited.count()));
  std::vector<std::pair<std::string, std::string>> inputs;
  for (const auto& n : names) {
    inputs.emplace_back(n, "active");
  }
  return report(**ctx, o, std::chrono::time_point_cast<Seconds>(std::chrono::system_clock::now()),
                inputs_json(inputs));
}

std::atomic<bool> g_stop_listen{false};
extern "C" void on_stop_signal(int) { g_stop_listen = true; }

TimePoint wall_now() {
  return std::chrono::time_point_cast<Seconds>(std::chrono::system_clock::now());
}

int run_listen(const FluxCli::Options& o) {
  auto ctx = make_context(o);
  if (!ctx) {
    std::fprintf(stderr, "%s\n", ctx.error().message.c_str());
    return 1;
  }
  Seconds every{60};
  auto deadline = std::chrono::steady_clock::time_point::max();
  if (!o.duration.empty()) {
    auto d = parse_duration(o.duration);
    if (!d) {
      std::fprintf(stderr, "--duration: %s\n", d.error().message.c_str());
      return 2;
    }
    deadline = std::chrono::steady_clock::now() + *d;
  }
  if (!o.rpz_interval.empty()) {
    auto d = parse_duration(o.rpz_interval);
    if (!d || *d < std::chrono::seconds(1)) {
      std::fprintf(stderr, "--rpz-interval: at least 1s\n");
      return 2;
    }
    every = std::chrono::duration_cast<Seconds>(*d);
  }
  if (o.dnstap_socket.empty() && o.interface.empty()) {
    std::fprintf(stderr, "flux listen: give --dnstap-socket PATH and/or --interface IFACE\n");
    return 2;
  }
  std::mutex lock;
  std::unique_ptr<io::DnstapListener> listener;
  if (!o.dnstap_socket.empty()) {
    listener = std::make_unique<io::DnstapListener>(o.dnstap_socket, *(*ctx)->ingest, lock);
    if (auto b = listener->bind(); !b) {
      std::fprintf(stderr, "%s\n", b.error().message.c_str());
      return 1;
    }
  }
  std::unique_ptr<io::PcapLive> live;
  if (!o.interface.empty()) {
    live = std::make_unique<io::PcapLive>(o.interface, *(*ctx)->ingest, lock);
    (*ctx)->ingest->set_dns_port(o.dns_port);
    if (auto r = live->open("port " + std::to_string(o.dns_port)); !r) {
      std::fprintf(stderr, "%s\n", r.error().message.c_str());
      return 1;
    }
  }
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  std::fprintf(stderr, "listening:%s%s%s%s\n", listener ? " dnstap on " : "",
               o.dnstap_socket.c_str(), live ? " capture on " : "", o.interface.c_str());
  auto next_write = std::chrono::steady_clock::now() + every;
  bool write_failed = false;
  // Rewrite the RPZ (and rbldnsd files) while data streams in: the daemon-style use.
  auto tick = [&] {
    if (std::chrono::steady_clock::now() < next_write || write_failed) {
      return;
    }
    next_write += every;
    std::lock_guard<std::mutex> g(lock);
    write_failed = !write_outputs(**ctx, o, judge_all(**ctx, o, wall_now()), false);
  };
  Result<io::LiveStats> live_st = io::LiveStats{};
  std::thread capture;
  if (live) {
    capture = std::thread([&] { live_st = live->run(g_stop_listen, deadline); });
  }
  Result<io::DnstapListenStats> st = io::DnstapListenStats{};
  if (listener) {
    st = listener->run(g_stop_listen, deadline, tick);
  } else {
    while (!g_stop_listen.load() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      tick();
    }
  }
  g_stop_listen = true;
  if (capture.joinable()) {
    capture.join();
  }
  if (!st || !live_st) {
    std::fprintf(stderr, "%s\n", (!st ? st.error() : live_st.error()).message.c_str());
    return 1;
  }
  if (listener) {
    (*ctx)->notes.push_back(fmt::format("dnstap: {} connections, {} frames, {} undecodable",
                                        st->connections, st->frames, st->bad_frames));
  }
  if (live) {
    (*ctx)->notes.push_back(fmt::format("capture {}: {} packets received, {} dropped by the kernel",
                                        o.interface, live_st->received, live_st->dropped));
  }
  std::lock_guard<std::mutex> g(lock);
  std::vector<std::pair<std::string, std::string>> inputs;
  if (listener) {
    inputs.emplace_back(o.dnstap_socket, "dnstap-socket");
  }
  if (live) {
    inputs.emplace_back(o.interface, "live-capture");
  }
  return report(**ctx, o, wall_now(), inputs_json(inputs));
}

}  // namespace

FluxCli::FluxCli(CLI::App& app, std::string default_config)
    : default_config_(std::move(default_config)) {
  o_.config = default_config_;
  flux_ = app.add_subcommand("flux", "fast-flux detection: scan captures, check names");
  flux_->require_subcommand(1);
  auto common = [this](CLI::App* s) {
    s->add_option("--config,-c", o_.config, "config file (TOML); built-in defaults when absent")
        ->capture_default_str();
    s->add_option("--set", o_.overrides, "override a setting: section.key=value (repeatable)")
        ->allow_extra_args(false);
    s->add_flag("--json", o_.json, "machine-readable output");
    s->add_flag("--all", o_.all, "list every name, not only the top ones");
    s->add_flag("--explain", o_.explain, "one line per name with its features and fired rules");
    s->add_option("--top", o_.top, "names listed (flagged ones always are)")->capture_default_str();
    s->add_option("--asn", o_.asn, "ASN data: iptoasn TSV or .mmdb (overrides flux.asn_db)");
    s->add_option("--geoip", o_.geoip,
                  "country data without ASN data: GeoIP.dat (overrides flux.geoip_db; "
                  "\"none\" = off)");
    s->add_option("--allowlist", o_.allowlist, "allowlist file, or \"none\"");
    s->add_option("--scorer", o_.scorer, "verdict used for outputs: composite|holz|nazario")
        ->check(CLI::IsMember({"composite", "holz", "nazario"}))
        ->capture_default_str();
    s->add_option("--rpz", o_.rpz, "write a response policy zone here (atomically)");
    s->add_option("--rpz-origin", o_.rpz_origin, "RPZ origin (overrides flux.rpz_origin)");
    s->add_flag("--rpz-ip", o_.rpz_ip, "add rpz-ip rules for agent addresses");
    s->add_flag("--rpz-nsdname", o_.rpz_nsdname, "add rpz-nsdname rules for double-flux servers");
    s->add_flag("--no-wildcard", o_.no_wildcard, "no *.name rules in the RPZ");
    s->add_option("--dnset", o_.dnset, "write an rbldnsd dnset of flux names");
    s->add_option("--ip4set", o_.ip4set, "write an rbldnsd ip4set of agent addresses");
    s->add_option("--min-shared", o_.min_shared,
                  "shared agents that join two names into one network")
        ->capture_default_str();
    s->add_flag("!--no-progress", o_.progress, "no progress display");
  };
  scan_ = flux_->add_subcommand("scan", "read pcap, pcapng, dnstap or Zeek dns.log files");
  common(scan_);
  scan_->add_option("files", o_.inputs, "capture files")->required();
  check_ = flux_->add_subcommand("check", "resolve names repeatedly (libunbound) and judge them");
  common(check_);
  check_->add_option("names", o_.inputs, "domain names")->required();
  check_->add_option("--resolver", o_.resolver, "forward to ADDR[@PORT] (overrides flux.resolver)");
  check_->add_option("--rounds", o_.rounds, "lookups of each name (overrides flux.check_rounds)");
  check_->add_option("--max-wait", o_.max_wait, "longest wait between rounds, e.g. 30s");
  listen_ = flux_->add_subcommand(
      "listen", "collect dnstap from a unix socket and/or capture live until stopped");
  common(listen_);
  listen_->add_option("--dnstap-socket", o_.dnstap_socket, "unix socket to create for dnstap");
  listen_->add_option("--interface,-i", o_.interface,
                      "capture DNS live on this interface (needs CAP_NET_RAW)");
  listen_->add_option("--dns-port", o_.dns_port, "server port of the captured DNS traffic")
      ->capture_default_str();
  listen_->add_option("--duration", o_.duration, "stop after this long (default: SIGINT/SIGTERM)");
  listen_->add_option("--rpz-interval", o_.rpz_interval,
                      "rewrite the --rpz/--dnset/--ip4set outputs this often (default 60s)");
}

bool FluxCli::parsed() const { return flux_->parsed(); }

int FluxCli::run() {
  if (scan_->parsed()) {
    return run_scan(o_);
  }
  if (check_->parsed()) {
    return run_check(o_);
  }
  if (listen_->parsed()) {
    return run_listen(o_);
  }
  return 2;
}

}  // namespace gf::app
