#pragma once
// `greyflux greylist|whitelist|stats`: one admin command sent to the running daemon's admin
// socket (admin.socket) or, when no daemon answers there, run directly on the configured store
// (LMDB is safe to share between processes; a memory store has nothing to open).
#include <string>
#include <vector>

namespace gf::app {

// Prints the reply's body on standard output; returns the process exit code: 0 ok, 1 the
// command failed (the error line on standard error), 2 a config or store that cannot be opened.
int admin_command(const std::string& config_path, const std::vector<std::string>& overrides,
                  const std::string& line);

}  // namespace gf::app
