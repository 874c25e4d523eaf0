#pragma once
// A bound, listening TCP acceptor for a ListenSpec, shared by LineServer and HttpServer:
// SO_REUSEADDR, IPv6 sockets IPv6-only, the system's largest backlog.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string_view>

#include "core/common/result.hpp"
#include "io/net/listen.hpp"

namespace gf::io {

// `server` names the server in the error ("policy: cannot listen on 127.0.0.1:10023: ...").
[[nodiscard]] Result<std::unique_ptr<boost::asio::ip::tcp::acceptor>> listen_tcp(
    const boost::asio::any_io_executor& ex, const ListenSpec& spec, std::string_view server);

}  // namespace gf::io
