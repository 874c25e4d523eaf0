#include "io/net/io_pool.hpp"

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace gf::io {

namespace asio = boost::asio;

struct IoPool::Guards {
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
};

IoPool::IoPool(int threads) : guards_(std::make_unique<Guards>()) {
  const int n = std::max(1, threads);
  for (int i = 0; i < n; ++i) {
    contexts_.push_back(std::make_unique<asio::io_context>(1));  // one thread each
  }
}

IoPool::~IoPool() = default;

asio::io_context& IoPool::main() { return *contexts_.front(); }

asio::io_context& IoPool::next() {
  const unsigned i = next_.fetch_add(1, std::memory_order_relaxed);
  return *contexts_[i % contexts_.size()];
}

std::vector<asio::io_context*> IoPool::contexts() const {
  std::vector<asio::io_context*> out;
  for (const auto& c : contexts_) {
    out.push_back(c.get());
  }
  return out;
}

void IoPool::run() {
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < contexts_.size(); ++i) {
    // Without a guard a context with no connection yet would return at once.
    guards_->guards.push_back(asio::make_work_guard(*contexts_[i]));
    threads.emplace_back([ctx = contexts_[i].get()] { ctx->run(); });
  }
  contexts_.front()->run();
  guards_->guards.clear();  // the others return once their connections are done
  for (auto& t : threads) {
    t.join();
  }
}

void IoPool::stop() {
  for (auto& c : contexts_) {
    c->stop();
  }
}

}  // namespace gf::io
