#include "core/metrics/series.hpp"

#include "core/common/check.hpp"

namespace gf::metrics {
namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

std::size_t slot_of(std::int64_t step_no, std::size_t steps) {
  const auto n = static_cast<std::int64_t>(steps);
  return static_cast<std::size_t>(((step_no % n) + n) % n);
}

}  // namespace

std::optional<Range> parse_range(std::string_view text) {
  if (text == "hour") {
    return Range::Hour;
  }
  if (text == "day") {
    return Range::Day;
  }
  if (text == "week") {
    return Range::Week;
  }
  return std::nullopt;
}

SeriesSet::SeriesSet(std::vector<std::string> names)
    : names_(std::move(names)), last_(names_.size()) {
  for (std::size_t r = 0; r < kRanges.size(); ++r) {
    rings_[r].spec = kRanges[r];
    rings_[r].slots.assign(names_.size(), std::vector<std::uint64_t>(kRanges[r].steps, 0));
  }
}

void SeriesSet::advance(Ring& r, std::int64_t step_no) {
  if (r.head >= 0 && step_no <= r.head) {
    return;
  }
  // Clear the slots the ring skips over (at most one full turn).
  const std::int64_t first =
      r.head < 0 ? step_no
                 : std::max(r.head + 1, step_no - static_cast<std::int64_t>(r.spec.steps) + 1);
  for (std::int64_t s = first; s <= step_no; ++s) {
    for (auto& series : r.slots) {
      series[slot_of(s, r.spec.steps)] = 0;
    }
  }
  r.head = step_no;
}

void SeriesSet::update(std::size_t series, std::uint64_t cumulative, TimePoint now) {
  GF_CHECK(series < names_.size(), "series index out of range");
  const std::optional<std::uint64_t> prev = last_[series];
  last_[series] = cumulative;
  if (!prev) {
    return;  // baseline: what was counted before the first update is not in any step
  }
  const std::uint64_t delta = cumulative >= *prev ? cumulative - *prev : cumulative;
  for (Ring& r : rings_) {
    advance(r, floor_div(to_unix(now), r.spec.step.count()));
    if (delta != 0) {
      r.slots[series][slot_of(r.head, r.spec.steps)] += delta;
    }
  }
}

Window SeriesSet::window(Range range, TimePoint now) const {
  const Ring& r = rings_[static_cast<std::size_t>(range)];
  const std::int64_t step_s = r.spec.step.count();
  const std::int64_t now_step = floor_div(to_unix(now), step_s);
  const auto steps = static_cast<std::int64_t>(r.spec.steps);
  Window w;
  w.step = r.spec.step;
  w.end_s = (now_step + 1) * step_s;
  w.names = names_;
  w.counts.assign(names_.size(), std::vector<std::uint64_t>(r.spec.steps, 0));
  for (std::int64_t k = 0; k < steps; ++k) {
    const std::int64_t s = now_step - steps + 1 + k;
    // A slot holds step s only when s is within the ring's last turn ending at its head.
    if (r.head < 0 || s > r.head || s <= r.head - steps) {
      continue;
    }
    for (std::size_t i = 0; i < names_.size(); ++i) {
      w.counts[i][static_cast<std::size_t>(k)] = r.slots[i][slot_of(s, r.spec.steps)];
    }
  }
  return w;
}

}  // namespace gf::metrics
