#include "io/flux/rpz_file.hpp"

#include <fmt/format.h>

#include "core/flux/rpz.hpp"
#include "io/sys/file.hpp"

namespace gf::io {

Result<std::shared_ptr<const flux::FluxIndex>> load_flux_rpz(const std::string& path) {
  if (path.empty()) {
    return std::shared_ptr<const flux::FluxIndex>();
  }
  auto text = read_file(path);
  if (!text) {
    return tl::unexpected(text.error());
  }
  auto zone = flux::parse_rpz(*text);
  if (!zone) {
    return fail(Errc::Config, fmt::format("spamd.flux_rpz {}: {}", path, zone.error().message));
  }
  auto index = std::make_shared<flux::FluxIndex>();
  index->add(zone->content);
  return std::shared_ptr<const flux::FluxIndex>(std::move(index));
}

}  // namespace gf::io
