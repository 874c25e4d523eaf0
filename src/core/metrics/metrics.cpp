#include "core/metrics/metrics.hpp"

#include <fmt/format.h>

#include <cmath>

#include "core/common/check.hpp"

namespace gf::metrics {
namespace {

// Bucket bounds in nanoseconds, for observe() (integer compares on the hot path).
constexpr std::array<std::int64_t, kLatencyBuckets.size()> bounds_ns() {
  std::array<std::int64_t, kLatencyBuckets.size()> out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::int64_t>(kLatencyBuckets[i] * 1e9 + 0.5);
  }
  return out;
}
constexpr auto kBoundsNs = bounds_ns();

bool name_char(char c, bool first, bool colon) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  if (alpha || (colon && c == ':')) {
    return true;
  }
  return !first && c >= '0' && c <= '9';
}

bool valid_name(std::string_view name, bool colon) {
  if (name.empty()) {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!name_char(name[i], i == 0, colon)) {
      return false;
    }
  }
  return true;
}

const char* type_name(Type t) {
  switch (t) {
    case Type::Counter:
      return "counter";
    case Type::Gauge:
      return "gauge";
    case Type::Histogram:
      return "histogram";
  }
  return "untyped";
}

void encode_sample(std::string& out, const Family& f, const Sample& s) {
  out += f.name;
  out += s.suffix;
  bool open = false;
  for (const Label& l : s.labels) {
    if (!valid_label_name(l.name)) {
      GF_BUG("metrics: bad label name " + l.name + " on " + f.name);
      continue;
    }
    out += open ? "," : "{";
    open = true;
    out += l.name;
    out += "=\"";
    out += escape_label_value(l.value);
    out += '"';
  }
  if (open) {
    out += '}';
  }
  out += ' ';
  out += format_value(s.value);
  out += '\n';
}

}  // namespace

Family& Family::add(double value, std::vector<Label> labels) {
  samples.push_back(Sample{"", std::move(labels), value});
  return *this;
}

std::size_t Histogram::bucket_of(std::int64_t ns) {
  std::size_t i = 0;
  while (i < kBoundsNs.size() && ns > kBoundsNs[i]) {
    ++i;
  }
  return i;
}

HistogramSnapshot Histogram::snapshot() const {
  HistogramSnapshot s;
  s.bounds.assign(kLatencyBuckets.begin(), kLatencyBuckets.end());
  s.cumulative.reserve(kBuckets);
  std::uint64_t total = 0;
  for (const auto& b : buckets_) {
    total += b.load(std::memory_order_relaxed);
    s.cumulative.push_back(total);
  }
  s.sum_s = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  return s;
}

void add_histogram(Family& family, const HistogramSnapshot& h, const std::vector<Label>& labels) {
  GF_ASSERT(family.type == Type::Histogram, "add_histogram on a non-histogram family");
  GF_ASSERT(h.cumulative.size() == h.bounds.size() + 1, "one count per bound plus +Inf");
  for (std::size_t i = 0; i < h.cumulative.size(); ++i) {
    std::vector<Label> with_le = labels;
    const double le = i < h.bounds.size() ? h.bounds[i] : INFINITY;
    with_le.push_back(Label{"le", format_value(le)});
    family.samples.push_back(
        Sample{"_bucket", std::move(with_le), static_cast<double>(h.cumulative[i])});
  }
  family.samples.push_back(Sample{"_sum", labels, h.sum_s});
  family.samples.push_back(Sample{"_count", labels, static_cast<double>(h.count())});
}

bool valid_metric_name(std::string_view name) { return valid_name(name, true); }

bool valid_label_name(std::string_view name) {
  return valid_name(name, false) && !name.starts_with("__");
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    return fmt::format("{}", static_cast<std::int64_t>(v));
  }
  return fmt::format("{}", v);  // shortest text that reads back as the same double
}

std::string encode_text(std::span<const Family> families) {
  std::string out;
  out.reserve(families.size() * 160);
  for (const Family& f : families) {
    if (!valid_metric_name(f.name)) {
      GF_BUG("metrics: bad metric name " + f.name);
      continue;
    }
    out += "# HELP " + f.name + " " + escape_help(f.help) + "\n";
    out += "# TYPE " + f.name + " " + type_name(f.type) + "\n";
    for (const Sample& s : f.samples) {
      encode_sample(out, f, s);
    }
  }
  return out;
}

}  // namespace gf::metrics
