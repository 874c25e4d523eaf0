#pragma once
// Ingest: the one path from source bytes to tracker state, shared by every passive source.
//
//   frame --decode_packet--> UDP payload / TCP segments --TcpReassembler--> DNS message
//   DNS message --parse_message_into--> Message --from_message--> Observation --> Tracker
//
// Sources (pcap, dnstap, Zeek, active lookups) only read their container format and call
// on_packet(), on_dns() or on_observation() with the time the record carries. Everything that
// is skipped is counted by reason in IngestStats; nothing here throws or logs. Single-threaded.
#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "core/dns/message.hpp"
#include "core/dns/packet.hpp"
#include "core/flux/observation.hpp"
#include "core/flux/tracker.hpp"

namespace gf::flux {

struct IngestStats {
  std::uint64_t frames = 0;
  std::array<std::uint64_t, 7> packet_status{};  // by dns::PacketStatus
  std::uint64_t messages = 0;                    // DNS messages handed to the parser
  std::uint64_t queries = 0;                     // QR=0: skipped
  std::uint64_t tc_responses = 0;                // TC=1: incomplete answer, skipped
  std::array<std::uint64_t, static_cast<std::size_t>(dns::ParseError::Count_)> parse_errors{};
  std::uint64_t responses = 0;  // parsed responses turned into observations
  std::uint64_t not_standard = 0;
  std::uint64_t observations = 0;
  std::uint64_t bad_records = 0;  // source-level records that could not be read (Zeek lines, ...)

  std::uint64_t parse_error_total() const;
  std::string summary() const;  // one line: "frames=... responses=... skipped: fragment=..."
};

class Ingest {
 public:
  explicit Ingest(Tracker& tracker) : tracker_(tracker) {}

  void on_packet(std::uint32_t link_type, std::span<const std::uint8_t> frame,
                 std::uint32_t wire_length, TimePoint time, std::uint32_t source_id);
  void on_dns(std::span<const std::uint8_t> message, TimePoint time, std::uint32_t source_id);
  void on_observation(const Observation& obs);
  void count_bad_record() { ++stats_.bad_records; }
  // The server port that marks DNS in captured frames (53 unless a lab resolver uses another).
  void set_dns_port(std::uint16_t port) { dns_port_ = port; }

  const IngestStats& stats() const { return stats_; }
  const dns::TcpReassembler& tcp() const { return tcp_; }
  Tracker& tracker() { return tracker_; }

 private:
  Tracker& tracker_;
  dns::Message msg_;
  Observation obs_;
  dns::TcpReassembler tcp_;
  IngestStats stats_;
  std::uint16_t dns_port_ = 53;
};

}  // namespace gf::flux
