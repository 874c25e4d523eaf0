#pragma once
// Live capture of DNS traffic with libpcap ("port 53" filter, immediate mode), feeding the same
// flux::Ingest path as capture files. Needs capture rights (root or CAP_NET_RAW). run() loops on
// pcap_dispatch with a 100 ms read timeout until `stop` or the deadline; `ingest` is only called
// under `ingest_lock`, shared with the dnstap listener and the periodic RPZ writer.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "core/common/result.hpp"
#include "core/flux/ingest.hpp"

namespace gf::io {

struct LiveStats {
  std::uint64_t received = 0;  // by the kernel filter, as libpcap reports them
  std::uint64_t dropped = 0;   // by the kernel (buffer full)
};

class PcapLive {
 public:
  PcapLive(std::string interface, flux::Ingest& ingest, std::mutex& ingest_lock)
      : interface_(std::move(interface)), ingest_(ingest), lock_(ingest_lock) {}
  ~PcapLive();
  PcapLive(const PcapLive&) = delete;
  PcapLive& operator=(const PcapLive&) = delete;

  [[nodiscard]] Result<void> open(const std::string& filter = "port 53");
  [[nodiscard]] Result<LiveStats> run(const std::atomic<bool>& stop,
                                      std::chrono::steady_clock::time_point deadline);

 private:
  std::string interface_;
  flux::Ingest& ingest_;
  std::mutex& lock_;
  void* handle_ = nullptr;  // pcap_t*
};

}  // namespace gf::io
