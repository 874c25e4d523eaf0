#pragma once
// Connected io::RedisClients for the store contract suites: on the shared test server
// (redis_server.hpp) and on the Redis Cluster that ctest redis.cluster_contracts makes. Timeouts
// are long (a loaded test machine); the fault tests check the short ones. A client that does not
// connect fails the test that asked for it.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/common/redis_url.hpp"
#include "io/store/redis_client.hpp"
#include "redis_server.hpp"

namespace gf::test {

inline std::shared_ptr<io::RedisClient> connect_test_client(const io::RedisOptions& o,
                                                            Millis wait) {
  auto client = std::shared_ptr<io::RedisClient>(io::RedisClient::start(o).value());
  EXPECT_TRUE(client->wait_connected(wait)) << "redis at " << format_redis_url(o.url);
  return client;
}

// A client of the redis-server on 127.0.0.1:`port` with the call timeout under test and a short
// reconnect backoff (10-100 ms), not waited for: the test says how long it may take to connect.
inline std::shared_ptr<io::RedisClient> local_redis_client(int port, Millis timeout, int pool = 1) {
  io::RedisOptions o;
  o.url = parse_redis_url("redis://127.0.0.1:" + std::to_string(port)).value();
  o.timeout = timeout;
  o.connect_timeout = Millis(1000);
  o.backoff_min = Millis(10);
  o.backoff_max = Millis(100);
  o.pool_size = pool;
  return std::shared_ptr<io::RedisClient>(io::RedisClient::start(o).value());
}

inline std::shared_ptr<io::RedisClient> shared_redis_client(int pool_size = 1) {
  io::RedisOptions o;
  o.url = parse_redis_url(shared_redis().url()).value();
  o.timeout = Millis(5000);
  o.pool_size = pool_size;
  return connect_test_client(o, Millis(5000));
}

inline std::shared_ptr<io::RedisClient> test_cluster_client() {
  io::RedisOptions o;
  o.url =
      parse_redis_url("redis://127.0.0.1:" + std::to_string(test_cluster_ports().front())).value();
  o.cluster = true;
  o.timeout = Millis(5000);
  return connect_test_client(o, Millis(10000));
}

}  // namespace gf::test
