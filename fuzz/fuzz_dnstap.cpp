// Fuzzes the dnstap decoder: Frame Streams framing (libfstrm over a memory buffer) and, on the
// same bytes, one protobuf payload (protobuf-c) as a data frame would carry it.
#include <cstdint>

#include "core/flux/ingest.hpp"
#include "io/capture/capture.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gf::flux::Tracker tracker({}, nullptr, nullptr);
  gf::flux::Ingest ingest(tracker);
  (void)gf::io::read_dnstap_memory({data, size}, ingest, 0);
  (void)gf::io::decode_dnstap_frame({data, size}, ingest, 0);
  return 0;
}
