#pragma once
// One io_context per network thread.
//
// Each context is run by exactly one thread, and a connection lives on one context for its whole
// life, so a request never wakes a second thread and a connection needs no strand. With one
// shared multi-threaded io_context, the threads woke each other through the scheduler for every
// completion: on the 2-core machine, p50 at 10k policy req/s was 70 us against 36 us for one
// thread per context, for the same throughput (docs/benchmarks.md).
//
// Context 0 is the "main" context: acceptors, signals, timers and the admin socket live there,
// and it serves connections too. New connections are spread round robin over all contexts.
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace gf::io {

class IoPool {
 public:
  explicit IoPool(int threads);  // at least 1
  ~IoPool();
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  boost::asio::io_context& main();
  boost::asio::io_context& next();                         // for a new connection
  std::vector<boost::asio::io_context*> contexts() const;  // every context, main first
  int size() const { return static_cast<int>(contexts_.size()); }

  // Runs context 0 on the calling thread and each other context on a thread of its own. Returns
  // when context 0 has run out of work (after a drain) and the others have finished theirs.
  void run();
  void stop();  // every context, from any thread

 private:
  struct Guards;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::unique_ptr<Guards> guards_;
  std::atomic<unsigned> next_{0};
};

}  // namespace gf::io
