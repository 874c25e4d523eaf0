#pragma once
// Metrics: latency histograms with fixed buckets, and the Prometheus text exposition (format
// 0.0.4) of a set of metric families.
//
// Flow: the front doors already count their decisions in their own atomic counters
// (app::Counters, akismet::CommentCounters, app::SpamdCounters, milter::FilterCounters); a
// scrape reads them into Family values (a name, help, type and samples with labels) and
// encode_text() writes them out. Histogram is the one metric kept here: observe() is two
// relaxed atomic additions (the bucket, the sum), so a request pays a few nanoseconds and no
// lock; snapshot() reads the buckets into cumulative counts for encoding.
//
// Threading: Histogram::observe and snapshot are safe from any thread (a snapshot taken while
// requests run may miss the newest observations; its _count always equals its +Inf bucket).
// Everything else is plain values. Errors: names and label names are the caller's constants,
// checked by valid_metric_name / valid_label_name (a bad one is a bug: encode_text skips the
// family or label and reports it through GF_BUG); label values and help texts are escaped.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gf::metrics {

enum class Type { Counter, Gauge, Histogram };

struct Label {
  std::string name;
  std::string value;
};

struct Sample {
  std::string suffix;  // "" or "_bucket", "_sum", "_count" (histograms)
  std::vector<Label> labels;
  double value = 0;
};

struct Family {
  std::string name;  // e.g. "greyflux_decisions_total"
  std::string help;
  Type type = Type::Counter;
  std::vector<Sample> samples;

  // Appends one sample (no suffix).
  Family& add(double value, std::vector<Label> labels = {});
};

// Latency buckets (seconds) shared by every front door: 50 us to 2.5 s.
inline constexpr std::array<double, 15> kLatencyBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                           0.0025,  0.005,  0.01,    0.025,  0.05,
                                                           0.1,     0.25,   0.5,     1.0,    2.5};

struct HistogramSnapshot {
  std::vector<double> bounds;             // upper bounds, seconds, ascending (without +Inf)
  std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf (= count)
  double sum_s = 0;
  [[nodiscard]] std::uint64_t count() const { return cumulative.empty() ? 0 : cumulative.back(); }
};

// A duration histogram over kLatencyBuckets. Not copyable (atomics); lives as long as the
// counters it sits beside.
class Histogram {
 public:
  static constexpr std::size_t kBuckets = kLatencyBuckets.size() + 1;  // + the +Inf bucket

  void observe(std::chrono::nanoseconds d) {
    const std::int64_t ns = d.count() < 0 ? 0 : d.count();
    buckets_[bucket_of(ns)].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);
  }
  [[nodiscard]] HistogramSnapshot snapshot() const;
  // The bucket an observation of `ns` nanoseconds falls in (kBuckets - 1: +Inf).
  [[nodiscard]] static std::size_t bucket_of(std::int64_t ns);

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

// Appends `h` to `family` (which must be of Type::Histogram) as _bucket{le=...}, _sum and
// _count samples, each with `labels` in front of `le`.
void add_histogram(Family& family, const HistogramSnapshot& h, const std::vector<Label>& labels);

[[nodiscard]] bool valid_metric_name(std::string_view name);  // [a-zA-Z_:][a-zA-Z0-9_:]*
[[nodiscard]] bool valid_label_name(std::string_view name);   // [a-zA-Z_][a-zA-Z0-9_]*, no "__"

// Label values: \ -> \\, " -> \", newline -> \n.
[[nodiscard]] std::string escape_label_value(std::string_view v);
// HELP text: \ -> \\, newline -> \n.
[[nodiscard]] std::string escape_help(std::string_view v);
// Sample values: integers exactly, others with up to 17 significant digits; +Inf, -Inf, NaN.
[[nodiscard]] std::string format_value(double v);

// The text exposition format 0.0.4: per family "# HELP", "# TYPE", then its samples, one per
// line, ending with a newline. Families with no samples still get their HELP and TYPE lines.
[[nodiscard]] std::string encode_text(std::span<const Family> families);

inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace gf::metrics
