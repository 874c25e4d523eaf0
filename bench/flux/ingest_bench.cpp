// gf_flux_ingest_bench: pcap ingestion rate (frames -> DNS parse -> observation -> tracker
// update) on one core, and memory per tracked name.
//
//   gf_flux_ingest_bench FILE.pcap [--asn asn.tsv] [--repeat N]
//
// Prints responses per second over the best of N runs (the file is read from the page cache
// after the first), the tracker's own byte count per name (keys, states, address vectors) and
// the process's peak resident set growth per name.
#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <memory>

#include "core/flux/asn.hpp"
#include "core/flux/ingest.hpp"
#include "io/capture/capture.hpp"
#include "io/sys/file.hpp"

using namespace gf;

namespace {
long peak_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: gf_flux_ingest_bench FILE.pcap [--asn asn.tsv] [--repeat N]\n");
    return 2;
  }
  const std::string path = argv[1];
  std::unique_ptr<flux::AsnTable> asn;
  int repeat = 3;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--asn") {
      auto t = io::read_file(argv[i + 1]);
      if (!t) {
        std::fprintf(stderr, "%s\n", t.error().message.c_str());
        return 1;
      }
      asn = std::make_unique<flux::AsnTable>(*flux::AsnTable::parse_tsv(*t));
    } else if (k == "--repeat") {
      repeat = std::max(1, std::atoi(argv[i + 1]));
    }
  }
  double best = 1e9;
  std::uint64_t responses = 0;
  std::size_t names = 0, bytes = 0;
  long rss_before = 0, rss_after = 0;
  for (int r = 0; r < repeat; ++r) {
    if (r == 0) {
      rss_before = peak_rss_kib();
    }
    flux::Tracker tracker({}, asn.get(), nullptr);
    flux::Ingest ingest(tracker);
    const auto t0 = std::chrono::steady_clock::now();
    auto res = io::read_pcap(path, ingest, 0);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!res) {
      std::fprintf(stderr, "%s\n", res.error().message.c_str());
      return 1;
    }
    if (r == 0) {
      rss_after = peak_rss_kib();
    }
    best = std::min(best, secs);
    responses = ingest.stats().responses;
    names = tracker.size();
    bytes = 0;
    tracker.for_each([&](const std::string& n, const flux::NameState& s) {
      bytes += flux::Tracker::approx_bytes(n, s);
    });
  }
  fmt::print(
      "ingest: {} responses in {:.3f} s = {:.0f} responses/s (best of {}, one core, asn {})\n",
      responses, best, static_cast<double>(responses) / best, repeat, asn ? "on" : "off");
  fmt::print(
      "memory: {} names, {:.0f} bytes/name (tracker accounting), peak RSS growth {:.0f} "
      "bytes/name (first run: {} KiB -> {} KiB)\n",
      names, names ? static_cast<double>(bytes) / static_cast<double>(names) : 0.0,
      names ? static_cast<double>(rss_after - rss_before) * 1024.0 / static_cast<double>(names)
            : 0.0,
      rss_before, rss_after);
  return 0;
}
