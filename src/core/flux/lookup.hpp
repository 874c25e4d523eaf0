#pragma once
// FluxIndex: the in-process answer to "is this host a fast-flux name, is this address an agent?"
// for the comment and mail checks (a link to a flux domain is strong spam evidence; a client
// address that serves one is an infected host).
//
// Built from the flagged verdicts of a scan and the verdicts still held (VerdictMemory), or
// from an RPZ read back with parse_rpz, then
// read-only: share it as shared_ptr<const FluxIndex> and swap in a new one after each rescan.
// host lookups match the name and every name below it, case-insensitively.
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/common/ip.hpp"
#include "core/flux/rpz.hpp"
#include "core/flux/score.hpp"
#include "core/flux/verdicts.hpp"

namespace gf::flux {

struct FluxHit {
  std::string name;            // the listed flux name that matched
  double score = 0;            // composite score (0 when built from an RPZ)
  std::int64_t last_flux = 0;  // Unix seconds of the last answer judged flux (0: unknown)
};

class FluxIndex {
 public:
  void add(const Verdict& v);           // only flagged verdicts are indexed
  void add(const RpzContent& content);  // names and agent addresses of a zone
  void add(const std::string& name, const HeldVerdict& held);  // a verdict held after the fact
  std::optional<FluxHit> match_host(std::string_view host) const;
  bool is_agent(const IpAddress& ip) const;
  std::size_t names() const { return names_.size(); }
  std::size_t agents() const { return agents_.size(); }

 private:
  struct IpHash {
    std::size_t operator()(const IpAddress& ip) const;
  };
  struct Entry {
    double score = 0;
    std::int64_t last_flux = 0;
  };
  std::unordered_map<std::string, Entry> names_;
  std::unordered_set<IpAddress, IpHash> agents_;
};

}  // namespace gf::flux
