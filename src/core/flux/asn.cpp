#include "core/flux/asn.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "core/common/strings.hpp"

namespace gf::flux {

Result<AsnTable> AsnTable::parse_tsv(std::string_view text) {
  AsnTable t;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) {
      eol = text.size();
    }
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.empty() || line.front() == '#') {
      continue;
    }
    const auto cols = split(line, '\t');
    if (cols.size() < 3) {
      ++t.stats_.skipped_lines;
      continue;
    }
    auto start = parse_ip(cols[0]);
    auto end = parse_ip(cols[1]);
    std::uint32_t asn = 0;
    const auto* as_end = cols[2].data() + cols[2].size();
    std::string_view as_text = cols[2];
    if (as_text.size() > 2 && (as_text[0] == 'A' || as_text[0] == 'a')) {
      as_text.remove_prefix(2);  // "AS64500"
    }
    auto [p, ec] = std::from_chars(as_text.data(), as_text.data() + as_text.size(), asn);
    if (!start || !end || ec != std::errc() || p != as_end || start->bytes > end->bytes ||
        start->is_v4() != end->is_v4()) {
      ++t.stats_.skipped_lines;
      continue;
    }
    if (asn == 0) {
      continue;  // "not routed" rows: lookups there answer unknown anyway
    }
    Range r{start->bytes, end->bytes, AsnInfo{asn, {0, 0}}};
    if (cols.size() >= 4 && cols[3].size() == 2) {
      r.info.country = {cols[3][0], cols[3][1]};
    }
    t.ranges_.push_back(r);
    if (cols.size() >= 5 && !t.names_.contains(asn)) {
      t.names_.emplace(asn, sanitize_line(cols[4], 80));
    }
  }
  if (t.ranges_.empty()) {
    return fail(Errc::InvalidInput,
                fmt::format("no ASN ranges read ({} malformed lines)", t.stats_.skipped_lines));
  }
  std::sort(t.ranges_.begin(), t.ranges_.end(),
            [](const Range& a, const Range& b) { return a.start < b.start; });
  // Overlapping rows: the earlier start wins up to its end; the later row is clipped or dropped.
  std::vector<Range> merged;
  merged.reserve(t.ranges_.size());
  for (const Range& r : t.ranges_) {
    if (!merged.empty() && r.start <= merged.back().end) {
      ++t.stats_.skipped_lines;
      continue;
    }
    merged.push_back(r);
  }
  t.ranges_ = std::move(merged);
  t.stats_.ranges = t.ranges_.size();
  return t;
}

AsnInfo AsnTable::lookup(const IpAddress& ip) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), ip.bytes,
                             [](const auto& key, const Range& r) { return key < r.start; });
  if (it == ranges_.begin()) {
    return {};
  }
  --it;
  return ip.bytes <= it->end ? it->info : AsnInfo{};
}

std::string AsnTable::describe() const {
  return fmt::format("iptoasn TSV, {} ranges", ranges_.size());
}

const std::string* AsnTable::name_of(std::uint32_t asn) const {
  auto it = names_.find(asn);
  return it == names_.end() ? nullptr : &it->second;
}

}  // namespace gf::flux
