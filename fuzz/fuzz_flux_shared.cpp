// Fuzzes what a node reads back of the flux state other nodes shared (core/flux/shared.hpp):
// the input is the four RESP2 replies of shared_read_commands() (scalars, addresses, NS
// addresses, PFCOUNT) one after the other. Asserted: no throw, every refusal says why; an
// accepted view merges into a name's state without gaining addresses it did not list (nor
// more answers than it counted), and its addresses encode back into an update command.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/flux/shared.hpp"
#include "fuzz_resp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gf::fuzz::Resp resp(std::string_view(reinterpret_cast<const char*>(data), size));
  auto scalars = resp.read();
  auto ips = resp.read();
  auto ns = resp.read();
  auto count = resp.read();
  if (!scalars || !ips || !ns || !count) {
    return 0;
  }
  auto view = gf::flux::shared_view(*scalars, *ips, *ns, *count);
  if (!view) {
    if (view.error().message.empty()) {
      std::abort();
    }
    return 0;
  }
  const gf::flux::NameState merged = gf::flux::merged_state(gf::flux::NameState{}, *view);
  if (merged.ips.size() > view->ips.size() || merged.ns_ips.size() > view->ns_ips.size() ||
      merged.responses != view->responses || merged.answers_total != view->answers ||
      merged.cname_targets.size() > 4) {
    std::abort();
  }
  gf::flux::NameDelta d;
  d.name = "fuzz.test";
  d.ips = view->ips;
  d.ns_ips = view->ns_ips;
  d.last_seen_s = view->last_seen_s;
  const auto cmd = gf::flux::shared_update_command("gf:f:", d, gf::flux::SharedLimits{}, "");
  if (cmd.size() < 13 + 2 * (d.ips.size() + d.ns_ips.size())) {
    std::abort();
  }
  return 0;
}
