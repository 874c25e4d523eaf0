#include "io/capture/pcap_live.hpp"

#include <pcap/pcap.h>
#include <poll.h>

#include "core/common/time.hpp"

namespace gf::io {

PcapLive::~PcapLive() {
  if (handle_ != nullptr) {
    pcap_close(static_cast<pcap_t*>(handle_));
  }
}

Result<void> PcapLive::open(const std::string& filter) {
  char err[PCAP_ERRBUF_SIZE] = {0};
  pcap_t* p = pcap_create(interface_.c_str(), err);
  if (p == nullptr) {
    return fail(Errc::Io, interface_ + ": " + err);
  }
  handle_ = p;
  pcap_set_snaplen(p, 65535);
  pcap_set_timeout(p, 100);
  pcap_set_immediate_mode(p, 1);
  if (const int rc = pcap_activate(p); rc < 0) {
    return fail(Errc::Io, interface_ + ": " + pcap_geterr(p));
  }
  bpf_program prog{};
  if (pcap_compile(p, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0 ||
      pcap_setfilter(p, &prog) != 0) {
    const std::string e = pcap_geterr(p);
    pcap_freecode(&prog);
    return fail(Errc::Config, "capture filter '" + filter + "': " + e);
  }
  pcap_freecode(&prog);
  // Non-blocking reads behind our own poll(): a stop request is noticed within 100 ms even when
  // no packet arrives (the read timeout is not honoured in immediate mode everywhere).
  if (pcap_setnonblock(p, 1, err) != 0) {
    return fail(Errc::Io, interface_ + ": " + err);
  }
  return {};
}

Result<LiveStats> PcapLive::run(const std::atomic<bool>& stop,
                                std::chrono::steady_clock::time_point deadline) {
  auto* p = static_cast<pcap_t*>(handle_);
  if (p == nullptr) {
    return fail(Errc::Io, "capture not open");
  }
  const auto link = static_cast<std::uint32_t>(pcap_datalink(p));
  struct Ctx {
    PcapLive* self;
    std::uint32_t link;
  } ctx{this, link};
  auto on_packet = [](u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
    auto* c = reinterpret_cast<Ctx*>(user);
    std::lock_guard<std::mutex> g(c->self->lock_);
    c->self->ingest_.on_packet(c->link, {bytes, h->caplen}, h->len,
                               from_unix(static_cast<std::int64_t>(h->ts.tv_sec)), 0);
  };
  const int fd = pcap_get_selectable_fd(p);
  while (!stop.load() && std::chrono::steady_clock::now() < deadline) {
    if (fd >= 0) {
      pollfd pfd{fd, POLLIN, 0};
      if (::poll(&pfd, 1, 100) <= 0) {
        continue;
      }
    }
    if (pcap_dispatch(p, -1, on_packet, reinterpret_cast<u_char*>(&ctx)) < 0) {
      return fail(Errc::Io, interface_ + ": " + pcap_geterr(p));
    }
  }
  LiveStats st;
  pcap_stat ps{};
  if (pcap_stats(p, &ps) == 0) {
    st.received = ps.ps_recv;
    st.dropped = ps.ps_drop;
  }
  return st;
}

}  // namespace gf::io
