#include "io/capture/dnstap_socket.hpp"

#include <fstrm.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "io/capture/capture.hpp"

namespace gf::io {
namespace {

constexpr const char kContentType[] = "protobuf:dnstap.Dnstap";

struct Conn {
  int fd;
  const std::atomic<bool>* stop;
};

fstrm_res conn_open(void*) { return fstrm_res_success; }
fstrm_res conn_close(void*) { return fstrm_res_success; }

// Reads exactly `count` bytes, waking every 100 ms to notice a stop request.
fstrm_res conn_read(void* obj, void* data, std::size_t count) {
  auto* c = static_cast<Conn*>(obj);
  auto* p = static_cast<std::uint8_t*>(data);
  std::size_t got = 0;
  while (got < count) {
    if (c->stop->load()) {
      return fstrm_res_stop;
    }
    pollfd pfd{c->fd, POLLIN, 0};
    const int pr = ::poll(&pfd, 1, 100);
    if (pr < 0 && errno != EINTR) {
      return fstrm_res_failure;
    }
    if (pr <= 0) {
      continue;
    }
    const ssize_t n = ::recv(c->fd, p + got, count - got, 0);
    if (n == 0) {
      return got == 0 ? fstrm_res_stop : fstrm_res_failure;
    }
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        continue;
      }
      return fstrm_res_failure;
    }
    got += static_cast<std::size_t>(n);
  }
  return fstrm_res_success;
}

fstrm_res conn_write(void* obj, const struct iovec* iov, int iovcnt) {
  auto* c = static_cast<Conn*>(obj);
  std::size_t total = 0;
  for (int i = 0; i < iovcnt; ++i) {
    total += iov[i].iov_len;
  }
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(iov);
  msg.msg_iovlen = static_cast<std::size_t>(iovcnt);
  const ssize_t n = ::sendmsg(c->fd, &msg, MSG_NOSIGNAL);
  return n == static_cast<ssize_t>(total) ? fstrm_res_success : fstrm_res_failure;
}

}  // namespace

DnstapListener::~DnstapListener() {
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    ::unlink(path_.c_str());
  }
}

Result<void> DnstapListener::bind() {
  sockaddr_un addr{};
  if (path_.size() >= sizeof(addr.sun_path)) {
    return fail(Errc::Config, path_ + ": socket path too long");
  }
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    return fail(Errc::Io, std::string("socket: ") + std::strerror(errno));
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  ::unlink(path_.c_str());
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    return fail(Errc::Io, path_ + ": " + std::strerror(errno));
  }
  return {};
}

void DnstapListener::serve_connection(int fd, const std::atomic<bool>& stop) {
  Conn conn{fd, &stop};
  fstrm_reader_options* ropt = fstrm_reader_options_init();
  fstrm_reader_options_add_content_type(ropt, kContentType, sizeof(kContentType) - 1);
  fstrm_reader_options_set_max_frame_size(ropt, 1 << 20);
  fstrm_rdwr* rdwr = fstrm_rdwr_init(&conn);
  fstrm_rdwr_set_open(rdwr, conn_open);
  fstrm_rdwr_set_close(rdwr, conn_close);
  fstrm_rdwr_set_read(rdwr, conn_read);
  fstrm_rdwr_set_write(rdwr, conn_write);  // a write method makes the handshake bidirectional
  fstrm_reader* r = fstrm_reader_init(ropt, &rdwr);
  fstrm_reader_options_destroy(&ropt);
  if (r != nullptr && fstrm_reader_open(r) == fstrm_res_success) {
    while (true) {
      const std::uint8_t* data = nullptr;
      std::size_t len = 0;
      if (fstrm_reader_read(r, &data, &len) != fstrm_res_success) {
        break;
      }
      ++frames_;
      std::lock_guard<std::mutex> g(lock_);
      if (!decode_dnstap_frame({data, len}, ingest_, 0)) {
        ++bad_frames_;
        ingest_.count_bad_record();
      }
    }
    fstrm_reader_close(r);  // answers STOP with FINISH
  }
  if (r != nullptr) {
    fstrm_reader_destroy(&r);
  }
  ::close(fd);
}

Result<DnstapListenStats> DnstapListener::run(const std::atomic<bool>& stop,
                                              std::chrono::steady_clock::time_point deadline,
                                              const std::function<void()>& tick) {
  if (listen_fd_ < 0) {
    return fail(Errc::Io, "dnstap listener not bound");
  }
  std::atomic<bool> quit{false};
  std::vector<std::thread> threads;
  DnstapListenStats st;
  auto next_tick = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (!stop.load() && std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 100) > 0) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        ++st.connections;
        threads.emplace_back([this, fd, &quit] { serve_connection(fd, quit); });
      }
    }
    if (tick && std::chrono::steady_clock::now() >= next_tick) {
      next_tick += std::chrono::seconds(1);
      tick();
    }
  }
  quit = true;
  for (auto& t : threads) {
    t.join();
  }
  st.frames = frames_.load();
  st.bad_frames = bad_frames_.load();
  return st;
}

}  // namespace gf::io
