#include "io/sys/worker_pool.hpp"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace gf::io {

unsigned default_threads() { return std::max(1U, std::thread::hardware_concurrency()); }

void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t)>& body) {
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    std::size_t i;
    while ((i = next++) < n) {
      body(i);
    }
  };
  const std::size_t extra = std::min<std::size_t>(std::max(1U, threads) - 1, n > 0 ? n - 1 : 0);
  std::vector<std::thread> pool;
  pool.reserve(extra);
  for (std::size_t t = 0; t < extra; ++t) {
    pool.emplace_back(work);
  }
  work();
  for (auto& t : pool) {
    t.join();
  }
}

void parallel_for_each(std::size_t n, const std::function<void(std::size_t)>& body) {
  parallel_for(n, default_threads(), body);
}

}  // namespace gf::io
