#pragma once
// Where a server puts a newly accepted connection (shared by LineServer and HttpServer).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <functional>

namespace gf::io {

// On the context `pick` names (IoPool::next: run by one thread, so no strand is needed), or on
// a strand of `own` when there is no pick.
inline boost::asio::any_io_executor connection_executor(
    const std::function<boost::asio::io_context&()>& pick, boost::asio::io_context& own) {
  if (pick) {
    return pick().get_executor();
  }
  return boost::asio::make_strand(own);
}

}  // namespace gf::io
