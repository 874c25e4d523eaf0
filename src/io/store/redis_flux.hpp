#pragma once
// SharedFluxStore: moves the flux detector's shared per-name state (core/flux/shared.hpp) to
// and from Redis or Redis Cluster. publish() sends one EVALSHA per changed name (the script is
// loaded with SCRIPT LOAD on every master; a NOSCRIPT reply, after a restart or a failover,
// sends that delta again as EVAL), `batch` names per pipeline; read() fetches the merged views
// (three ZRANGEs and a PFCOUNT per name), `batch` names per pipeline. Every key of a name
// carries the `{name}` hash tag, so a script never crosses a slot.
//
// Threading: called from the flux service's publish pass only (one thread); the RedisClient is
// thread-safe. Errors: StoreFailure from the client (Redis down, timeout) or an error reply;
// the caller logs and counts it and judges on the local state alone for that pass.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/common/result.hpp"
#include "core/flux/shared.hpp"
#include "io/store/redis_client.hpp"

namespace gf::io {

class SharedFluxStore {
 public:
  SharedFluxStore(std::shared_ptr<RedisClient> client, std::string prefix,
                  flux::SharedLimits limits, std::size_t batch = 200);

  // `done` (optional) gets how many deltas, from the first, Redis applied before a failure
  // (a batch that fails part way is counted as not applied; its applied part is counted again
  // when it is resent).
  [[nodiscard]] Result<void> publish(const std::vector<flux::NameDelta>& deltas,
                                     std::size_t* done = nullptr);
  // The merged views of `names`; names Redis holds nothing for are left out.
  [[nodiscard]] Result<std::unordered_map<std::string, flux::SharedView>> read(
      const std::vector<std::string>& names);

  // The shared list of flagged names (PREFIX flagged: a sorted set, name -> last seen fluxing):
  // flag() adds this node's flux names (ZADD GT) and drops entries last seen fluxing before
  // `expire_before_s`; flagged_since() lists those last seen fluxing at or after `since_s`.
  [[nodiscard]] Result<void> flag(const std::vector<std::pair<std::string, std::uint32_t>>& names,
                                  std::uint32_t expire_before_s);
  [[nodiscard]] Result<std::vector<std::pair<std::string, std::uint32_t>>> flagged_since(
      std::uint32_t since_s);

  struct Stats {
    std::uint64_t names_published = 0, names_read = 0, failures = 0, noscript = 0;
  };
  Stats stats() const { return stats_; }
  RedisClient& client() { return *client_; }

 private:
  Result<void> load_script();
  Result<void> publish_batch(const std::vector<flux::NameDelta>& deltas, std::size_t from,
                             std::size_t to);

  std::shared_ptr<RedisClient> client_;
  std::string prefix_;
  flux::SharedLimits limits_;
  std::size_t batch_;
  std::string sha_;
  Stats stats_;
};

}  // namespace gf::io
