#pragma once
// `greyflux flux scan FILE...`, `greyflux flux check NAME...` and `greyflux flux listen
// --dnstap-socket PATH`: the fast-flux detector from the command line. All three feed a
// flux::Tracker (scan from capture files, check from repeated libunbound lookups), judge every name
// with the three scorers, print a ranked table or JSON, cluster flagged names into networks and
// optionally write an RPZ and rbldnsd files (`listen` rewrites them periodically while a resolver
// streams dnstap into it).
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace gf::app {

class FluxCli {
 public:
  // Registers the `flux` subcommand on `app`; `default_config` is the config file used when
  // --config is not given (a missing default file means built-in defaults).
  FluxCli(CLI::App& app, std::string default_config);
  bool parsed() const;
  int run();

  struct Options {
    std::string config;
    std::vector<std::string> overrides;
    std::vector<std::string> inputs;  // files (scan) or names (check)
    bool json = false;
    bool all = false;
    bool explain = false;
    std::size_t top = 25;
    std::string asn, geoip, allowlist, scorer = "composite";
    std::string rpz, rpz_origin, dnset, ip4set;
    bool rpz_ip = false, rpz_nsdname = false, no_wildcard = false;
    std::size_t min_shared = 2;
    bool progress = true;
    // check
    std::string resolver;
    int rounds = 0;
    std::string max_wait;
    // listen
    std::string dnstap_socket, interface, duration, rpz_interval;
    std::uint16_t dns_port = 53;
  };

 private:
  CLI::App* flux_ = nullptr;
  CLI::App* scan_ = nullptr;
  CLI::App* check_ = nullptr;
  CLI::App* listen_ = nullptr;
  std::string default_config_;
  Options o_;
};

}  // namespace gf::app
