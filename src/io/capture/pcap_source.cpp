// pcap and pcapng files through libpcap; frames go to flux::Ingest::on_packet().
#include <pcap/pcap.h>
#include <sys/stat.h>

#include <cstdio>
#include <memory>

#include "core/common/time.hpp"
#include "io/capture/capture.hpp"

namespace gf::io {
namespace {

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};

Result<void> drain(pcap_t* p, flux::Ingest& ingest, std::uint32_t source_id,
                   const ProgressFn& progress, std::uint64_t total) {
  const auto link = static_cast<std::uint32_t>(pcap_datalink(p));
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  std::uint64_t n = 0;
  FILE* f = pcap_file(p);
  while (true) {
    const int rc = pcap_next_ex(p, &hdr, &data);
    if (rc == PCAP_ERROR_BREAK) {
      break;  // end of file
    }
    if (rc != 1) {
      // A corrupt record header ends the file for libpcap; what was read so far stands.
      ingest.count_bad_record();
      break;
    }
    const TimePoint t = from_unix(static_cast<std::int64_t>(hdr->ts.tv_sec));
    ingest.on_packet(link, std::span<const std::uint8_t>(data, hdr->caplen), hdr->len, t,
                     source_id);
    if (progress && (++n & 0xFFFF) == 0 && f != nullptr) {
      progress(static_cast<std::uint64_t>(std::ftell(f)), total);
    }
  }
  if (progress) {
    progress(total, total);
  }
  return {};
}

}  // namespace

Result<void> read_pcap(const std::string& path, flux::Ingest& ingest, std::uint32_t source_id,
                       const ProgressFn& progress) {
  char err[PCAP_ERRBUF_SIZE] = {0};
  std::unique_ptr<pcap_t, PcapCloser> p(pcap_open_offline(path.c_str(), err));
  if (!p) {
    return fail(Errc::InvalidInput, path + ": " + err);
  }
  struct stat st {};
  const std::uint64_t total =
      ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  return drain(p.get(), ingest, source_id, progress, total);
}

Result<void> read_pcap_memory(std::span<const std::uint8_t> bytes, flux::Ingest& ingest,
                              std::uint32_t source_id) {
  if (bytes.empty()) {
    return fail(Errc::InvalidInput, "empty pcap");
  }
  FILE* f = fmemopen(const_cast<std::uint8_t*>(bytes.data()), bytes.size(), "rb");
  if (f == nullptr) {
    return fail(Errc::Io, "fmemopen failed");
  }
  char err[PCAP_ERRBUF_SIZE] = {0};
  // On success pcap_close() closes `f`; on failure it is still ours.
  std::unique_ptr<pcap_t, PcapCloser> p(pcap_fopen_offline(f, err));
  if (!p) {
    std::fclose(f);
    return fail(Errc::InvalidInput, err);
  }
  return drain(p.get(), ingest, source_id, {}, bytes.size());
}

}  // namespace gf::io
