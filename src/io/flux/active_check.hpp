#pragma once
// Active measurement: resolve names repeatedly with libunbound, as Holz et al. did, and feed
// every answer into a flux::Ingest.
//
// Each round resolves A and AAAA for every name, and NS for its registrable domain plus the
// addresses of up to four of those name servers (double flux). Between rounds it waits for the
// longest TTL seen in the round plus one second (so the next answer is fresh, not cached),
// never longer than max_wait. Full recursion from the root hints, or forwarding to `forwarder`
// ("127.0.0.1@5353"); lookups to loopback are allowed so a local Unbound can serve tests.
// Blocking; runs on the calling thread.
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "core/common/result.hpp"
#include "core/flux/ingest.hpp"

namespace gf::io {

struct CheckOptions {
  std::string forwarder;  // empty: full recursion
  int rounds = 3;
  std::chrono::seconds max_wait{600};
  bool name_servers = true;
  std::function<std::string(std::string_view)> registrable;  // may be empty
  // Called before each wait and after each name: (round, rounds, what is happening).
  std::function<void(int, int, const std::string&)> progress;
};

struct CheckStats {
  std::size_t lookups = 0;
  std::size_t failures = 0;  // SERVFAIL, timeouts, libunbound errors
  std::chrono::seconds waited{0};
};

[[nodiscard]] Result<CheckStats> active_check(const std::vector<std::string>& names,
                                              flux::Ingest& ingest, const CheckOptions& options);

}  // namespace gf::io
