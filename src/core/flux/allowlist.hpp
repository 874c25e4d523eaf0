#pragma once
// Benign "fluxy" services: CDN and anycast suffixes, the NTP pool, large mail and cloud
// providers. Parsed from the shipped data file (data/flux-allowlist.txt):
//   # comment
//   akamaiedge.net      cdn
//   pool.ntp.org        ntp-pool
// A name matches when it equals a suffix or lies below it; a CNAME chain that enters a listed
// suffix lowers the composite score instead of clearing it outright (a flux name can CNAME into
// anything; the question name itself being listed clears it).
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/common/result.hpp"

namespace gf::flux {

struct AllowlistMatch {
  std::string suffix;
  std::string category;
};

class Allowlist {
 public:
  struct Stats {
    std::size_t entries = 0;
    std::size_t skipped_lines = 0;
  };
  [[nodiscard]] static Result<Allowlist> parse(std::string_view text);

  std::optional<AllowlistMatch> match(std::string_view name) const;
  std::size_t size() const { return suffixes_.size(); }
  const Stats& stats() const { return stats_; }

 private:
  std::unordered_map<std::string, std::string> suffixes_;  // canonical suffix -> category
  Stats stats_;
};

}  // namespace gf::flux
