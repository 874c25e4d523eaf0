// LmdbKv: a failed commit is reported, and the store takes writes again once it has nothing
// pending (as LmdbStore does), instead of refusing every write from then on.
#include "io/store/lmdb_kv.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>

namespace gf::io {
namespace {

TEST(LmdbKv, AcceptsWritesAgainAfterAFailedCommit) {
  char tmpl[] = "/tmp/gf-kv-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  {
    KvOptions o;
    o.path = dir + "/kv";
    o.map_size = 64 << 10;  // 64 KiB: a few large values fill it
    o.commit_interval = Millis(1);
    o.sync = false;
    auto kv = LmdbKv::open(o).value();
    bool failed = false;
    for (int i = 0; i < 1000 && !failed; ++i) {
      failed = !kv->put("v:" + std::to_string(i), std::string(2000, 'x')).has_value() ||
               (i % 10 == 9 && !kv->flush().has_value());
    }
    ASSERT_TRUE(failed);
    EXPECT_GT(kv->stats().commit_failures, 0u);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // empty rounds pass
    EXPECT_TRUE(kv->put("small", "1").has_value());
    EXPECT_TRUE(kv->get("small").has_value());  // reads keep working
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gf::io
