#pragma once
// `greyflux serve`: wires config, store, greylist, the policy listener and the admin socket,
// and handles signals (SIGHUP reloads the policy part; SIGTERM/SIGINT drain and exit 0).
#include <string>
#include <vector>

namespace gf::app {

int serve(const std::string& config_path, const std::vector<std::string>& overrides);

// Runs one admin command against a running daemon (admin socket) or, if none answers, directly
// on the configured store. Prints the reply; returns the process exit code.
int admin_command(const std::string& config_path, const std::vector<std::string>& overrides,
                  const std::string& line);

// Sets up spdlog: level, destination, and one line format for the whole process.
void setup_logging(const std::string& level, const std::string& file);

}  // namespace gf::app
