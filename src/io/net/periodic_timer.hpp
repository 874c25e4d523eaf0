#pragma once
// The one periodic timer of the daemon's housekeeping loops (memory-store expiry, model
// snapshots, RPZ rewrites): runs `tick` on the io_context every `interval` until stop().
//
// A tick runs on the io_context's thread(s) and must be short; the next period starts when the
// tick returns, so a slow tick delays the next one instead of piling up. stop() cancels the
// pending wait; a tick already running finishes. The timer must outlive the io_context's run()
// or be stopped before it is destroyed (the pending wait holds no reference to it after stop()).
//
// Threading: start() and stop() from any thread; the tick only on the io_context.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>

namespace gf::io {

class PeriodicTimer {
 public:
  PeriodicTimer(boost::asio::io_context& ioc, std::chrono::steady_clock::duration interval,
                std::function<void()> tick);
  ~PeriodicTimer();
  PeriodicTimer(const PeriodicTimer&) = delete;
  PeriodicTimer& operator=(const PeriodicTimer&) = delete;

  void start();
  void stop();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace gf::io
