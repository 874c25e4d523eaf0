#pragma once
// BlockingPool: a few threads of their own for the work that waits on a networked store
// (Redis) with blocking calls and is not on a decision's hot path: the admin REST API, the
// comment API's feedback and key endpoints, /readyz, the admin socket's commands, the model
// snapshots and the shared training logs' polls. The io threads hand such work here and await
// its answer, so a slow or hung Redis stalls that work and never the policy, comment-check or
// spamd connections served by the same io thread.
//
// Flow: async_run() posts `fn` to the pool and suspends the calling coroutine; the value comes back
// on the coroutine's own executor. It answers a StoreFailure instead when `max_pending` tasks
// already wait or run ("busy": nothing is queued, so a burst of admin requests on a hung store
// is refused at once instead of piling up), or when `deadline` passes first (the task then
// still runs to its end, as blocking calls cannot be cancelled, and its value is dropped; it
// keeps its place in `max_pending` until then). post() is async_run() without an answer, for
// timers; SerialTask runs one function at most once at a time on the pool.
//
// Threading: run(), post() and trigger() from any thread; `fn` runs on a pool thread and must be
// thread-safe against everything else the daemon runs. Lifetime: whatever `fn` touches must live
// until join() has returned (the daemon joins the pool after its io loops have stopped and
// before it closes the services); a coroutine waiting in async_run() keeps its executor's work
// count up until the task has ended, so an io_context does not run out of work under it. Errors:
// Result values (a StoreFailure whose message says busy or late), never an exception.
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/common/result.hpp"
#include "core/common/time.hpp"

namespace gf::io {

struct BlockingPoolStats {
  std::atomic<std::uint64_t> done{0};       // tasks that ran to their end
  std::atomic<std::uint64_t> refused{0};    // run()/post() refused: max_pending reached
  std::atomic<std::uint64_t> timed_out{0};  // run() answered late (the deadline passed first)
  std::atomic<std::int64_t> pending{0};     // tasks waiting or running now
};

class BlockingPool {
 public:
  struct Options {
    std::string name = "blocking";  // thread names ("gf-" + name) and messages
    int threads = 4;
    std::size_t max_pending = 64;
  };
  explicit BlockingPool(Options o);
  ~BlockingPool();  // join()
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Runs every task taken so far, then stops the threads; later post()/run() are refused.
  void join();

  // Queues `fn`; false (fn dropped, not run) when max_pending tasks wait or run, or after join().
  bool post(std::function<void()> fn);

  // `fn`'s value as an asynchronous operation (`co_await pool.async_run(fn, deadline,
  // asio::use_awaitable)`): the completion runs on the token's associated executor (the
  // awaiting coroutine's own); deadline <= 0: no deadline. Not a coroutine itself, and callers
  // pass `fn` as a named object: GCC 12 mishandles temporaries inside co_await expressions.
  template <class T, class Token>
  auto async_run(std::function<T()> fn, Millis deadline, Token&& token);

  [[nodiscard]] const BlockingPoolStats& stats() const { return stats_; }
  [[nodiscard]] const std::string& name() const { return opts_.name; }

 private:
  void work();

  Options opts_;
  BlockingPoolStats stats_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// Runs `fn` on the pool, never twice at once: a trigger() while it waits or runs makes it run
// once more afterwards (a timer tick, a "new TELL to append" wake-up). A trigger the pool
// refuses (busy) is dropped; the next one tries again. Must outlive the pool's join().
class SerialTask {
 public:
  SerialTask(BlockingPool& pool, std::function<void()> fn);
  void trigger();

 private:
  void launch();
  BlockingPool& pool_;
  std::function<void()> fn_;
  std::mutex mu_;
  bool running_ = false;
  bool again_ = false;
};

// --- implementation of run() ---------------------------------------------------------------------

template <class T, class Token>
auto BlockingPool::async_run(std::function<T()> fn, Millis deadline, Token&& token) {
  namespace asio = boost::asio;
  auto initiate = [this, deadline](auto handler, std::function<T()> task) {
    using Handler = decltype(handler);
    struct State {
      explicit State(Handler h)
          : work(asio::prefer(asio::get_associated_executor(h),
                              asio::execution::outstanding_work.tracked)),
            timer(work),
            handler(std::move(h)) {}
      asio::any_io_executor work;  // keeps the caller's context running until the task ends
      asio::steady_timer timer;
      Handler handler;
      bool answered = false;  // touched on the caller's executor only
      void answer(Result<T> r) {
        if (!answered) {
          answered = true;
          Handler h = std::move(handler);
          std::move(h)(std::move(r));
        }
      }
    };
    auto st = std::make_shared<State>(std::move(handler));
    const bool queued = post([st, task = std::move(task)] {
      Result<T> value = fail(Errc::Io, "the task did not run");
      try {
        value = task();
      } catch (const std::exception& e) {  // a backstop: bad_alloc and the like
        value = fail(Errc::Io, e.what());
      }
      asio::post(st->work, [st, v = std::move(value)]() mutable {
        st->timer.cancel();
        st->answer(std::move(v));
        st->work = asio::any_io_executor();  // the task has ended: the context may run out
      });
    });
    if (!queued) {
      std::string why = opts_.name + ": busy (" + std::to_string(opts_.max_pending) +
                        " requests already wait for the store)";
      asio::post(st->work, [st, why = std::move(why)]() mutable {
        st->answer(fail(Errc::StoreFailure, std::move(why)));
        st->work = asio::any_io_executor();
      });
      return;
    }
    if (deadline.count() > 0) {
      st->timer.expires_after(deadline);
      st->timer.async_wait([this, st, deadline](boost::system::error_code ec) {
        if (ec || st->answered) {
          return;
        }
        ++stats_.timed_out;
        st->answer(fail(Errc::StoreFailure, opts_.name + ": no answer from the store within " +
                                                std::to_string(deadline.count()) + " ms"));
      });
    }
  };
  return asio::async_initiate<Token, void(Result<T>)>(initiate, token, std::move(fn));
}

}  // namespace gf::io
