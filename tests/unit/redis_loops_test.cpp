// RedisClient on the io threads' own loops (attach_loops()): a call made on such a thread goes
// out and comes back on that thread, with no hand-off to the Redis thread; a send() from it is
// seen by a later read from anywhere; detach_loops() lets the loop run out of work. And
// RedisKv::put_and_update_later()'s background compare-and-set: many updates of one key, from
// several threads and two nodes, all counted. On a private redis-server started by the test
// (skipped when redis-server is not installed).
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "io/store/redis_kv.hpp"
#include "redis_clients.hpp"
#include "redis_server.hpp"

namespace gf {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using Replies = Result<std::vector<RedisReply>>;

std::shared_ptr<io::RedisClient> client_for(int port, Millis timeout) {
  return test::local_redis_client(port, timeout);
}

class RedisLoopsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!server_.start()) {
      GTEST_SKIP() << "Redis store not tested: " << server_.why();
    }
  }
  test::RedisServer server_;
};

// One io loop attached to `client` and run on a thread of its own; stop() (or leaving scope, an
// ASSERT included) detaches it, lets it run out of work and joins it.
struct AttachedLoop {
  explicit AttachedLoop(std::shared_ptr<io::RedisClient> c)
      : client(std::move(c)), guard(asio::make_work_guard(loop)) {
    client->attach_loops({&loop});
    runner = std::thread([this] { loop.run(); });
  }
  ~AttachedLoop() { stop(); }
  void stop() {
    if (runner.joinable()) {
      client->detach_loops();
      guard.reset();
      runner.join();
    }
  }
  AttachedLoop(const AttachedLoop&) = delete;
  AttachedLoop& operator=(const AttachedLoop&) = delete;

  std::shared_ptr<io::RedisClient> client;
  asio::io_context loop{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard;
  std::thread runner;
};

bool eventually(const std::function<bool()>& ok) {
  const auto until = Clock::now() + std::chrono::seconds(10);
  while (!ok()) {
    if (Clock::now() > until) {
      return false;
    }
    std::this_thread::sleep_for(Millis(2));
  }
  return true;
}

TEST_F(RedisLoopsTest, ACallOnAnAttachedLoopIsServedOnThatLoop) {
  auto client = client_for(server_.port(), Millis(5000));
  ASSERT_TRUE(client->wait_connected(Millis(5000)));
  AttachedLoop attached(client);
  asio::io_context& loop = attached.loop;
  ASSERT_TRUE(eventually([&] { return client->stats().loops_ready == 1; }));
  EXPECT_EQ(client->stats().loops, 1);

  // A send() then a read, both made on the loop: the read sees the write, and its reply is
  // handled on the loop's own thread.
  std::promise<std::pair<Replies, bool>> p;
  auto f = p.get_future();
  const auto trips = client->stats().round_trips;
  const auto loop_calls = client->stats().loop_calls;
  asio::post(loop, [&] {
    ASSERT_TRUE(client->send({io::RedisCommand{{"SET", "loop:k", "v1"}, 0}}).has_value());
    client->async_call({io::RedisCommand{{"GET", "loop:k"}, 0}}, [&](Replies r) {
      p.set_value({std::move(r), loop.get_executor().running_in_this_thread()});
    });
  });
  auto [got, on_loop] = f.get();
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_EQ(got->front().str, "v1");
  EXPECT_TRUE(on_loop);
  EXPECT_EQ(client->stats().round_trips - trips, 1u);
  EXPECT_GE(client->stats().loop_calls - loop_calls, 1u);

  // A send() on the loop is in Redis before a later read on another connection (this thread:
  // the Redis thread's path), and barrier() waits for the loop's connections too.
  std::promise<void> sent;
  asio::post(loop, [&] {
    EXPECT_TRUE(client->send({io::RedisCommand{{"SET", "loop:k2", "v2"}, 0}}).has_value());
    sent.set_value();
  });
  sent.get_future().get();
  ASSERT_TRUE(client->barrier().has_value());
  auto direct = client->call({io::RedisCommand{{"GET", "loop:k2"}, 0}});
  ASSERT_TRUE(direct.has_value());
  EXPECT_EQ(direct->front().str, "v2");

  // Detached: the loop's connections stop and, without the guard, the loop runs out of work.
  attached.stop();
  EXPECT_EQ(client->stats().loops_ready, 0);
}

// The loop's connection is down (Redis restarted on another port would be the same): calls
// made on the loop take the Redis thread's path, and fail at once when that is down too.
TEST_F(RedisLoopsTest, ALoopWhoseConnectionsAreDownFailsAtOnce) {
  auto client = client_for(server_.port(), Millis(5000));
  ASSERT_TRUE(client->wait_connected(Millis(5000)));
  AttachedLoop attached(client);
  asio::io_context& loop = attached.loop;
  ASSERT_TRUE(eventually([&] { return client->stats().loops_ready == 1; }));
  server_.stop();
  ASSERT_TRUE(eventually([&] { return client->stats().loops_ready == 0; }));
  std::promise<std::pair<Replies, Clock::duration>> p;
  asio::post(loop, [&] {
    const auto t0 = Clock::now();
    client->async_call({io::RedisCommand{{"GET", "loop:k"}, 0}}, [&, t0](Replies r) {
      p.set_value({std::move(r), Clock::now() - t0});
    });
  });
  auto [got, took] = p.get_future().get();
  EXPECT_FALSE(got.has_value());
  EXPECT_LT(took, Millis(20));
}

// A loop kept busy while its replies come in (here a handler that blocks it past the call
// timeout and the watchdog's limit) has more in its socket than hiredis reads at once (16 KiB):
// every reply that is there is read before a call is called timed out or the connection
// dropped, so no call fails and no background write is lost.
TEST_F(RedisLoopsTest, ABusyLoopReadsTheRepliesItHoldsBeforeTimingOut) {
  constexpr int kReads = 8;
  const std::string value(4096, 'v');  // 8 x 4 KiB of replies: three of hiredis's reads
  auto client = client_for(server_.port(), Millis(50));
  ASSERT_TRUE(client->wait_connected(Millis(5000)));
  std::vector<io::RedisCommand> sets;
  for (int i = 0; i < kReads; ++i) {
    sets.push_back(io::RedisCommand{{"SET", "busy:" + std::to_string(i), value}, 0});
  }
  ASSERT_TRUE(client->call(sets).has_value());
  AttachedLoop attached(client);
  asio::io_context& loop = attached.loop;
  ASSERT_TRUE(eventually([&] { return client->stats().loops_ready == 1; }));
  const io::RedisStats before = client->stats();

  std::atomic<int> answered{0}, failed{0}, wrote{0};
  std::string first_error;
  std::mutex error_mu;
  auto note = [&](const Replies& r, std::atomic<int>& ok) {
    if (r && r->front().type != RedisReply::Type::Error) {
      ++ok;
      return;
    }
    ++failed;
    std::lock_guard lock(error_mu);
    first_error = r ? r->front().str : r.error().message;
  };
  asio::post(loop, [&] {
    for (int i = 0; i < kReads; ++i) {
      client->async_call({io::RedisCommand{{"GET", "busy:" + std::to_string(i)}, 0}},
                         [&](Replies r) { note(r, answered); });
    }
    client->async_write({io::RedisCommand{{"INCR", "busy:count"}, 0}},
                        [&](Replies r) { note(r, wrote); });
    // send() writes the loop's buffered commands now; the blocking PING on another connection
    // is answered after Redis answered them, so every reply is in this loop's socket when the
    // loop is held past the timeout (50 ms) and the watchdog's limit (100 ms).
    ASSERT_TRUE(client->send({io::RedisCommand{{"INCR", "busy:sent"}, 0}}).has_value());
    ASSERT_TRUE(client->call({io::RedisCommand{{"PING"}, 0}}).has_value());
    std::this_thread::sleep_for(Millis(250));
  });
  ASSERT_TRUE(eventually([&] { return answered + failed + wrote == kReads + 1; }));
  EXPECT_EQ(failed, 0) << first_error;
  EXPECT_EQ(answered, kReads);
  EXPECT_EQ(wrote, 1);
  const io::RedisStats after = client->stats();
  EXPECT_EQ(after.timeouts - before.timeouts, 0u);
  EXPECT_EQ(after.disconnects - before.disconnects, 0u);
  EXPECT_EQ(after.write_failures - before.write_failures, 0u);
  auto count = client->call({io::RedisCommand{{"MGET", "busy:count", "busy:sent"}, 0}});
  ASSERT_TRUE(count.has_value());
  ASSERT_EQ(count->front().elements.size(), 2u);
  EXPECT_EQ(count->front().elements[0].str, "1");
  EXPECT_EQ(count->front().elements[1].str, "1");
}

// A server that keeps answering a deep pipeline, only slowly, is slow, not hung. Here six
// background writes go out at once, each a DEBUG SLEEP of 60 ms, a 20 KiB SET and an INCR: Redis
// reads a client's input 16 KiB at a time and answers what it has run before it reads on, so the
// replies come every ~60 ms while the last write waits ~360 ms, past the watchdog's 200 ms. The
// connection stays up and no write is lost.
TEST_F(RedisLoopsTest, AServerThatKeepsAnsweringADeepPipelineIsNotDropped) {
  constexpr int kWrites = 6;
  const std::string pad(20 * 1024, 'p');
  auto client = client_for(server_.port(), Millis(100));
  ASSERT_TRUE(client->wait_connected(Millis(5000)));
  AttachedLoop attached(client);
  asio::io_context& loop = attached.loop;
  ASSERT_TRUE(eventually([&] { return client->stats().loops_ready == 1; }));
  const io::RedisStats before = client->stats();

  std::atomic<int> wrote{0}, failed{0};
  asio::post(loop, [&] {
    for (int i = 0; i < kWrites; ++i) {
      client->async_write({io::RedisCommand{{"DEBUG", "SLEEP", "0.06"}, 0},
                           io::RedisCommand{{"SET", "slow:pad:" + std::to_string(i), pad}, 0},
                           io::RedisCommand{{"INCR", "slow:count"}, 0}},
                          [&](Replies r) {
                            const bool ok =
                                r && r->size() == 3 && r->back().type != RedisReply::Type::Error;
                            ++(ok ? wrote : failed);
                          });
    }
  });
  ASSERT_TRUE(eventually([&] { return wrote + failed == kWrites; }));
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(wrote, kWrites);
  const io::RedisStats after = client->stats();
  EXPECT_EQ(after.disconnects - before.disconnects, 0u);
  EXPECT_EQ(after.write_failures - before.write_failures, 0u);
  auto count = client->call({io::RedisCommand{{"GET", "slow:count"}, 0}});
  ASSERT_TRUE(count.has_value());
  EXPECT_EQ(count->front().str, std::to_string(kWrites));
}

// put_and_update_later() does not wait for its update; 4 threads x 2 nodes updating one key all get
// counted once flush() returns (no update lost to another's retry).
TEST_F(RedisLoopsTest, BackgroundUpdatesOfOneKeyFromTwoNodesAreAllCounted) {
  auto client_a = client_for(server_.port(), Millis(5000));
  auto client_b = client_for(server_.port(), Millis(5000));
  ASSERT_TRUE(client_a->wait_connected(Millis(5000)));
  ASSERT_TRUE(client_b->wait_connected(Millis(5000)));
  io::RedisKv a(client_a, "gf:a:");
  io::RedisKv b(client_b, "gf:a:");
  auto add_one = [](std::optional<std::string_view> cur) {
    return std::to_string((cur ? std::stoll(std::string(*cur)) : 0) + 1);
  };
  constexpr int kThreads = 4;
  constexpr int kEach = 250;
  const auto trips = client_a->stats().round_trips + client_b->stats().round_trips;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    io::RedisKv& kv = t % 2 == 0 ? a : b;
    threads.emplace_back([&kv, &add_one, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string check = "c:" + std::to_string(t) + ":" + std::to_string(i);
        ASSERT_TRUE(kv.put_and_update_later(check, "x", "u:site", add_one).has_value());
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  ASSERT_TRUE(a.flush().has_value());
  ASSERT_TRUE(b.flush().has_value());
  // No caller waited for a compare-and-set: only the flushes' barriers were round trips.
  EXPECT_LE(client_a->stats().round_trips + client_b->stats().round_trips - trips, 4u);
  auto total = a.get("u:site");
  ASSERT_TRUE(total.has_value());
  ASSERT_TRUE(total->has_value());
  EXPECT_EQ(**total, std::to_string(kThreads * kEach));
  auto one = b.get("c:3:249");
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->value_or(""), "x");
  EXPECT_EQ(client_a->stats().write_failures + client_b->stats().write_failures, 0u);
}

}  // namespace
}  // namespace gf
