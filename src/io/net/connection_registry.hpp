#pragma once
// The open connections of one server, for drain(): each connection registers a closer (which
// posts "finish your current reply, then stop" to the connection's own executor) and removes it
// when it ends. Shared by LineServer and HttpServer.
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace gf::io {

class ConnectionRegistry {
 public:
  // Registers a connection. `draining_now` says whether a drain has already begun (then the
  // connection should stop after its first reply).
  std::uint64_t add(std::function<void()> closer, bool& draining_now) {
    std::lock_guard lock(mu_);
    draining_now = draining_;
    closers_.emplace(++next_id_, std::move(closer));
    return next_id_;
  }

  void remove(std::uint64_t id) {
    std::lock_guard lock(mu_);
    closers_.erase(id);
  }

  // Marks the server as draining and calls every registered closer (outside the lock).
  void drain() {
    std::vector<std::function<void()>> closers;
    {
      std::lock_guard lock(mu_);
      draining_ = true;
      closers.reserve(closers_.size());
      for (auto& [id, closer] : closers_) {
        closers.push_back(closer);
      }
    }
    for (auto& c : closers) {
      c();
    }
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::uint64_t, std::function<void()>> closers_;
  std::uint64_t next_id_ = 0;
  bool draining_ = false;
};

}  // namespace gf::io
