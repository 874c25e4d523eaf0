// IoPool: one io_context per thread, connections spread round robin.
#include "io/net/io_pool.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <future>
#include <mutex>
#include <set>
#include <thread>

namespace gf::io {
namespace {

namespace asio = boost::asio;

TEST(IoPool, NextGoesRoundRobinAndEachContextRunsOnItsOwnThread) {
  IoPool pool(3);
  ASSERT_EQ(pool.size(), 3);
  asio::io_context* first = &pool.next();
  asio::io_context* second = &pool.next();
  asio::io_context* third = &pool.next();
  EXPECT_NE(first, second);
  EXPECT_NE(second, third);
  EXPECT_EQ(first, &pool.next());  // wraps around
  EXPECT_EQ(first, &pool.main());  // the main context serves connections too

  std::mutex mu;
  std::set<std::thread::id> threads;
  int done = 0;
  for (asio::io_context* ctx : {first, second, third}) {
    asio::post(*ctx, [&] {
      std::lock_guard lock(mu);
      threads.insert(std::this_thread::get_id());
      ++done;
    });
  }
  pool.run();  // returns once the main context is out of work and the others have finished
  EXPECT_EQ(done, 3);
  EXPECT_EQ(threads.size(), 3u);
  EXPECT_TRUE(threads.contains(std::this_thread::get_id()));  // context 0 ran here
}

TEST(IoPool, WorkOnAnotherContextFinishesBeforeRunReturns) {
  IoPool pool(2);
  (void)pool.next();  // context 0
  asio::io_context& other = pool.next();
  ASSERT_NE(&other, &pool.main());
  bool finished = false;
  asio::steady_timer timer(other, std::chrono::milliseconds(50));
  timer.async_wait([&](boost::system::error_code) { finished = true; });
  pool.run();  // the main context has nothing to do; run() still waits for the other one
  EXPECT_TRUE(finished);
}

TEST(IoPool, StopEndsRunFromAnyThread) {
  IoPool pool(2);
  asio::steady_timer forever(pool.main(), std::chrono::hours(1));
  bool fired = false;
  forever.async_wait([&](boost::system::error_code) { fired = true; });
  // stop() must come while run() runs: the stopper waits (bounded) for a handler that only a
  // running main context can execute, instead of sleeping and hoping run() has started.
  std::promise<void> running;
  asio::post(pool.main(), [&] { running.set_value(); });
  std::thread stopper([&, started = running.get_future()] {
    EXPECT_EQ(started.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    pool.stop();
  });
  pool.run();
  stopper.join();
  EXPECT_FALSE(fired);  // run() returned because of stop(), not because the work ran out
}

}  // namespace
}  // namespace gf::io
