// core/metrics: histogram buckets, the Prometheus text exposition, and the series rings.
#include "core/metrics/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "core/metrics/series.hpp"

namespace gf::metrics {
namespace {

using namespace std::chrono_literals;

TEST(Histogram, BucketBoundsAreInclusive) {
  EXPECT_EQ(Histogram::bucket_of(0), 0u);
  EXPECT_EQ(Histogram::bucket_of(50'000), 0u);  // le="5e-05" includes 50 us exactly
  EXPECT_EQ(Histogram::bucket_of(50'001), 1u);
  EXPECT_EQ(Histogram::bucket_of(1'000'000), 4u);  // 1 ms
  EXPECT_EQ(Histogram::bucket_of(2'500'000'000), kLatencyBuckets.size() - 1);
  EXPECT_EQ(Histogram::bucket_of(2'500'000'001), kLatencyBuckets.size());  // +Inf
}

TEST(Histogram, SnapshotIsCumulativeWithSumAndCount) {
  Histogram h;
  h.observe(30us);
  h.observe(700us);
  h.observe(700us);
  h.observe(10s);
  h.observe(-5ns);  // a clock step backwards counts as zero
  const HistogramSnapshot s = h.snapshot();
  ASSERT_EQ(s.cumulative.size(), kLatencyBuckets.size() + 1);
  EXPECT_EQ(s.cumulative[0], 2u);  // 30 us and 0
  EXPECT_EQ(s.cumulative[2], 2u);  // <= 250 us
  EXPECT_EQ(s.cumulative[3], 2u);  // <= 500 us
  EXPECT_EQ(s.cumulative[4], 4u);  // <= 1 ms
  EXPECT_EQ(s.cumulative[kLatencyBuckets.size() - 1], 4u);
  EXPECT_EQ(s.count(), 5u);
  EXPECT_NEAR(s.sum_s, 10.00143, 1e-9);
}

TEST(Exposition, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(escape_label_value(R"(a\b"c)"
                               "\n"),
            R"(a\\b\"c\n)");
  EXPECT_EQ(escape_help("x\\y\n\"q\""), "x\\\\y\\n\"q\"");
}

TEST(Exposition, FormatsValues) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(42), "42");
  EXPECT_EQ(format_value(-3), "-3");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(5e-05), "5e-05");
  EXPECT_EQ(format_value(INFINITY), "+Inf");
  EXPECT_EQ(format_value(-INFINITY), "-Inf");
  EXPECT_EQ(format_value(NAN), "NaN");
  EXPECT_EQ(format_value(1e20), "1e+20");
}

TEST(Exposition, ValidatesNames) {
  EXPECT_TRUE(valid_metric_name("greyflux_decisions_total"));
  EXPECT_TRUE(valid_metric_name("a:b_c9"));
  EXPECT_FALSE(valid_metric_name("9abc"));
  EXPECT_FALSE(valid_metric_name("a-b"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_TRUE(valid_label_name("door"));
  EXPECT_FALSE(valid_label_name("a:b"));
  EXPECT_FALSE(valid_label_name("__name__"));
}

TEST(Exposition, EncodesCountersGaugesAndHistograms) {
  std::vector<Family> fams;
  Family& c =
      fams.emplace_back(Family{"gf_decisions_total", "Decisions.\nBy door.", Type::Counter});
  c.add(3, {{"door", "greylist"}, {"verdict", "defer"}});
  c.add(1, {{"door", "x\"y"}});
  fams.push_back(Family{"gf_up", "Up.", Type::Gauge});
  fams.back().add(1);
  Family h{"gf_latency_seconds", "Latency.", Type::Histogram};
  Histogram hist;
  hist.observe(40us);
  hist.observe(3ms);
  add_histogram(h, hist.snapshot(), {{"door", "policy"}});
  fams.push_back(std::move(h));
  fams.push_back(Family{"gf_empty", "No samples.", Type::Counter});

  const std::string text = encode_text(fams);
  EXPECT_NE(text.find("# HELP gf_decisions_total Decisions.\\nBy door.\n"
                      "# TYPE gf_decisions_total counter\n"
                      "gf_decisions_total{door=\"greylist\",verdict=\"defer\"} 3\n"
                      "gf_decisions_total{door=\"x\\\"y\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE gf_up gauge\ngf_up 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("gf_latency_seconds_bucket{door=\"policy\",le=\"5e-05\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("gf_latency_seconds_bucket{door=\"policy\",le=\"0.0025\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("gf_latency_seconds_bucket{door=\"policy\",le=\"0.005\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("gf_latency_seconds_bucket{door=\"policy\",le=\"+Inf\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("gf_latency_seconds_sum{door=\"policy\"} 0.00304\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("gf_latency_seconds_count{door=\"policy\"} 2\n"), std::string::npos);
  EXPECT_TRUE(text.ends_with("# HELP gf_empty No samples.\n# TYPE gf_empty counter\n"));
}

TEST(Series, ParsesRanges) {
  EXPECT_EQ(parse_range("hour"), Range::Hour);
  EXPECT_EQ(parse_range("day"), Range::Day);
  EXPECT_EQ(parse_range("week"), Range::Week);
  EXPECT_FALSE(parse_range("month").has_value());
  EXPECT_FALSE(parse_range("").has_value());
}

TEST(Series, FirstUpdateIsTheBaselineThenGrowthLandsInItsStep) {
  SeriesSet set({"a", "b"});
  const TimePoint t0 = from_unix(1'800'000'000);  // a multiple of 60 and 3600
  set.update(0, 100, t0);                         // baseline
  set.update(0, 103, t0 + 10s);
  set.update(0, 110, t0 + 70s);  // next minute
  set.update(1, 5, t0 + 70s);    // baseline for b
  const Window w = set.window(Range::Hour, t0 + 70s);
  EXPECT_EQ(w.step, 60s);
  EXPECT_EQ(w.end_s, 1'800'000'120);
  ASSERT_EQ(w.counts.size(), 2u);
  ASSERT_EQ(w.counts[0].size(), 60u);
  EXPECT_EQ(w.counts[0][59], 7u);
  EXPECT_EQ(w.counts[0][58], 3u);
  EXPECT_EQ(w.counts[0][57], 0u);
  EXPECT_EQ(w.counts[1][59], 0u);
  const Window day = set.window(Range::Day, t0 + 70s);
  EXPECT_EQ(day.step, 300s);
  EXPECT_EQ(day.counts[0].size(), 288u);
  EXPECT_EQ(day.counts[0].back(), 10u);
  const Window week = set.window(Range::Week, t0 + 70s);
  EXPECT_EQ(week.counts[0].size(), 168u);
  EXPECT_EQ(week.counts[0].back(), 10u);
}

TEST(Series, OldStepsFallOutOfTheWindowAndTheRingIsCleared) {
  SeriesSet set({"a"});
  const TimePoint t0 = from_unix(1'800'000'000);
  set.update(0, 0, t0);
  set.update(0, 4, t0 + 1s);
  // 59 minutes later the first minute is still the oldest step of the hour.
  EXPECT_EQ(set.window(Range::Hour, t0 + 59min).counts[0][0], 4u);
  // 60 minutes later it is gone, even before any update advances the ring.
  const Window later = set.window(Range::Hour, t0 + 60min);
  for (std::uint64_t v : later.counts[0]) {
    EXPECT_EQ(v, 0u);
  }
  // An update 2 hours on reuses the slot: the old 4 must not come back.
  set.update(0, 6, t0 + 2h);
  const Window w = set.window(Range::Hour, t0 + 2h);
  EXPECT_EQ(w.counts[0][59], 2u);
  std::uint64_t total = 0;
  for (std::uint64_t v : w.counts[0]) {
    total += v;
  }
  EXPECT_EQ(total, 2u);
  // The day keeps both.
  std::uint64_t day_total = 0;
  const Window day = set.window(Range::Day, t0 + 2h);
  for (std::uint64_t v : day.counts[0]) {
    day_total += v;
  }
  EXPECT_EQ(day_total, 6u);
}

TEST(Series, CounterResetCountsTheNewTotal) {
  SeriesSet set({"a"});
  const TimePoint t0 = from_unix(1'800'000'000);
  set.update(0, 50, t0);
  set.update(0, 3, t0 + 5s);  // restarted counter
  EXPECT_EQ(set.window(Range::Hour, t0 + 5s).counts[0][59], 3u);
}

TEST(Series, ClockGoingBackCountsInTheNewestStep) {
  SeriesSet set({"a"});
  const TimePoint t0 = from_unix(1'800'000'000);
  set.update(0, 0, t0 + 120s);
  set.update(0, 2, t0 + 130s);
  set.update(0, 5, t0 + 10s);  // wall clock stepped back two minutes
  EXPECT_EQ(set.window(Range::Hour, t0 + 130s).counts[0][59], 5u);
}

}  // namespace
}  // namespace gf::metrics
