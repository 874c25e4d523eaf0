// Fuzzes the pcap reader (libpcap over a memory buffer) and everything behind it: link and IP
// decoding, fragments, snap-length cuts, TCP reassembly, DNS parsing, the tracker.
#include <cstdint>
#include <cstdlib>

#include "core/flux/ingest.hpp"
#include "core/flux/score.hpp"
#include "io/capture/capture.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gf::flux::TrackerConfig cfg;
  cfg.max_names = 64;
  cfg.max_ips_per_name = 64;
  gf::flux::Tracker tracker(cfg, nullptr, nullptr);
  gf::flux::Ingest ingest(tracker);
  (void)gf::io::read_pcap_memory({data, size}, ingest, 0);
  if (tracker.size() > cfg.max_names || ingest.tcp().flows() > gf::dns::TcpReassembler::kMaxFlows) {
    std::abort();
  }
  tracker.for_each([&](const std::string& name, const gf::flux::NameState& s) {
    (void)gf::flux::to_json(gf::flux::judge(
        gf::flux::features(name, s, gf::from_unix(s.last_seen_s), tracker, nullptr)));
  });
  return 0;
}
