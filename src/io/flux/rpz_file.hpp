#pragma once
// The fast-flux names of an RPZ zone file, read into a FluxIndex for URI_FLUX (spamd.flux_rpz):
// the file the flux detector writes, or one from elsewhere in the same format.
//
// Errors: an empty path is "off" (a null index); an unreadable file or a zone parse_rpz rejects
// is an Error naming the path (a start-up error, or on reload: keep the previous index).
#include <memory>
#include <string>

#include "core/common/result.hpp"
#include "core/flux/lookup.hpp"

namespace gf::io {

[[nodiscard]] Result<std::shared_ptr<const flux::FluxIndex>> load_flux_rpz(const std::string& path);

}  // namespace gf::io
