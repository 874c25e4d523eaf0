#pragma once
// Passive sources for the flux detector: capture files read into a flux::Ingest.
//
//   pcap / pcapng   libpcap; UDP and TCP DNS over IPv4/IPv6 (see core/dns/packet.hpp)
//   dnstap          Frame Streams (libfstrm) of dnstap protobuf messages (protobuf-c); the
//                   *_RESPONSE messages' response_message is parsed
//   Zeek dns.log    TSV (with its #fields header) and JSON lines
//
// Each reader moves bytes and hands them to the ingest; broken records are counted there
// (IngestStats) and skipped, a broken container (not a pcap, not a frame stream) is an error
// Result. The *_memory variants read from a buffer: the fuzz targets drive them. `progress`
// (may be empty) is called now and then with bytes read so far and the file size.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.hpp"
#include "core/flux/ingest.hpp"

namespace gf::io {

enum class CaptureFormat { Unknown, Pcap, Pcapng, Dnstap, ZeekTsv, ZeekJson };
std::string_view to_string(CaptureFormat f);
// From the first bytes of a file (64 are enough).
CaptureFormat detect_format(std::span<const std::uint8_t> head);

using ProgressFn = std::function<void(std::uint64_t done_bytes, std::uint64_t total_bytes)>;

// Detects the format and reads the whole file.
[[nodiscard]] Result<CaptureFormat> read_capture(const std::string& path, flux::Ingest& ingest,
                                                 std::uint32_t source_id,
                                                 const ProgressFn& progress = {});

[[nodiscard]] Result<void> read_pcap(const std::string& path, flux::Ingest& ingest,
                                     std::uint32_t source_id, const ProgressFn& progress = {});
[[nodiscard]] Result<void> read_pcap_memory(std::span<const std::uint8_t> bytes,
                                            flux::Ingest& ingest, std::uint32_t source_id);

[[nodiscard]] Result<void> read_dnstap(const std::string& path, flux::Ingest& ingest,
                                       std::uint32_t source_id, const ProgressFn& progress = {});
[[nodiscard]] Result<void> read_dnstap_memory(std::span<const std::uint8_t> bytes,
                                              flux::Ingest& ingest, std::uint32_t source_id);
// One dnstap protobuf payload (a data frame's content). False when it does not decode.
bool decode_dnstap_frame(std::span<const std::uint8_t> frame, flux::Ingest& ingest,
                         std::uint32_t source_id);

// Zeek dns.log, line by line; TSV needs its #fields header first, JSON lines stand alone.
class ZeekReader {
 public:
  ZeekReader(flux::Ingest& ingest, std::uint32_t source_id)
      : ingest_(ingest), source_id_(source_id) {}
  void feed_line(std::string_view line);

 private:
  void tsv_line(std::string_view line);
  void json_line(std::string_view line);
  void emit(double ts, std::string_view query, int qtype, int rcode, bool tc,
            const std::vector<std::string>& answers, const std::vector<double>& ttls);

  flux::Ingest& ingest_;
  std::uint32_t source_id_;
  char separator_ = '\t';
  char set_separator_ = ',';
  std::string unset_ = "-";
  std::string empty_ = "(empty)";
  std::vector<std::string> fields_;
  int col_ts_ = -1, col_query_ = -1, col_qtype_ = -1, col_rcode_ = -1, col_answers_ = -1,
      col_ttls_ = -1, col_tc_ = -1;
  flux::Observation obs_;
};

[[nodiscard]] Result<void> read_zeek(const std::string& path, flux::Ingest& ingest,
                                     std::uint32_t source_id, const ProgressFn& progress = {});

}  // namespace gf::io
