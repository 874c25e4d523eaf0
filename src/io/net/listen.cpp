#include "io/net/listen.hpp"

#include <fmt/format.h>

#include <charconv>

#include "core/common/ip.hpp"

namespace gf::io {

std::string ListenSpec::to_string() const {
  if (is_unix) {
    return "unix:" + path;
  }
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                             : fmt::format("{}:{}", host, port);
}

Result<ListenSpec> parse_listen(std::string_view text) {
  ListenSpec spec;
  if (text.starts_with("unix:")) {
    spec.is_unix = true;
    spec.path = std::string(text.substr(5));
    if (spec.path.empty() || spec.path.size() > 100) {
      return fail(Errc::Config, fmt::format("'{}': unix socket path empty or too long", text));
    }
    return spec;
  }
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return fail(Errc::Config, fmt::format("'{}' is not HOST:PORT or unix:PATH", text));
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") {
    host = "127.0.0.1";
  }
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || ptr != port.data() + port.size() || p > 65535) {
    return fail(Errc::Config, fmt::format("'{}' has a bad port", text));
  }
  if (!parse_ip(host)) {
    return fail(Errc::Config, fmt::format("'{}': listen needs a numeric address", text));
  }
  spec.host = std::string(host);
  spec.port = static_cast<std::uint16_t>(p);
  return spec;
}

}  // namespace gf::io
