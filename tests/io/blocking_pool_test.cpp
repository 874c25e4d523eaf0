// BlockingPool: blocking work off the io threads, its answer back on the caller's executor;
// busy and late answers; SerialTask never runs twice at once.
#include "io/net/blocking_pool.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <future>
#include <mutex>
#include <thread>

namespace gf::io {
namespace {

namespace asio = boost::asio;

// Runs `body` as a coroutine on a fresh io_context on this thread until it and every task it
// awaits have finished.
void run_coroutine(std::function<asio::awaitable<void>()> body) {
  asio::io_context ioc;
  asio::co_spawn(ioc, std::move(body), [](std::exception_ptr e) {
    if (e) {
      std::rethrow_exception(e);
    }
  });
  ioc.run();
}

TEST(BlockingPool, RunsOffTheCallersThreadAndAnswersOnIt) {
  BlockingPool pool({"test", 2, 8});
  const auto caller = std::this_thread::get_id();
  std::thread::id worker, resumed;
  run_coroutine([&]() -> asio::awaitable<void> {
    std::function<int()> task = [&] {
      worker = std::this_thread::get_id();
      return 42;
    };
    Result<int> r = co_await pool.async_run(std::move(task), Millis(5000), asio::use_awaitable);
    resumed = std::this_thread::get_id();
    EXPECT_TRUE(r.has_value());
    EXPECT_EQ(r.value_or(0), 42);
  });
  EXPECT_NE(worker, caller);
  EXPECT_EQ(resumed, caller);
  EXPECT_EQ(pool.stats().done.load(), 1u);
}

TEST(BlockingPool, RefusesAtOnceWhenMaxPendingTasksWait) {
  BlockingPool pool({"test", 1, 1});
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  ASSERT_TRUE(pool.post([released] { released.wait(); }));  // the one place, held
  run_coroutine([&]() -> asio::awaitable<void> {
    std::function<int()> task = [] { return 1; };
    const auto t0 = std::chrono::steady_clock::now();
    Result<int> r = co_await pool.async_run(std::move(task), Millis(5000), asio::use_awaitable);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
    EXPECT_FALSE(r.has_value());
    if (!r) {
      EXPECT_EQ(r.error().code, Errc::StoreFailure);
      EXPECT_NE(r.error().message.find("busy"), std::string::npos) << r.error().message;
    }
    release.set_value();
  });
  EXPECT_EQ(pool.stats().refused.load(), 1u);
}

TEST(BlockingPool, ALateTaskIsAnsweredAtTheDeadlineAndFinishesAlone) {
  BlockingPool pool({"test", 1, 4});
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> finished{false};
  run_coroutine([&]() -> asio::awaitable<void> {
    std::function<int()> task = [released, &finished] {
      released.wait();
      finished = true;
      return 7;
    };
    Result<int> r = co_await pool.async_run(std::move(task), Millis(30), asio::use_awaitable);
    EXPECT_FALSE(r.has_value());
    if (!r) {
      EXPECT_NE(r.error().message.find("within 30 ms"), std::string::npos) << r.error().message;
    }
    EXPECT_FALSE(finished.load());
    EXPECT_EQ(pool.stats().pending.load(), 1);  // still holds its place
    release.set_value();                        // the io_context runs on until the task has ended
  });
  EXPECT_TRUE(finished.load());
  EXPECT_EQ(pool.stats().timed_out.load(), 1u);
  pool.join();
  EXPECT_EQ(pool.stats().pending.load(), 0);
}

TEST(BlockingPool, JoinRunsWhatWasTakenAndRefusesMore) {
  BlockingPool pool({"test", 2, 64});
  std::atomic<int> ran{0};
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(pool.post([&ran] { ++ran; }));
  }
  pool.join();
  EXPECT_EQ(ran.load(), 20);
  EXPECT_FALSE(pool.post([&ran] { ++ran; }));
}

TEST(SerialTask, NeverRunsTwiceAtOnceAndRunsAgainAfterATriggerDuringARun) {
  BlockingPool pool({"test", 4, 64});
  std::mutex mu;
  int running = 0, most = 0, runs = 0;
  std::promise<void> first_started, release;
  std::shared_future<void> released = release.get_future().share();
  SerialTask task(pool, [&] {
    int n = 0;
    {
      std::lock_guard lock(mu);
      most = std::max(most, ++running);
      n = ++runs;
    }
    if (n == 1) {
      first_started.set_value();
      released.wait();
    }
    std::lock_guard lock(mu);
    --running;
  });
  task.trigger();
  first_started.get_future().wait();
  for (int i = 0; i < 10; ++i) {
    task.trigger();  // during the first run: folded into one more run
  }
  release.set_value();
  pool.join();
  EXPECT_EQ(most, 1);
  EXPECT_EQ(runs, 2);
}

}  // namespace
}  // namespace gf::io
