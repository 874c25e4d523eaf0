#pragma once
// Whole files in and out: the one reader and the one atomic writer of greyflux.
//
// read_file() reads a regular file (or a pipe such as /dev/stdin) into memory, refusing more
// than `max_bytes`, so a config or model path pointing at something huge fails with a clear
// error instead of exhausting memory.
//
// write_file_atomic() replaces a file so that a reader (a resolver reloading an RPZ, greyflux
// loading its model after a crash or a power loss) sees either the old or the new content, never
// half of one: it writes a temporary file in the same directory, fsyncs it, renames it over the
// target and fsyncs the directory so the rename itself is durable.
//
// Errors are Result values whose message names the path and the failing step (tier 2 in
// docs/architecture.md); nothing here throws or logs. Safe from any thread; two writers of the
// same path race only as rename(2) does (the last rename wins, each file whole).
#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace gf::io {

inline constexpr std::size_t kMaxReadBytes = std::size_t{1} << 30;  // 1 GiB

// The file's bytes; Errc::NotFound when it does not exist, Errc::TooLarge over `max_bytes`,
// Errc::Io otherwise. Messages read "PATH: reason".
[[nodiscard]] Result<std::string> read_file(const std::string& path,
                                            std::size_t max_bytes = kMaxReadBytes);

// Replaces `path` with `content` (mode `mode`), durably and atomically. The directory must
// exist. On error the target is untouched and no temporary file is left behind.
[[nodiscard]] Result<void> write_file_atomic(const std::string& path, std::string_view content,
                                             mode_t mode = 0644);

// The directory part of a path as fsync and mkstemp need it ("." for a bare file name).
std::string parent_dir(const std::string& path);

}  // namespace gf::io
