#pragma once
// Invariants: what earlier validation, a size check or the code's own structure guarantees.
//
// Three macros, one definition each (in the spirit of Envoy's RELEASE_ASSERT and Knot's
// lib/utils.h). They are for facts the program itself established, never for untrusted input:
// network bytes, stored records and config text go through parsers that return Result<T>.
//
//   GF_CHECK(cond, msg)   always on; on failure prints "file:line: check failed: cond: msg" to
//                         standard error and aborts. For "validated earlier" facts whose
//                         violation would corrupt state or read out of bounds.
//   GF_ASSERT(cond, msg)  the same in debug builds; compiled out (not evaluated) with NDEBUG.
//                         For checks too costly for the hot path.
//   GF_BUG(msg)           a "cannot happen" branch that the program can survive: in release it
//                         counts (bug_count()) and reports through the bug handler (stderr by
//                         default; the daemon routes it to its log), in debug it aborts.
//
// `msg` is anything convertible to std::string_view. GF_CHECK_OK(result, msg) checks a Result and
// adds its error message to the report.
//
// Threading: the macros are safe from any thread; set_bug_handler() is meant for start-up.
#include <atomic>
#include <cstdint>
#include <string_view>

namespace gf {

// Called by GF_BUG in release builds with "file:line: msg". Replaces the default (stderr).
using BugHandler = void (*)(std::string_view report);
void set_bug_handler(BugHandler handler);
// How many GF_BUG branches were taken in this process.
std::uint64_t bug_count();

namespace detail {
[[noreturn]] void check_failed(const char* file, int line, const char* expr, std::string_view msg,
                               std::string_view detail = {});
void bug_reported(const char* file, int line, std::string_view msg);
}  // namespace detail

}  // namespace gf

#define GF_CHECK(cond, msg)                                         \
  do {                                                              \
    if (!(cond)) [[unlikely]] {                                     \
      ::gf::detail::check_failed(__FILE__, __LINE__, #cond, (msg)); \
    }                                                               \
  } while (0)

#define GF_CHECK_OK(result, msg)                                     \
  do {                                                               \
    const auto& gf_check_result_ = (result);                         \
    if (!gf_check_result_) [[unlikely]] {                            \
      ::gf::detail::check_failed(__FILE__, __LINE__, #result, (msg), \
                                 gf_check_result_.error().message);  \
    }                                                                \
  } while (0)

#ifdef NDEBUG
#define GF_ASSERT(cond, msg) \
  do {                       \
    (void)sizeof(cond);      \
  } while (0)
#define GF_BUG(msg) ::gf::detail::bug_reported(__FILE__, __LINE__, (msg))
#else
#define GF_ASSERT(cond, msg) GF_CHECK(cond, msg)
#define GF_BUG(msg) ::gf::detail::check_failed(__FILE__, __LINE__, "GF_BUG", (msg))
#endif
