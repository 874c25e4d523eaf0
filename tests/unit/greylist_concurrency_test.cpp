// Greylist::check() runs on several io threads at once; admin edits happen beside it.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/greylist/greylist.hpp"
#include "core/greylist/memory_store.hpp"

namespace gf::greylist {
namespace {

policy::Request rcpt(int thread, int i) {
  policy::Request r;
  r.request = "smtpd_access_policy";
  r.protocol_state = "RCPT";
  r.client_address = "198.51." + std::to_string(thread) + "." + std::to_string(1 + i % 250);
  r.client_name = "unknown";
  r.sender = "s" + std::to_string(i) + "@t" + std::to_string(thread) + ".example";
  r.recipient = "r" + std::to_string(i) + "@example.org";
  r.instance = std::to_string(thread) + "-" + std::to_string(i);
  return r;
}

TEST(GreylistConcurrency, ParallelChecksAndAdminEditsKeepEveryDecisionRight) {
  MemoryStore store;
  auto policy = std::make_shared<Policy>();
  policy->settings.delay = Seconds(300);
  policy->settings.auto_whitelist_after = 0;
  policy->settings.domain_auto_whitelist_after = 0;
  Greylist gl(policy, store, {});
  const TimePoint t0 = from_unix(1'700'000'000);
  std::atomic<int> wrong{0};
  std::atomic<bool> done{false};
  std::thread admin([&] {
    for (int i = 0; !done; ++i) {
      (void)gl.add_client_whitelist("203.0.113." + std::to_string(i % 200));
      (void)gl.remove_client_whitelist("203.0.113." + std::to_string((i + 100) % 200));
      gl.set_policy(policy);
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if (gl.check(rcpt(t, i), t0).action != Action::Defer) {
          ++wrong;
        }
      }
      for (int i = 0; i < 2000; ++i) {
        if (gl.check(rcpt(t, i), t0 + Seconds(301)).action != Action::Prepend) {
          ++wrong;
        }
      }
    });
  }
  for (auto& w : workers) {
    w.join();
  }
  done = true;
  admin.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace gf::greylist
