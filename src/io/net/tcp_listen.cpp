#include "io/net/tcp_listen.hpp"

#include <fmt/format.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/socket_base.hpp>

namespace gf::io {

namespace asio = boost::asio;

Result<std::unique_ptr<asio::ip::tcp::acceptor>> listen_tcp(const asio::any_io_executor& ex,
                                                            const ListenSpec& spec,
                                                            std::string_view server) {
  boost::system::error_code ec;
  asio::ip::tcp::endpoint ep(asio::ip::make_address(spec.host, ec), spec.port);
  auto acc = std::make_unique<asio::ip::tcp::acceptor>(ex);
  if (!ec) {
    acc->open(ep.protocol(), ec);
  }
  if (!ec) {
    acc->set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec && ep.address().is_v6()) {
    acc->set_option(asio::ip::v6_only(true), ec);
  }
  if (!ec) {
    acc->bind(ep, ec);
  }
  if (!ec) {
    acc->listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return fail(Errc::Io, fmt::format("{}: cannot listen on {}: {}", server, spec.to_string(),
                                      ec.message()));
  }
  return acc;
}

}  // namespace gf::io
