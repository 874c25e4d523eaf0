#pragma once
// Time as the core sees it: a value passed in by the caller, never read from a clock here.
// Durations in config text take units ("100ms", "300s", "5m", "2h", "2d", "1w").
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace gf {

using Seconds = std::chrono::seconds;
using Millis = std::chrono::milliseconds;
using TimePoint = std::chrono::sys_seconds;

// Parses "300s", "5m", "100ms", "2d"; a bare integer means seconds.
[[nodiscard]] Result<Millis> parse_duration(std::string_view text);
// Formats the shortest exact form: 300000ms -> "5m", 1500ms -> "1500ms".
std::string format_duration(Millis d);

// Parses "64KiB", "1GiB", "512MiB", "100KB" (decimal) or a bare byte count.
[[nodiscard]] Result<std::uint64_t> parse_size(std::string_view text);

// Formats the largest exact binary unit: 65536 -> "64KiB", 1000 -> "1000".
std::string format_size(std::uint64_t bytes);

// RFC 5322 style date in UTC, e.g. "Tue, 24 Nov 2026 18:43:38 +0000".
std::string format_rfc5322_utc(TimePoint t);

// ISO 8601 in UTC, e.g. "2026-11-24T18:43:38Z": what the CLI's listings print.
std::string format_iso8601_utc(TimePoint t);

inline std::int64_t to_unix(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint from_unix(std::int64_t s) { return TimePoint(Seconds(s)); }

}  // namespace gf
