// Fuzzes the dnstap decoder: Frame Streams framing (libfstrm over a memory buffer) and, on the
// same bytes, one protobuf payload (protobuf-c) as a data frame would carry it. Asserted: every
// DNS message handed on is counted in exactly one outcome (parse error, query, truncated, not
// standard, response), only responses become observations, the tracker holds no more names than
// observations, and decoding the same bytes again gives the same counts (no hidden state).
#include <cstdint>
#include <cstdlib>

#include "core/flux/ingest.hpp"
#include "io/capture/capture.hpp"

namespace {

struct Outcome {
  std::string summary;
  std::size_t names = 0;
  bool stream_ok = false;
  bool frame_ok = false;
};

Outcome decode(const std::uint8_t* data, std::size_t size) {
  gf::flux::Tracker tracker({}, nullptr, nullptr);
  gf::flux::Ingest ingest(tracker);
  Outcome o;
  o.stream_ok = gf::io::read_dnstap_memory({data, size}, ingest, 0).has_value();
  o.frame_ok = gf::io::decode_dnstap_frame({data, size}, ingest, 0);
  const gf::flux::IngestStats& st = ingest.stats();
  const std::uint64_t outcomes =
      st.parse_error_total() + st.queries + st.tc_responses + st.not_standard + st.responses;
  if (outcomes != st.messages || st.observations != st.responses ||
      tracker.size() > st.observations) {
    std::abort();
  }
  o.summary = st.summary();
  o.names = tracker.size();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Outcome a = decode(data, size);
  const Outcome b = decode(data, size);
  if (a.summary != b.summary || a.names != b.names || a.stream_ok != b.stream_ok ||
      a.frame_ok != b.frame_ok) {
    std::abort();
  }
  return 0;
}
