#include "core/common/check.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace gf {
namespace {

std::atomic<std::uint64_t> g_bugs{0};

void default_bug_handler(std::string_view report) {
  std::fprintf(stderr, "greyflux: bug: %.*s\n", static_cast<int>(report.size()), report.data());
}

std::atomic<BugHandler> g_handler{&default_bug_handler};

}  // namespace

void set_bug_handler(BugHandler handler) {
  g_handler.store(handler != nullptr ? handler : &default_bug_handler);
}

std::uint64_t bug_count() { return g_bugs.load(std::memory_order_relaxed); }

namespace detail {

void check_failed(const char* file, int line, const char* expr, std::string_view msg,
                  std::string_view detail) {
  // Standard error, unbuffered writes: the process is about to abort and must not allocate much
  // or depend on a logger that may be the broken part.
  std::fprintf(stderr, "greyflux: %s:%d: check failed: %s: %.*s%s%.*s\n", file, line, expr,
               static_cast<int>(msg.size()), msg.data(), detail.empty() ? "" : ": ",
               static_cast<int>(detail.size()), detail.data());
  std::fflush(stderr);
  std::abort();
}

void bug_reported(const char* file, int line, std::string_view msg) {
  g_bugs.fetch_add(1, std::memory_order_relaxed);
  const std::string report =
      std::string(file) + ":" + std::to_string(line) + ": " + std::string(msg);
  g_handler.load()(report);
}

}  // namespace detail
}  // namespace gf
