#pragma once
// `greyflux store copy --from SPEC --to SPEC`: moves a deployment's state (greylist records and
// the comment API's keys, counters, reputation, stored checks, model) between backends, with
// progress lines and a verification (counts and a digest of every entry, core/common/
// store_copy.hpp). SPEC is
//   lmdb:DIR        a data directory: DIR/greyflux.lmdb (greylist), DIR/akismet.lmdb (comments)
//   redis://...     a Redis (or unix:/path); with --from-cluster / --to-cluster a cluster node
// Keys in Redis sit under --prefix (default: the config's store.redis_prefix, "gf:"). Records
// go with the config's greylist settings for their Redis expiry; records that expire within
// --margin are not copied (counted). Stop the daemons first: a write during the copy fails the
// verification. Exit 0 when everything was copied and verified, 1 on a copy error, 2 on usage.
#include <string>
#include <vector>

namespace gf::app {

struct StoreCopyArgs {
  std::string from, to;
  bool from_cluster = false;
  bool to_cluster = false;
  std::string prefix;  // empty: store.redis_prefix
  std::string margin = "5m";
};

int store_copy_command(const std::string& config, const std::vector<std::string>& overrides,
                       const StoreCopyArgs& args);

}  // namespace gf::app
