#include "io/net/blocking_pool.hpp"

#include <pthread.h>

#include <algorithm>

namespace gf::io {

BlockingPool::BlockingPool(Options o) : opts_(std::move(o)) {
  const int n = std::max(1, opts_.threads);
  threads_.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    threads_.emplace_back([this] { work(); });
    // Named for top and gdb; 15 characters at most.
    pthread_setname_np(threads_.back().native_handle(), ("gf-" + opts_.name).substr(0, 15).c_str());
  }
}

BlockingPool::~BlockingPool() { join(); }

void BlockingPool::join() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) {
      t.join();
    }
  }
}

bool BlockingPool::post(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || stats_.pending.load() >= static_cast<std::int64_t>(opts_.max_pending)) {
      ++stats_.refused;
      return false;
    }
    ++stats_.pending;
    queue_.push_back(std::move(fn));
  }
  cv_.notify_one();
  return true;
}

void BlockingPool::work() {
  while (true) {
    std::function<void()> fn;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        return;  // stopping, and every task taken has run
      }
      fn = std::move(queue_.front());
      queue_.pop_front();
    }
    fn();
    ++stats_.done;
    --stats_.pending;
  }
}

SerialTask::SerialTask(BlockingPool& pool, std::function<void()> fn)
    : pool_(pool), fn_(std::move(fn)) {}

void SerialTask::trigger() {
  {
    std::lock_guard lock(mu_);
    if (running_) {
      again_ = true;
      return;
    }
    running_ = true;
  }
  launch();
}

void SerialTask::launch() {
  const bool queued = pool_.post([this] {
    while (true) {
      fn_();
      std::lock_guard lock(mu_);
      if (!again_) {
        running_ = false;
        return;
      }
      again_ = false;
    }
  });
  if (!queued) {
    std::lock_guard lock(mu_);
    running_ = false;
    again_ = false;
  }
}

}  // namespace gf::io
