#include "core/common/time.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <charconv>

namespace gf {
namespace {

bool parse_number(std::string_view digits, std::uint64_t& out) {
  if (digits.empty()) {
    return false;
  }
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  return ec == std::errc() && ptr == digits.data() + digits.size();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Splits "300s" into 300 and "s"; false when there is no leading number.
bool split_number_unit(std::string_view text, std::uint64_t& n, std::string_view& unit) {
  std::string_view s = trim(text);
  std::size_t split = 0;
  while (split < s.size() && s[split] >= '0' && s[split] <= '9') {
    ++split;
  }
  unit = trim(s.substr(split));
  return parse_number(s.substr(0, split), n);
}

}  // namespace

Result<Millis> parse_duration(std::string_view text) {
  std::uint64_t n = 0;
  std::string_view unit;
  if (!split_number_unit(text, n, unit)) {
    return fail(Errc::Config, fmt::format("'{}' is not a duration (e.g. 300s, 5m, 2d)", text));
  }
  std::uint64_t ms_per_unit = 0;
  if (unit.empty() || unit == "s") {
    ms_per_unit = 1000;
  } else if (unit == "ms") {
    ms_per_unit = 1;
  } else if (unit == "m" || unit == "min") {
    ms_per_unit = 60'000;
  } else if (unit == "h") {
    ms_per_unit = 3'600'000;
  } else if (unit == "d") {
    ms_per_unit = 86'400'000;
  } else if (unit == "w") {
    ms_per_unit = 7 * 86'400'000ULL;
  } else {
    return fail(
        Errc::Config,
        fmt::format("'{}' has an unknown duration unit '{}' (ms, s, m, h, d, w)", text, unit));
  }
  constexpr std::uint64_t kMaxMs = 100ULL * 365 * 86'400'000ULL;
  if (n > kMaxMs / ms_per_unit) {
    return fail(Errc::Config, fmt::format("duration '{}' is too long", text));
  }
  return Millis(static_cast<std::int64_t>(n * ms_per_unit));
}

std::string format_duration(Millis d) {
  struct Unit {
    std::int64_t ms;
    const char* name;
  };
  static constexpr Unit kUnits[] = {
      {7 * 86'400'000LL, "w"}, {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}};
  const std::int64_t ms = d.count();
  if (ms == 0) {
    return "0s";
  }
  for (const Unit& u : kUnits) {
    if (ms % u.ms == 0) {
      return fmt::format("{}{}", ms / u.ms, u.name);
    }
  }
  return fmt::format("{}ms", ms);
}

Result<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t n = 0;
  std::string_view unit;
  if (!split_number_unit(text, n, unit)) {
    return fail(Errc::Config, fmt::format("'{}' is not a size (e.g. 64KiB, 1GiB)", text));
  }
  std::uint64_t mult = 0;
  if (unit.empty() || unit == "B") {
    mult = 1;
  } else if (unit == "KiB") {
    mult = 1ULL << 10;
  } else if (unit == "MiB") {
    mult = 1ULL << 20;
  } else if (unit == "GiB") {
    mult = 1ULL << 30;
  } else if (unit == "TiB") {
    mult = 1ULL << 40;
  } else if (unit == "KB" || unit == "kB") {
    mult = 1000;
  } else if (unit == "MB") {
    mult = 1000'000;
  } else if (unit == "GB") {
    mult = 1000'000'000;
  } else {
    return fail(Errc::Config, fmt::format("'{}' has an unknown size unit '{}'", text, unit));
  }
  if (n > (~0ULL) / mult) {
    return fail(Errc::Config, fmt::format("size '{}' is too large", text));
  }
  return n * mult;
}

std::string format_size(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"TiB", "GiB", "MiB", "KiB"};
  for (int i = 0; i < 4; ++i) {
    const std::uint64_t unit = 1ULL << (10 * (4 - i));
    if (bytes != 0 && bytes % unit == 0) {
      return fmt::format("{}{}", bytes / unit, kUnits[i]);
    }
  }
  return std::to_string(bytes);
}

std::string format_rfc5322_utc(TimePoint t) {
  return fmt::format("{:%a, %d %b %Y %H:%M:%S} +0000", fmt::gmtime(std::time_t(to_unix(t))));
}

std::string format_iso8601_utc(TimePoint t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time_t(to_unix(t))));
}

}  // namespace gf
