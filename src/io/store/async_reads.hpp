#pragma once
// async_get_many(): Store::get_many_async() (core/greylist/store.hpp) as an Asio asynchronous
// operation, so that a connection coroutine waits for a networked store's read with
// `co_await async_get_many(store, keys, asio::use_awaitable)` while its io thread serves other
// connections.
//
// Flow: the store's completion (on the store's own thread for Redis, or on the calling thread
// before get_many_async() returns) is posted to the handler's associated executor, so the
// coroutine always resumes on its own io thread, never inside the store's callback. The read
// counts as outstanding work of that executor until it completes (within the store's timeout),
// so an io_context does not run out of work, and is not destroyed, under a read in flight.
// Errors: the read's Result, unchanged (a store failure is a value, not an exception).
// let_batched_writes_out(): see below.
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/common/kv_store.hpp"
#include "core/greylist/store.hpp"
#include "io/store/redis_client.hpp"

namespace gf::io {

using RecordsResult = Result<std::vector<std::optional<greylist::Record>>>;

template <class Token>
auto async_get_many(greylist::Store& store, std::vector<std::string> keys, Token&& token) {
  return boost::asio::async_initiate<Token, void(RecordsResult)>(
      [&store](auto handler, std::vector<std::string> wanted) {
        // The store takes a copyable std::function; Asio handlers are move-only.
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        auto ex = boost::asio::prefer(boost::asio::get_associated_executor(*h),
                                      boost::asio::execution::outstanding_work.tracked);
        store.get_many_async(std::move(wanted), [h, ex](RecordsResult r) {
          boost::asio::post(ex, [h, r = std::move(r)]() mutable { (*h)(std::move(r)); });
        });
      },
      token, std::move(keys));
}

using ValuesResult = Result<std::vector<std::optional<std::string>>>;

// The same for KvStore::get_many_async() (the comment-check's one read).
template <class Token>
auto async_get_values(KvStore& store, std::vector<std::string> keys, Token&& token) {
  return boost::asio::async_initiate<Token, void(ValuesResult)>(
      [&store](auto handler, std::vector<std::string> wanted) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        auto ex = boost::asio::prefer(boost::asio::get_associated_executor(*h),
                                      boost::asio::execution::outstanding_work.tracked);
        store.get_many_async(std::move(wanted), [h, ex](ValuesResult r) {
          boost::asio::post(ex, [h, r = std::move(r)]() mutable { (*h)(std::move(r)); });
        });
      },
      token, std::move(keys));
}

// After a RedisWriteBatch (io/store/redis_client.hpp): resumes once the loop has run the
// handlers posted before, the batch's flush among them, so that the writes are in Redis's socket
// before the caller acknowledges them. One post; nothing else waits.
inline boost::asio::awaitable<void> let_batched_writes_out() {
  const auto ex = co_await boost::asio::this_coro::executor;
  co_await boost::asio::post(ex, boost::asio::use_awaitable);
}

}  // namespace gf::io
