#pragma once
// A LineServer frame run on a BlockingPool: the admin socket and the milter on a networked store
// hand each read's frame (whose store calls block) to the pool and await it, so the io thread
// serves its other connections meanwhile.
//
// Flow: a copy of `in` goes to the pool with `frame`; the copy comes back as `frame` left it
// (consumed bytes erased) and what `frame` appended is appended to `out`, on the awaiting
// coroutine's executor. No deadline: each store call a frame makes has its own timeout. When the
// pool refuses the work (busy, or joined), `refused` decides the connection's answer. Lifetime:
// whatever `frame` touches must outlive the pool's join() (BlockingPool's rule).
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>

#include "core/common/result.hpp"
#include "io/net/blocking_pool.hpp"
#include "io/net/line_server.hpp"

namespace gf::io {

// The answer to a frame the pool would not run: replies appended to `out`, and the FrameResult.
using RefusedFn = std::function<FrameResult(const Error& why, std::string& out)>;

// `peer` is a copy: the coroutine may outlive the caller's full expression.
boost::asio::awaitable<FrameResult> frame_on_pool(BlockingPool& pool, FrameFn frame,
                                                  std::string& in, std::string& out,
                                                  std::string peer, RefusedFn refused);

}  // namespace gf::io
