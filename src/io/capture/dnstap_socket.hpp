#pragma once
// A dnstap collector on a unix socket: Unbound (dnstap-socket-path, with
// dnstap-log-client-response-messages: yes) or any Frame Streams sender connects and streams.
//
// Bidirectional Frame Streams (READY/ACCEPT/START ... STOP/FINISH) through libfstrm's reader over
// the accepted socket. One thread per connection decodes frames; `ingest` is only called under
// `ingest_lock`, which the caller also takes when it reads the tracker (periodic RPZ writes).
// run() returns when `stop` becomes true (checked every 100 ms) or the deadline passes; open
// connections are then shut down and joined.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "core/common/result.hpp"
#include "core/flux/ingest.hpp"

namespace gf::io {

struct DnstapListenStats {
  std::uint64_t connections = 0;
  std::uint64_t frames = 0;
  std::uint64_t bad_frames = 0;
};

class DnstapListener {
 public:
  DnstapListener(std::string path, flux::Ingest& ingest, std::mutex& ingest_lock)
      : path_(std::move(path)), ingest_(ingest), lock_(ingest_lock) {}
  ~DnstapListener();

  // Binds the socket (replacing a stale socket file). Call before run().
  [[nodiscard]] Result<void> bind();
  // Serves until `stop` or `deadline`; `tick` (may be empty) runs about once a second.
  [[nodiscard]] Result<DnstapListenStats> run(const std::atomic<bool>& stop,
                                              std::chrono::steady_clock::time_point deadline,
                                              const std::function<void()>& tick = {});

 private:
  void serve_connection(int fd, const std::atomic<bool>& stop);

  std::string path_;
  flux::Ingest& ingest_;
  std::mutex& lock_;
  int listen_fd_ = -1;
  std::atomic<std::uint64_t> frames_{0}, bad_frames_{0};
};

}  // namespace gf::io
