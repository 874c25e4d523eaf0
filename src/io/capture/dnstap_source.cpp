// dnstap: Frame Streams (libfstrm) carrying protobuf "dnstap.Dnstap" messages (protobuf-c code
// generated from the dnstap.proto Debian ships). Response messages go to flux::Ingest::on_dns().
#include <fstrm.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "dnstap/dnstap.pb-c.h"
#include "io/capture/capture.hpp"

namespace gf::io {
namespace {

constexpr const char kContentType[] = "protobuf:dnstap.Dnstap";
constexpr std::size_t kMaxFrame = 1 << 20;

// The byte source behind fstrm's reader: a FILE or a memory buffer.
struct Source {
  FILE* file = nullptr;
  std::span<const std::uint8_t> mem;
  std::size_t pos = 0;
};

fstrm_res src_open(void*) { return fstrm_res_success; }
fstrm_res src_close(void*) { return fstrm_res_success; }
fstrm_res src_read(void* obj, void* data, std::size_t count) {
  auto* s = static_cast<Source*>(obj);
  if (s->file != nullptr) {
    const std::size_t got = std::fread(data, 1, count, s->file);
    s->pos += got;
    return got == count ? fstrm_res_success : (got == 0 ? fstrm_res_stop : fstrm_res_failure);
  }
  if (s->pos == s->mem.size()) {
    return fstrm_res_stop;
  }
  if (s->mem.size() - s->pos < count) {
    s->pos = s->mem.size();
    return fstrm_res_failure;
  }
  std::memcpy(data, s->mem.data() + s->pos, count);
  s->pos += count;
  return fstrm_res_success;
}

Result<void> drain(Source& src, flux::Ingest& ingest, std::uint32_t source_id,
                   const ProgressFn& progress, std::uint64_t total, std::size_t max_frame) {
  fstrm_reader_options* ropt = fstrm_reader_options_init();
  fstrm_reader_options_add_content_type(ropt, kContentType, sizeof(kContentType) - 1);
  fstrm_reader_options_set_max_frame_size(ropt, max_frame);
  fstrm_rdwr* rdwr = fstrm_rdwr_init(&src);
  fstrm_rdwr_set_open(rdwr, src_open);
  fstrm_rdwr_set_close(rdwr, src_close);
  fstrm_rdwr_set_read(rdwr, src_read);
  fstrm_reader* r = fstrm_reader_init(ropt, &rdwr);  // takes ownership of rdwr
  fstrm_reader_options_destroy(&ropt);
  if (r == nullptr) {
    return fail(Errc::Io, "fstrm_reader_init failed");
  }
  if (fstrm_reader_open(r) != fstrm_res_success) {
    fstrm_reader_destroy(&r);
    return fail(Errc::InvalidInput, "not a dnstap frame stream (bad start frame or content type)");
  }
  std::uint64_t n = 0;
  while (true) {
    const std::uint8_t* data = nullptr;
    std::size_t len = 0;
    const fstrm_res res = fstrm_reader_read(r, &data, &len);
    if (res == fstrm_res_stop) {
      break;
    }
    if (res != fstrm_res_success) {
      ingest.count_bad_record();  // a corrupt frame: the stream cannot be resynchronised
      break;
    }
    if (!decode_dnstap_frame({data, len}, ingest, source_id)) {
      ingest.count_bad_record();
    }
    if (progress && (++n & 0xFFFF) == 0) {
      progress(src.pos, total);
    }
  }
  fstrm_reader_destroy(&r);
  if (progress) {
    progress(total, total);
  }
  return {};
}

bool is_response(Dnstap__Message__Type t) {
  switch (t) {
    case DNSTAP__MESSAGE__TYPE__AUTH_RESPONSE:
    case DNSTAP__MESSAGE__TYPE__RESOLVER_RESPONSE:
    case DNSTAP__MESSAGE__TYPE__CLIENT_RESPONSE:
    case DNSTAP__MESSAGE__TYPE__FORWARDER_RESPONSE:
    case DNSTAP__MESSAGE__TYPE__STUB_RESPONSE:
    case DNSTAP__MESSAGE__TYPE__TOOL_RESPONSE:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool decode_dnstap_frame(std::span<const std::uint8_t> frame, flux::Ingest& ingest,
                         std::uint32_t source_id) {
  Dnstap__Dnstap* d = dnstap__dnstap__unpack(nullptr, frame.size(), frame.data());
  if (d == nullptr) {
    return false;
  }
  const Dnstap__Message* m = d->message;
  if (d->type == DNSTAP__DNSTAP__TYPE__MESSAGE && m != nullptr && is_response(m->type) &&
      m->has_response_message) {
    const std::int64_t sec = m->has_response_time_sec
                                 ? static_cast<std::int64_t>(m->response_time_sec)
                             : m->has_query_time_sec ? static_cast<std::int64_t>(m->query_time_sec)
                                                     : 0;
    ingest.on_dns({m->response_message.data, m->response_message.len}, from_unix(sec), source_id);
  }
  dnstap__dnstap__free_unpacked(d, nullptr);
  return true;
}

Result<void> read_dnstap(const std::string& path, flux::Ingest& ingest, std::uint32_t source_id,
                         const ProgressFn& progress) {
  Source src;
  src.file = std::fopen(path.c_str(), "rb");
  if (src.file == nullptr) {
    return fail(Errc::Io, path + ": " + std::strerror(errno));
  }
  struct stat st {};
  const std::uint64_t total =
      ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  auto r = drain(src, ingest, source_id, progress, total, kMaxFrame);
  std::fclose(src.file);
  if (!r) {
    return fail(r.error().code, path + ": " + r.error().message);
  }
  return r;
}

Result<void> read_dnstap_memory(std::span<const std::uint8_t> bytes, flux::Ingest& ingest,
                                std::uint32_t source_id) {
  Source src;
  src.mem = bytes;
  // No frame is longer than the whole buffer: bounded by its size, a lying length field fails
  // before fstrm grows its buffer to that length (up to 1 MiB) for bytes that are not there.
  // The outcome is the same, a frame that cannot be read.
  const std::size_t max_frame =
      std::clamp<std::size_t>(bytes.size(), FSTRM_CONTROL_FRAME_LENGTH_MAX, kMaxFrame);
  return drain(src, ingest, source_id, {}, bytes.size(), max_frame);
}

}  // namespace gf::io
