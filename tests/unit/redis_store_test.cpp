// The Redis adapters beyond the shared contracts: round trips per decision (counted by the
// client), native key expiry, and faults (Redis absent at start, killed, hung) on a private
// redis-server started by the test (skipped when redis-server is not installed).
#include "io/store/redis_store.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "core/greylist/greylist.hpp"
#include "io/store/redis_kv.hpp"
#include "redis_clients.hpp"
#include "redis_server.hpp"

namespace gf {
namespace {

using greylist::Record;
using Clock = std::chrono::steady_clock;

std::shared_ptr<io::RedisClient> client_for(int port, Millis timeout, int pool = 1) {
  return test::local_redis_client(port, timeout, pool);
}

class RedisStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!server_.start()) {
      GTEST_SKIP() << "Redis store not tested: " << server_.why();
    }
  }
  test::RedisServer server_;
};

// Polls `pred` until it holds or 5 s pass (a condition, never a fixed sleep).
template <class Pred>
bool eventually(Pred pred) {
  const auto until = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < until) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(Millis(2));
  }
  return pred();
}

policy::Request rcpt(const std::string& client, const std::string& sender, const std::string& to) {
  policy::Request r;
  r.protocol_state = "RCPT";
  r.client_address = client;
  r.client_name = "mail.example.net";
  r.sender = sender;
  r.recipient = to;
  r.instance = sender + to;
  return r;
}

// Every greylist decision reads Redis once (one pipeline) and never waits for its writes.
TEST_F(RedisStoreTest, EachGreylistDecisionIsOneRoundTrip) {
  auto client = client_for(server_.port(), Millis(5000));
  ASSERT_TRUE(client->wait_connected(Millis(5000)));
  io::RedisStore store(client, "gf:g:");
  auto policy = std::make_shared<greylist::Policy>();
  policy->settings.delay = Seconds(300);
  greylist::Greylist gl(policy, store, [](std::string_view) { return std::string("example.net"); });
  const TimePoint t0 = from_unix(1'800'000'000);
  struct Step {
    Seconds at;
    greylist::Reason reason;
  };
  const Step steps[] = {{Seconds(0), greylist::Reason::New},
                        {Seconds(60), greylist::Reason::EarlyRetry},
                        {Seconds(400), greylist::Reason::Passed},
                        {Seconds(500), greylist::Reason::Known}};
  for (const Step& s : steps) {
    const auto before = client->stats().round_trips;
    const auto d = gl.check(rcpt("192.0.2.7", "a@example.org", "b@example.com"), t0 + s.at);
    EXPECT_EQ(d.reason, s.reason) << greylist::to_string(d.reason);
    EXPECT_EQ(client->stats().round_trips - before, 1u) << greylist::to_string(s.reason);
  }
  // The writes landed (and a second instance on the same Redis sees the pass).
  ASSERT_TRUE(store.flush().has_value());
  io::RedisStore other(client_for(server_.port(), Millis(5000)), "gf:g:");
  ASSERT_TRUE(other.client().wait_connected(Millis(5000)));
  greylist::Greylist gl2(policy, other, {});
  EXPECT_EQ(
      gl2.check(rcpt("192.0.2.9", "a@example.org", "b@example.com"), t0 + Seconds(600)).reason,
      greylist::Reason::Known);
}

TEST_F(RedisStoreTest, PutSetsTheRecordsExpiryAndAnExpiryInThePastDeletes) {
  auto client = client_for(server_.port(), Millis(5000));
  ASSERT_TRUE(client->wait_connected(Millis(5000)));
  const std::int64_t far = 4'000'000'000;  // 2096
  io::RedisStore store(client, "gf:g:", [far](std::string_view key, const Record& r) {
    return key.starts_with("w:") ? std::optional<std::int64_t>() : far + r.count;
  });
  ASSERT_TRUE(store.native_expiry());
  ASSERT_TRUE(store.put("t:a", Record{1, 1, 5, 1}).has_value());
  ASSERT_TRUE(store.put("w:kept", Record{}).has_value());
  ASSERT_TRUE(store.flush().has_value());
  EXPECT_EQ(server_.command({"EXPIRETIME", "gf:g:t:{a}"}), std::to_string(far + 5 + 1));
  EXPECT_EQ(server_.command({"TTL", "gf:g:w:kept"}), "-1");  // no expiry
  io::RedisStore past(client, "gf:g:", [](std::string_view, const Record&) {
    return std::optional<std::int64_t>(1000);  // 1970: expired long ago
  });
  ASSERT_TRUE(past.put("t:a", Record{1, 1, 5, 1}).has_value());
  ASSERT_TRUE(past.flush().has_value());
  EXPECT_EQ(past.get("t:a").value(), std::nullopt);
}

// greylist::expires_at() is what the wiring passes: is_expired() flips right after it.
TEST(GreylistExpiry, ExpiresAtIsTheLastSecondIsExpiredSaysNo) {
  greylist::Settings s;
  const Record passed{1000, 2000, 1, 2000};
  const auto until = greylist::expires_at("t:x", passed, s);
  ASSERT_TRUE(until.has_value());
  EXPECT_EQ(*until, 2000 + s.max_age.count());
  EXPECT_FALSE(greylist::is_expired("t:x", passed, from_unix(*until), s));
  EXPECT_TRUE(greylist::is_expired("t:x", passed, from_unix(*until + 1), s));
  EXPECT_EQ(greylist::expires_at("t:x", Record{1000, 1100, 0, 0}, s),
            1100 + s.retry_window.count());
  EXPECT_EQ(greylist::expires_at("p:x", Record{1000, 1900, 0, 0}, s),
            1000 + s.retry_window.count());
  EXPECT_EQ(greylist::expires_at("w:x", Record{}, s), std::nullopt);
}

TEST_F(RedisStoreTest, CompareAndSetUpdateIsOneRoundTripWhenUncontended) {
  auto client = client_for(server_.port(), Millis(5000));
  ASSERT_TRUE(client->wait_connected(Millis(5000)));
  io::RedisKv kv(client, "gf:a:");
  auto bump = [](std::optional<std::string_view> cur) {
    return std::to_string(cur ? std::stoi(std::string(*cur)) + 1 : 1);
  };
  ASSERT_TRUE(kv.update("u:n", bump).has_value());
  const auto before = client->stats().round_trips;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(kv.put_and_update("c:" + std::to_string(i), "x", "u:n", bump).has_value());
  }
  EXPECT_EQ(client->stats().round_trips - before, 10u);
  // Another node wrote the counter: the next update costs one retry, and counts right.
  ASSERT_EQ(server_.command({"SET", "gf:a:u:n", "100"}), "OK");
  ASSERT_TRUE(kv.update("u:n", bump).has_value());
  EXPECT_EQ(kv.get("u:n").value(), std::optional<std::string>("101"));
}

// Redis not there at start: calls fail at once (no waiting), and work once it comes up.
TEST_F(RedisStoreTest, ADownServerFailsFastAndTheClientReconnectsByItself) {
  const int port = test::RedisServer::free_port();
  // A long timeout: failing fast must not depend on it (and a loaded machine may be slow).
  auto client = client_for(port, Millis(2000));
  io::RedisStore store(client, "gf:g:");
  const auto t0 = Clock::now();
  auto r = store.get("t:a");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::StoreFailure);
  EXPECT_NE(r.error().message.find("not connected"), std::string::npos) << r.error().message;
  EXPECT_LT(Clock::now() - t0, Millis(20));
  EXPECT_FALSE(store.put("t:a", Record{1, 1, 1, 1}).has_value());

  test::RedisServer late;
  ASSERT_TRUE(late.start(port));
  ASSERT_TRUE(client->wait_connected(Millis(5000)));
  ASSERT_TRUE(store.put("t:a", Record{1, 2, 3, 4}).has_value());
  auto got = store.get("t:a");
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_EQ(*got, (Record{1, 2, 3, 4}));

  late.kill();  // SIGKILL: the socket closes under the client
  EXPECT_TRUE(eventually([&] { return !store.get("t:a").has_value(); }));
  EXPECT_TRUE(eventually([&] { return client->stats().connected == 0; }));
  ASSERT_TRUE(late.start(port));  // empty again: no persistence
  ASSERT_TRUE(client->wait_connected(Millis(5000)));
  auto after = store.get("t:a");
  ASSERT_TRUE(after.has_value()) << after.error().message;
  EXPECT_EQ(*after, std::nullopt);
  EXPECT_GE(client->stats().disconnects, 1u);
}

// A hung server (SIGSTOP): a call gives up after the timeout, the watchdog drops the
// connection, and service resumes when the server does.
TEST_F(RedisStoreTest, AHungServerTimesOutAndServiceResumes) {
  auto client = client_for(server_.port(), Millis(50));
  ASSERT_TRUE(client->wait_connected(Millis(5000)));
  io::RedisStore store(client, "gf:g:");
  ASSERT_TRUE(store.get("t:a").has_value());
  server_.pause();
  const auto t0 = Clock::now();
  auto r = store.get("t:a");
  const auto took = Clock::now() - t0;
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("timeout"), std::string::npos) << r.error().message;
  EXPECT_LT(took, Millis(100));
  EXPECT_GE(client->stats().timeouts, 1u);
  server_.resume();
  ASSERT_TRUE(client->wait_connected(Millis(5000)));
  EXPECT_TRUE(eventually([&] { return store.get("t:a").has_value(); }));
}

}  // namespace
}  // namespace gf
