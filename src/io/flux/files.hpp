#pragma once
// Small file helpers for the flux outputs: whole-file reads and atomic replacement
// (temp file in the same directory, fsync, rename), so a resolver reloading an RPZ never sees
// half a zone.
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace gf::io {

[[nodiscard]] Result<std::string> read_file(const std::string& path);
[[nodiscard]] Result<void> write_file_atomic(const std::string& path, std::string_view content);

}  // namespace gf::io
