// The Redis paths that never block the caller: RedisClient::async_call() (the policy server's
// read), RedisStore::get_many_async() (one MGET: one command, one round trip per decision),
// on a private redis-server started by the test (skipped when redis-server is not installed).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <variant>

#include "core/greylist/greylist.hpp"
#include "io/store/redis_kv.hpp"
#include "io/store/redis_store.hpp"
#include "redis_clients.hpp"
#include "redis_server.hpp"

namespace gf {
namespace {

using Clock = std::chrono::steady_clock;
using greylist::Record;

std::shared_ptr<io::RedisClient> client_for(int port, Millis timeout) {
  return test::local_redis_client(port, timeout);
}

class RedisAsyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!server_.start()) {
      GTEST_SKIP() << "Redis store not tested: " << server_.why();
    }
  }
  // Commands Redis has processed so far (INFO stats).
  std::uint64_t commands_processed() {
    const std::string info = server_.command({"INFO", "stats"}).value_or("");
    const std::string tag = "total_commands_processed:";
    const auto at = info.find(tag);
    return at == std::string::npos ? 0 : std::stoull(info.substr(at + tag.size()));
  }
  test::RedisServer server_;
};

policy::Request rcpt(const std::string& client) {
  policy::Request r;
  r.protocol_state = "RCPT";
  r.client_address = client;
  r.client_name = "mail.example.net";
  r.sender = "a@example.org";
  r.recipient = "b@example.com";
  r.instance = client;
  return r;
}

using Records = Result<std::vector<std::optional<Record>>>;

Records read_async(io::RedisStore& store, std::vector<std::string> keys) {
  std::promise<Records> p;
  auto f = p.get_future();
  store.get_many_async(std::move(keys), [&p](Records r) { p.set_value(std::move(r)); });
  return f.get();
}

// A decision through begin() / get_many_async() / finish(): one round trip, and the read is one
// command (an MGET of every key), however many keys the decision needs.
TEST_F(RedisAsyncTest, AnAsyncDecisionIsOneRoundTripAndOneReadCommand) {
  auto client = client_for(server_.port(), Millis(5000));
  ASSERT_TRUE(client->wait_connected(Millis(5000)));
  io::RedisStore store(client, "gf:g:");
  auto policy = std::make_shared<greylist::Policy>();
  greylist::Greylist gl(policy, store, [](std::string_view) { return std::string("example.net"); });
  const TimePoint t0 = from_unix(1'800'000'000);
  const std::pair<Seconds, greylist::Reason> steps[] = {{Seconds(0), greylist::Reason::New},
                                                        {Seconds(400), greylist::Reason::Passed},
                                                        {Seconds(500), greylist::Reason::Known}};
  for (const auto& [at, want] : steps) {
    const auto req = rcpt("192.0.2.7");
    auto begun = gl.begin(req);
    const auto& look = std::get<greylist::Greylist::Lookup>(begun);
    ASSERT_EQ(look.wanted.size(), 5u);  // triplet, client, domain, sender, pooled
    ASSERT_TRUE(store.flush().has_value());
    const auto trips = client->stats().round_trips;
    const auto cmds = commands_processed();
    const Records got = read_async(store, look.wanted);
    ASSERT_TRUE(got.has_value()) << got.error().message;
    // The pooled key has no network tag, but a standalone Redis has one route: one MGET.
    EXPECT_EQ(commands_processed() - cmds, 1u + 1u);  // the MGET, and our INFO
    EXPECT_EQ(client->stats().round_trips - trips, 1u);
    EXPECT_EQ(gl.finish(req, look, got, t0 + at).reason, want);
  }
}

// A hung server: the async read answers with a timeout within the client's timeout, never
// later, and the caller's thread was never held.
TEST_F(RedisAsyncTest, AHungServerAnswersAsyncReadsWithATimeoutInTime) {
  auto client = client_for(server_.port(), Millis(50));
  ASSERT_TRUE(client->wait_connected(Millis(5000)));
  io::RedisStore store(client, "gf:g:");
  ASSERT_TRUE(read_async(store, {"t:a"}).has_value());
  server_.pause();
  const auto t0 = Clock::now();
  std::promise<Records> p;
  auto f = p.get_future();
  store.get_many_async({"t:a", "c:a"}, [&p](Records r) { p.set_value(std::move(r)); });
  EXPECT_LT(Clock::now() - t0, Millis(20));  // returned at once
  const Records r = f.get();
  const auto took = Clock::now() - t0;
  server_.resume();
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("timeout"), std::string::npos) << r.error().message;
  EXPECT_LT(took, Millis(100));
  EXPECT_GE(client->stats().timeouts, 1u);
}

// Redis down: the async read fails at once, on the calling thread.
TEST_F(RedisAsyncTest, ADownServerFailsAsyncReadsAtOnce) {
  auto client = client_for(test::RedisServer::free_port(), Millis(2000));
  io::RedisStore store(client, "gf:g:");
  bool answered = false;
  store.get_many_async({"t:a"}, [&answered](Records r) {
    answered = true;
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("not connected"), std::string::npos);
  });
  EXPECT_TRUE(answered);
}

// Many callers at once: every read is answered, each counted as one round trip.
TEST_F(RedisAsyncTest, ConcurrentAsyncReadsAreEachAnsweredOnce) {
  auto client = client_for(server_.port(), Millis(5000));
  ASSERT_TRUE(client->wait_connected(Millis(5000)));
  io::RedisStore store(client, "gf:g:");
  ASSERT_TRUE(store.put("t:x", Record{1, 2, 3, 4}).has_value());
  ASSERT_TRUE(store.flush().has_value());
  constexpr int kThreads = 4;
  constexpr int kEach = 500;
  std::atomic<int> right{0};
  std::atomic<int> answered{0};
  const auto trips = client->stats().round_trips;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        store.get_many_async({"t:x", "t:missing"}, [&](Records r) {
          if (r && (*r)[0] == Record{1, 2, 3, 4} && !(*r)[1]) {
            ++right;
          }
          ++answered;
        });
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  const auto until = Clock::now() + std::chrono::seconds(10);
  while (answered < kThreads * kEach && Clock::now() < until) {
    std::this_thread::sleep_for(Millis(2));
  }
  EXPECT_EQ(answered.load(), kThreads * kEach);
  EXPECT_EQ(right.load(), kThreads * kEach);
  EXPECT_EQ(client->stats().round_trips - trips, static_cast<std::uint64_t>(kThreads * kEach));
}

}  // namespace
}  // namespace gf
