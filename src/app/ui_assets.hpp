#pragma once
// The dashboard's files (web/ui/), compiled into the binary at build time by
// cmake/GfEmbedAssets.cmake; served under /ui/ by the HTTP front door through
// gf::web::serve_asset (core/web/static_assets.hpp).
#include <span>

#include "core/web/static_assets.hpp"

namespace gf::web {

// Every embedded file, sorted by path. The bytes live as long as the program.
[[nodiscard]] std::span<const Asset> ui_assets();

}  // namespace gf::web
