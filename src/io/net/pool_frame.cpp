#include "io/net/pool_frame.hpp"

#include <boost/asio/use_awaitable.hpp>
#include <utility>

namespace gf::io {

boost::asio::awaitable<FrameResult> frame_on_pool(BlockingPool& pool, FrameFn frame,
                                                  std::string& in, std::string& out,
                                                  std::string peer, RefusedFn refused) {
  struct Done {
    FrameResult result;
    std::string in, out;
  };
  std::function<Done()> task = [frame = std::move(frame), copy = in,
                                peer = std::move(peer)]() mutable {
    Done d;
    d.result = frame(copy, d.out, peer);
    d.in = std::move(copy);
    return d;
  };
  auto done = co_await pool.async_run(std::move(task), Millis(0), boost::asio::use_awaitable);
  if (!done) {
    co_return refused(done.error(), out);
  }
  in = std::move(done->in);
  out += done->out;
  co_return std::move(done->result);
}

}  // namespace gf::io
