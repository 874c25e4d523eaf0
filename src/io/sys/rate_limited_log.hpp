#pragma once
// The one rate-limited log of greyflux: a failure that can repeat per request (a store that
// went away, a flood of malformed input, a full listener) is logged at most once per `every`;
// the lines in between are counted, and the next line that is written says how many were left
// out ("... (12 similar suppressed)"). Each RateLimitedLog instance is one such budget: keep one
// per kind of failure so a flood of one does not hide the first line of another.
//
// Threading: log() and allow() are safe from any thread (a mutex, held for a clock read).
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace gf::io {

class RateLimitedLog {
 public:
  explicit RateLimitedLog(std::chrono::steady_clock::duration every = std::chrono::seconds(1))
      : every_(every) {}

  // True when a line may be written now; `suppressed` is then set to the number of lines left
  // out since the last one. For callers that word the count themselves.
  [[nodiscard]] bool allow(std::uint64_t& suppressed);

  // Writes `message` at `level` unless the budget is spent, adding the suppressed count.
  void log(spdlog::level::level_enum level, std::string_view message);
  void warn(std::string_view message) { log(spdlog::level::warn, message); }
  void error(std::string_view message) { log(spdlog::level::err, message); }

 private:
  std::chrono::steady_clock::duration every_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point last_{};
  bool logged_ = false;
  std::uint64_t suppressed_ = 0;
};

}  // namespace gf::io
