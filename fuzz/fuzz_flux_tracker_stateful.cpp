// Stateful fuzzer for the flux tracker: the input is a sequence of actions (observe a response
// for one of 40 names with up to 12 addresses from a small pool, let time pass, evict, judge a
// name) run against small bounds, with a drop hook that holds flux verdicts in a VerdictMemory.
// Checked after every action: the name and address bounds hold, every judged name gives
// consistent features, the text and JSON explanations are produced, and the memory holds at
// most max_names entries of at most max_agents agents, a recorded flux verdict is found until
// verdict_ttl after its last answer and not after.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/flux/score.hpp"
#include "core/flux/tracker.hpp"
#include "core/flux/verdicts.hpp"
#include "fuzz_bytes.hpp"

namespace {

using gf::fuzz::Bytes;

gf::IpAddress pool_address(std::uint8_t k, bool v6) {
  auto ip = gf::parse_ip(v6 ? "2001:db8::" + std::to_string(k)
                            : "10." + std::to_string(k % 7) + "." + std::to_string(k) + ".1");
  return *ip;
}

class EveryOtherAsn final : public gf::flux::AsnSource {
 public:
  gf::flux::AsnInfo lookup(const gf::IpAddress& ip) const override {
    return {ip.bytes[14] % 2 == 0 ? 0u : 64496u + ip.bytes[14] % 5, {'X', 'A'}};
  }
  std::string describe() const override { return "fuzz"; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gf::flux::TrackerConfig cfg;
  cfg.window = gf::Seconds(600);
  cfg.idle_evict = gf::Seconds(1200);
  cfg.max_names = 16;
  cfg.max_ips_per_name = 24;
  cfg.max_ns_per_name = 4;
  cfg.max_total_ips = 100;
  cfg.max_listed_ips = 10;
  cfg.max_owner_ips = 12;
  static const EveryOtherAsn asn;
  Bytes in(data, size);
  gf::flux::Tracker tracker(cfg, in.next() % 2 ? &asn : nullptr, nullptr);
  // Names under cdn.example (CNAME targets) and n1.example count as allowlisted.
  tracker.set_listed(
      [](std::string_view n) { return n.ends_with(".cdn.example") || n == "n1.example"; });
  gf::flux::VerdictMemoryConfig mcfg;
  mcfg.ttl = gf::Seconds(3000);
  mcfg.max_names = 8;
  mcfg.max_agents = 4;
  gf::flux::VerdictMemory memory(mcfg);
  // The drop hook judges the name as of its last answer: the state must still be consistent.
  tracker.set_drop_hook([&](const std::string& name, const gf::flux::NameState& s) {
    if (s.responses > 0) {
      memory.record(gf::flux::judge_latest(name, s, tracker, nullptr));
    }
  });
  std::int64_t now = 1'800'000'000;
  gf::flux::Observation o;
  while (!in.empty()) {
    const std::uint8_t op = in.next() % 4;
    if (op == 0 || op == 1) {
      o.clear();
      o.time = gf::from_unix(now);
      o.qname = "n" + std::to_string(in.next() % 40) + ".example";
      o.qtype = in.next() % 3 == 0 ? 28 : (in.next() % 5 == 0 ? 2 : 1);
      const int n = in.next() % 13;
      for (int i = 0; i < n; ++i) {
        const std::uint8_t k = in.next();
        o.addresses.push_back(
            {pool_address(k, k > 200), static_cast<std::uint32_t>(in.next()) * 7});
      }
      if (in.next() % 4 == 0) {
        o.ns_names = {"ns1.example", "ns" + std::to_string(in.next() % 9) + ".example"};
        o.ns_addresses = {pool_address(in.next(), false)};
      }
      if (in.next() % 6 == 0) {
        o.cname_chain = {"edge" + std::to_string(in.next() % 3) + ".cdn.example"};
        o.cname_ttl_s = in.next();
      }
      tracker.observe(o);
    } else if (op == 2) {
      now += static_cast<std::int64_t>(in.next()) * 17;
      if (in.next() % 3 == 0) {
        tracker.evict_idle(gf::from_unix(now));
      }
    } else {
      const std::string name = "n" + std::to_string(in.next() % 40) + ".example";
      if (const auto* s = tracker.find(name)) {
        const auto v =
            gf::flux::judge(gf::flux::features(name, *s, gf::from_unix(now), tracker, nullptr));
        const auto& f = v.features;
        if (f.unique_ips != f.unique_v4 + f.unique_v6 || f.asns > f.unique_ips ||
            f.v4_slash24 > f.unique_v4 || f.v4_slash16 > f.v4_slash24 ||
            f.addresses.size() != f.unique_ips ||
            (f.responses > 0 && f.ttl_min_s > f.ttl_median_s) || f.listed_shared > f.unique_ips ||
            f.shared_addresses > f.unique_ips || f.ns_host_net_changes > f.ns_host_later ||
            f.answer_spread < 0 || f.answer_spread > 1 || f.reuse < 0 || f.reuse > 1 ||
            f.ns_addresses > 2 * cfg.max_ns_per_name + 8 * cfg.max_ips_per_name) {
          std::abort();
        }
        (void)gf::flux::to_json(v, true);
        (void)gf::flux::to_text_line(v);
        // A flux verdict is held until verdict_ttl after its last answer, then expires.
        const auto latest = gf::flux::judge_latest(name, *s, tracker, nullptr);
        if (memory.record(latest)) {
          const auto* h = memory.find(name, gf::from_unix(s->last_seen_s));
          if (h == nullptr || h->last_flux_s < s->last_seen_s || h->agents.size() > 4 ||
              memory.find(name, gf::from_unix(s->last_seen_s + 3001)) != nullptr) {
            std::abort();
          }
        }
      }
      memory.expire(gf::from_unix(now));
    }
    if (memory.size() > mcfg.max_names || tracker.listed_ips() > cfg.max_listed_ips ||
        tracker.owner_ips() > cfg.max_owner_ips) {
      std::abort();
    }
    memory.for_each(gf::from_unix(now), [&](const std::string&, const gf::flux::HeldVerdict& h) {
      if (h.agents.size() > mcfg.max_agents || h.first_flux_s > h.last_flux_s ||
          now > memory.expires_at(h)) {
        std::abort();
      }
    });
    if (tracker.size() > cfg.max_names) {
      std::abort();
    }
    std::size_t total = 0;
    tracker.for_each([&](const std::string&, const gf::flux::NameState& s) {
      total += s.ips.size();
      if (s.ips.size() > cfg.max_ips_per_name || s.ns_ips.size() > cfg.max_ns_per_name ||
          s.ns_names.size() > cfg.max_ns_per_name || s.cname_targets.size() > 4) {
        std::abort();
      }
    });
    // The address budget holds after each action.
    if (total != tracker.total_ips() || total > cfg.max_total_ips) {
      std::abort();
    }
  }
  return 0;
}
