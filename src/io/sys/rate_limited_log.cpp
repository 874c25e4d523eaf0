#include "io/sys/rate_limited_log.hpp"

#include <fmt/format.h>

namespace gf::io {

bool RateLimitedLog::allow(std::uint64_t& suppressed) {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (logged_ && now - last_ < every_) {
    ++suppressed_;
    return false;
  }
  logged_ = true;
  last_ = now;
  suppressed = suppressed_;
  suppressed_ = 0;
  return true;
}

void RateLimitedLog::log(spdlog::level::level_enum level, std::string_view message) {
  std::uint64_t suppressed = 0;
  if (!allow(suppressed)) {
    return;
  }
  if (suppressed == 0) {
    spdlog::log(level, "{}", message);
  } else {
    spdlog::log(level, "{} ({} similar suppressed)", message, suppressed);
  }
}

}  // namespace gf::io
