#include "io/net/periodic_timer.hpp"

#include <atomic>
#include <boost/asio/post.hpp>

namespace gf::io {

struct PeriodicTimer::State : std::enable_shared_from_this<PeriodicTimer::State> {
  State(boost::asio::io_context& io, std::chrono::steady_clock::duration every,
        std::function<void()> fn)
      : timer(io), interval(every), tick(std::move(fn)) {}

  void arm() {
    timer.expires_after(interval);
    timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->stopped) {
        return;
      }
      self->tick();
      if (!self->stopped) {
        self->arm();
      }
    });
  }

  boost::asio::steady_timer timer;
  std::chrono::steady_clock::duration interval;
  std::function<void()> tick;
  std::atomic<bool> stopped{false};
};

PeriodicTimer::PeriodicTimer(boost::asio::io_context& ioc,
                             std::chrono::steady_clock::duration interval,
                             std::function<void()> tick)
    : state_(std::make_shared<State>(ioc, interval, std::move(tick))) {}

PeriodicTimer::~PeriodicTimer() { stop(); }

void PeriodicTimer::start() {
  // Armed on the io_context: asio timers are not safe to touch from two threads at once.
  boost::asio::post(state_->timer.get_executor(), [s = state_] {
    if (!s->stopped) {
      s->arm();
    }
  });
}

void PeriodicTimer::stop() {
  if (state_->stopped.exchange(true)) {
    return;
  }
  boost::asio::post(state_->timer.get_executor(), [s = state_] { s->timer.cancel(); });
}

}  // namespace gf::io
