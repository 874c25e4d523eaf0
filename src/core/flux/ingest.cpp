#include "core/flux/ingest.hpp"

#include <fmt/format.h>

namespace gf::flux {
namespace {

constexpr const char* kPacketStatus[] = {"ok",       "unsupported_link", "not_ip",   "not_dns",
                                         "fragment", "truncated",        "malformed"};

}  // namespace

std::uint64_t IngestStats::parse_error_total() const {
  std::uint64_t n = 0;
  for (std::size_t i = 1; i < parse_errors.size(); ++i) {
    n += parse_errors[i];
  }
  return n;
}

std::string IngestStats::summary() const {
  std::string out = fmt::format("frames={} messages={} responses={} observations={}", frames,
                                messages, responses, observations);
  std::string skipped;
  for (std::size_t i = 1; i < packet_status.size(); ++i) {
    if (packet_status[i] != 0) {
      skipped += fmt::format(" {}={}", kPacketStatus[i], packet_status[i]);
    }
  }
  for (std::size_t i = 1; i < parse_errors.size(); ++i) {
    if (parse_errors[i] != 0) {
      skipped += fmt::format(" dns_{}={}", dns::to_string(static_cast<dns::ParseError>(i)),
                             parse_errors[i]);
    }
  }
  if (queries != 0) {
    skipped += fmt::format(" queries={}", queries);
  }
  if (tc_responses != 0) {
    skipped += fmt::format(" tc_truncated={}", tc_responses);
  }
  if (not_standard != 0) {
    skipped += fmt::format(" not_standard={}", not_standard);
  }
  if (bad_records != 0) {
    skipped += fmt::format(" bad_records={}", bad_records);
  }
  return skipped.empty() ? out : out + " skipped:" + skipped;
}

void Ingest::on_packet(std::uint32_t link_type, std::span<const std::uint8_t> frame,
                       std::uint32_t wire_length, TimePoint time, std::uint32_t source_id) {
  ++stats_.frames;
  dns::PacketInfo p;
  const dns::PacketStatus st = dns::decode_packet(link_type, frame, wire_length, p, dns_port_);
  ++stats_.packet_status[static_cast<std::size_t>(st)];
  if (st != dns::PacketStatus::Ok) {
    return;
  }
  if (!p.tcp) {
    if (p.sport == dns_port_) {
      on_dns(p.payload, time, source_id);
    } else {
      ++stats_.queries;  // client-to-server datagram
    }
    return;
  }
  if (p.sport != dns_port_) {
    return;  // client side of a TCP connection: queries only
  }
  tcp_.feed(p, [&](std::span<const std::uint8_t> m) { on_dns(m, time, source_id); });
}

void Ingest::on_dns(std::span<const std::uint8_t> message, TimePoint time,
                    std::uint32_t source_id) {
  ++stats_.messages;
  const dns::ParseError e = dns::parse_message_into(message, msg_);
  if (e != dns::ParseError::None) {
    ++stats_.parse_errors[static_cast<std::size_t>(e)];
    return;
  }
  if (!msg_.qr) {
    ++stats_.queries;
    return;
  }
  if (msg_.tc) {
    ++stats_.tc_responses;
    return;
  }
  if (!from_message(msg_, time, source_id, obs_)) {
    ++stats_.not_standard;
    return;
  }
  ++stats_.responses;
  on_observation(obs_);
}

void Ingest::on_observation(const Observation& obs) {
  ++stats_.observations;
  tracker_.observe(obs);
}

}  // namespace gf::flux
