#pragma once
// The mail model file (spamd.model): spamd::Scanner::serialize() bytes on disk.
//
// load_mail_model() starts an empty model when the path is empty or names no file, so a new
// install needs no training step; a file that exists but cannot be read or decoded is an Error
// (a start-up error: serving with an empty model would silently forget what was learned).
// save_mail_model() replaces the file atomically (temp file, fsync, rename) after creating
// its directory, so a crash leaves the old model or the new one, never half of one.
//
// Threading: plain functions; the caller serializes writers of one path.
#include <string>
#include <string_view>

#include "core/common/result.hpp"
#include "core/spamd/scanner.hpp"

namespace gf::io {

// `blob_hash` (optional): spamd::model_hash() of the file's bytes, 0 when there is no file.
[[nodiscard]] Result<spamd::Scanner> load_mail_model(const std::string& path,
                                                     const spamd::ScannerOptions& options,
                                                     std::uint64_t* blob_hash = nullptr);
// An empty path saves nothing.
[[nodiscard]] Result<void> save_mail_model(const std::string& path, std::string_view blob);

}  // namespace gf::io
