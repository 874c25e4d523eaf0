#pragma once
// SeriesSet: decision counts per step for a fixed list of series (the overview charts'
// "greylist.defer", "comments.spam", ...), over the last hour, day and week, in ring buffers.
//
// Flow: a timer in the daemon reads each series' cumulative counter (the same counters that
// /metrics and `greyflux stats` print) and calls update(i, total, now); the growth since the
// previous update is added to the step that contains `now` in each of the three rings. A call
// to window(range, now) returns the counts of that range, oldest step first, with zeros for
// steps nothing was recorded in. Time is an argument; nothing here reads a clock.
//
// Memory: fixed at construction, 8 bytes per step per series: 60 (hour, 1-minute steps) + 288
// (day, 5-minute steps) + 168 (week, 1-hour steps) = 516 steps, 4,128 bytes per series; the
// daemon's 10 series hold 41,280 bytes of counts (kBytesPerSeries).
//
// Threading: none (a value); the daemon guards its one instance with a mutex. Errors: a counter
// that goes backwards (a restarted service) is taken as a fresh start: its new total is the
// growth; a `now` before the newest step is counted in the newest step.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/time.hpp"

namespace gf::metrics {

enum class Range { Hour, Day, Week };

struct RangeSpec {
  Seconds step;
  std::size_t steps;
};

inline constexpr std::array<RangeSpec, 3> kRanges = {
    RangeSpec{Seconds(60), 60}, RangeSpec{Seconds(300), 288}, RangeSpec{Seconds(3600), 168}};

inline constexpr std::size_t kBytesPerSeries = (60 + 288 + 168) * sizeof(std::uint64_t);

// "hour", "day", "week"; nullopt for anything else.
[[nodiscard]] std::optional<Range> parse_range(std::string_view text);

struct Window {
  Seconds step{0};
  std::int64_t end_s = 0;  // Unix seconds at the end of the newest step
  std::vector<std::string> names;
  std::vector<std::vector<std::uint64_t>> counts;  // per name, oldest step first
};

class SeriesSet {
 public:
  explicit SeriesSet(std::vector<std::string> names);

  // `cumulative`: the series' counter total now. The first call per series sets the baseline.
  void update(std::size_t series, std::uint64_t cumulative, TimePoint now);
  [[nodiscard]] Window window(Range range, TimePoint now) const;
  [[nodiscard]] const std::vector<std::string>& names() const { return names_; }

 private:
  struct Ring {
    RangeSpec spec;
    std::int64_t head = -1;  // step number (Unix seconds / step) of the newest slot
    std::vector<std::vector<std::uint64_t>> slots;  // per series
  };
  void advance(Ring& r, std::int64_t step_no);

  std::vector<std::string> names_;
  std::vector<std::optional<std::uint64_t>> last_;
  std::array<Ring, kRanges.size()> rings_;
};

}  // namespace gf::metrics
