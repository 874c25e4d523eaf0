#include "io/sys/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace gf::io {
namespace {

TEST(WorkerPool, EveryIndexRunsExactlyOnce) {
  for (unsigned threads : {1U, 2U, 7U}) {
    std::vector<std::atomic<int>> hits(1000);
    parallel_for(hits.size(), threads, [&](std::size_t i) { ++hits[i]; });
    for (std::size_t i = 0; i < hits.size(); ++i) {
      ASSERT_EQ(hits[i].load(), 1) << "index " << i << " with " << threads << " threads";
    }
  }
}

TEST(WorkerPool, NothingToDoAndMoreThreadsThanItems) {
  int calls = 0;
  parallel_for(0, 4, [&](std::size_t) { ++calls; });
  EXPECT_EQ(calls, 0);
  std::vector<int> out(3, 0);
  parallel_for(out.size(), 16, [&](std::size_t i) { out[i] = static_cast<int>(i) + 1; });
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3}));
  EXPECT_GE(default_threads(), 1U);
}

}  // namespace
}  // namespace gf::io
