// Zeek dns.log: TSV with its "#separator"/"#fields" header, or JSON lines (one object a line).
// A row becomes one flux::Observation: addresses among "answers" (with the TTL at the same
// position), other answers as the CNAME chain (or NS names for an NS query).
#include <sys/stat.h>

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <ctime>
#include <fstream>

#include "core/common/strings.hpp"
#include "core/dns/message.hpp"
#include "io/capture/capture.hpp"

namespace gf::io {
namespace {

bool to_double(std::string_view s, double& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(out);
}

bool to_int(std::string_view s, int& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

int qtype_from_name(std::string_view n) {
  if (n == "A") return dns::kTypeA;
  if (n == "AAAA") return dns::kTypeAaaa;
  if (n == "NS") return dns::kTypeNs;
  if (n == "CNAME") return dns::kTypeCname;
  if (n == "*" || n == "ANY") return dns::kTypeAny;
  return 0;
}

// "2020-09-13T12:26:40.123456Z" (Zeek's JSON with ISO timestamps).
bool iso_time(std::string_view s, double& out) {
  if (s.size() < 19) {
    return false;
  }
  std::tm tm{};
  int parts[6];
  const std::size_t at[6] = {0, 5, 8, 11, 14, 17};
  const std::size_t len[6] = {4, 2, 2, 2, 2, 2};
  for (int i = 0; i < 6; ++i) {
    if (!to_int(s.substr(at[i], len[i]), parts[i])) {
      return false;
    }
  }
  tm.tm_year = parts[0] - 1900;
  tm.tm_mon = parts[1] - 1;
  tm.tm_mday = parts[2];
  tm.tm_hour = parts[3];
  tm.tm_min = parts[4];
  tm.tm_sec = parts[5];
  out = static_cast<double>(timegm(&tm));
  return true;
}

std::string unescape_zeek(std::string_view s) {
  // Zeek writes non-printable bytes as \xHH in TSV.
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() + 0 && s[i + 1] == 'x') {
      int v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 2, s.data() + i + 4, v, 16);
      if (ec == std::errc() && p == s.data() + i + 4) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

}  // namespace

void ZeekReader::feed_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  if (line.empty()) {
    return;
  }
  if (line.front() == '{') {
    json_line(line);
  } else {
    tsv_line(line);
  }
}

void ZeekReader::tsv_line(std::string_view line) {
  if (line.front() == '#') {
    if (line.starts_with("#separator ")) {
      const std::string sep = unescape_zeek(line.substr(11));
      separator_ = sep.size() == 1 ? sep[0] : '\t';
    } else if (line.starts_with("#set_separator")) {
      auto parts = split(line, separator_);
      if (parts.size() >= 2 && parts[1].size() == 1) {
        set_separator_ = parts[1][0];
      }
    } else if (line.starts_with("#unset_field")) {
      auto parts = split(line, separator_);
      unset_ = parts.size() >= 2 ? std::string(parts[1]) : "-";
    } else if (line.starts_with("#empty_field")) {
      auto parts = split(line, separator_);
      empty_ = parts.size() >= 2 ? std::string(parts[1]) : "(empty)";
    } else if (line.starts_with("#fields")) {
      fields_.clear();
      col_ts_ = col_query_ = col_qtype_ = col_rcode_ = col_answers_ = col_ttls_ = col_tc_ = -1;
      auto parts = split(line, separator_);
      for (std::size_t i = 1; i < parts.size(); ++i) {
        const int c = static_cast<int>(i - 1);
        const std::string_view f = parts[i];
        if (f == "ts")
          col_ts_ = c;
        else if (f == "query")
          col_query_ = c;
        else if (f == "qtype")
          col_qtype_ = c;
        else if (f == "rcode")
          col_rcode_ = c;
        else if (f == "answers")
          col_answers_ = c;
        else if (f == "TTLs")
          col_ttls_ = c;
        else if (f == "TC")
          col_tc_ = c;
        fields_.emplace_back(f);
      }
    }
    return;
  }
  if (col_ts_ < 0 || col_query_ < 0 || col_answers_ < 0) {
    ingest_.count_bad_record();  // data before a usable #fields header
    return;
  }
  const auto cols = split(line, separator_);
  if (cols.size() != fields_.size()) {
    ingest_.count_bad_record();
    return;
  }
  auto col = [&](int i) -> std::string_view {
    if (i < 0) {
      return {};
    }
    const std::string_view v = cols[static_cast<std::size_t>(i)];
    return (v == unset_ || v == empty_) ? std::string_view() : v;
  };
  double ts = 0;
  int qtype = dns::kTypeA;
  int rcode = 0;
  if (!to_double(col(col_ts_), ts) || col(col_query_).empty() ||
      (!col(col_qtype_).empty() && !to_int(col(col_qtype_), qtype)) ||
      (!col(col_rcode_).empty() && !to_int(col(col_rcode_), rcode))) {
    ingest_.count_bad_record();
    return;
  }
  std::vector<std::string> answers;
  std::vector<double> ttls;
  if (!col(col_answers_).empty()) {
    for (auto a : split(col(col_answers_), set_separator_)) {
      answers.push_back(unescape_zeek(a));
    }
  }
  if (!col(col_ttls_).empty()) {
    for (auto t : split(col(col_ttls_), set_separator_)) {
      double v = 0;
      ttls.push_back(to_double(t, v) ? v : 0.0);
    }
  }
  emit(ts, unescape_zeek(col(col_query_)), qtype, rcode, col(col_tc_) == "T", answers, ttls);
}

void ZeekReader::json_line(std::string_view line) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(line, ec);
  if (ec || !v.is_object()) {
    ingest_.count_bad_record();
    return;
  }
  const auto& o = v.as_object();
  double ts = 0;
  std::string query;
  int qtype = dns::kTypeA;
  int rcode = 0;
  bool tc = false;
  std::vector<std::string> answers;
  std::vector<double> ttls;
  if (auto* t = o.if_contains("ts")) {
    if (t->is_number()) {
      ts = t->to_number<double>();
    } else if (!t->is_string() || !iso_time(t->as_string(), ts)) {
      ingest_.count_bad_record();
      return;
    }
  } else {
    ingest_.count_bad_record();
    return;
  }
  if (auto* q = o.if_contains("query"); q != nullptr && q->is_string()) {
    query = std::string(q->as_string());
  }
  if (auto* q = o.if_contains("qtype"); q != nullptr && q->is_int64()) {
    qtype = static_cast<int>(q->as_int64());
  } else if (auto* qn = o.if_contains("qtype_name"); qn != nullptr && qn->is_string()) {
    qtype = qtype_from_name(qn->as_string());
  }
  if (auto* r = o.if_contains("rcode"); r != nullptr && r->is_int64()) {
    rcode = static_cast<int>(r->as_int64());
  }
  if (auto* t = o.if_contains("TC"); t != nullptr && t->is_bool()) {
    tc = t->as_bool();
  }
  if (auto* a = o.if_contains("answers"); a != nullptr && a->is_array()) {
    for (const auto& x : a->as_array()) {
      if (x.is_string()) {
        answers.emplace_back(x.as_string());
      }
    }
  }
  if (auto* a = o.if_contains("TTLs"); a != nullptr && a->is_array()) {
    for (const auto& x : a->as_array()) {
      ttls.push_back(x.is_number() ? x.to_number<double>() : 0.0);
    }
  }
  if (query.empty()) {
    ingest_.count_bad_record();
    return;
  }
  emit(ts, query, qtype, rcode, tc, answers, ttls);
}

void ZeekReader::emit(double ts, std::string_view query, int qtype, int rcode, bool tc,
                      const std::vector<std::string>& answers, const std::vector<double>& ttls) {
  if (tc) {
    return;  // an incomplete answer teaches nothing about the address set
  }
  auto canon = dns::canonical_name(query);
  // Written so that NaN fails it: Boost.JSON reads "0e310" as 0 x infinity, a NaN that every
  // ordered comparison lets through (found by fuzz_zeek).
  if (!canon || canon->empty() || !(ts >= 0 && ts <= 4e9)) {
    ingest_.count_bad_record();
    return;
  }
  obs_.clear();
  obs_.time = from_unix(static_cast<std::int64_t>(ts));
  obs_.qname = std::move(*canon);
  obs_.qtype = static_cast<std::uint16_t>(qtype);
  obs_.rcode = static_cast<std::uint8_t>(rcode & 0x0F);
  obs_.source_id = source_id_;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const double ttl = i < ttls.size() && std::isfinite(ttls[i]) ? ttls[i] : 0.0;
    const auto ttl_s =
        static_cast<std::uint32_t>(std::clamp(ttl, 0.0, static_cast<double>(INT32_MAX)));
    if (auto ip = parse_ip(answers[i])) {
      obs_.addresses.push_back({*ip, ttl_s});
      continue;
    }
    auto name = dns::canonical_name(answers[i]);
    if (!name || name->empty()) {
      continue;  // TXT strings, MX "10 host" and other rdata Zeek writes as text
    }
    if (qtype == dns::kTypeNs) {
      obs_.ns_ttl_s = obs_.ns_names.empty() ? ttl_s : std::min(obs_.ns_ttl_s, ttl_s);
      obs_.ns_names.push_back(std::move(*name));
    } else if (obs_.cname_chain.size() < 16) {
      obs_.cname_ttl_s = obs_.cname_chain.empty() ? ttl_s : std::min(obs_.cname_ttl_s, ttl_s);
      obs_.cname_chain.push_back(std::move(*name));
    }
  }
  ingest_.on_observation(obs_);
}

Result<void> read_zeek(const std::string& path, flux::Ingest& ingest, std::uint32_t source_id,
                       const ProgressFn& progress) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return fail(Errc::Io, path + ": cannot open");
  }
  struct stat st {};
  const std::uint64_t total =
      ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  ZeekReader reader(ingest, source_id);
  char* line = nullptr;
  std::size_t cap = 0;
  std::uint64_t done = 0, n = 0;
  ssize_t len = 0;
  while ((len = ::getline(&line, &cap, f)) > 0) {
    done += static_cast<std::uint64_t>(len);
    std::string_view l(line, static_cast<std::size_t>(len));
    if (l.back() == '\n') {
      l.remove_suffix(1);
    }
    if (l.size() > 1 << 20) {
      ingest.count_bad_record();
      continue;
    }
    reader.feed_line(l);
    if (progress && (++n & 0xFFFF) == 0) {
      progress(done, total);
    }
  }
  std::free(line);
  std::fclose(f);
  if (progress) {
    progress(total, total);
  }
  return {};
}

std::string_view to_string(CaptureFormat f) {
  switch (f) {
    case CaptureFormat::Pcap:
      return "pcap";
    case CaptureFormat::Pcapng:
      return "pcapng";
    case CaptureFormat::Dnstap:
      return "dnstap";
    case CaptureFormat::ZeekTsv:
      return "zeek-tsv";
    case CaptureFormat::ZeekJson:
      return "zeek-json";
    case CaptureFormat::Unknown:
      break;
  }
  return "unknown";
}

CaptureFormat detect_format(std::span<const std::uint8_t> h) {
  if (h.size() >= 4) {
    const std::uint32_t be = (std::uint32_t{h[0]} << 24) | (std::uint32_t{h[1]} << 16) |
                             (std::uint32_t{h[2]} << 8) | h[3];
    if (be == 0xa1b2c3d4 || be == 0xd4c3b2a1 || be == 0xa1b23c4d || be == 0x4d3cb2a1) {
      return CaptureFormat::Pcap;
    }
    if (be == 0x0a0d0d0a) {
      return CaptureFormat::Pcapng;
    }
    // Frame Streams: an escape (zero length), then a control frame whose type is START (2).
    if (be == 0 && h.size() >= 12 && h[8] == 0 && h[9] == 0 && h[10] == 0 && h[11] == 2) {
      return CaptureFormat::Dnstap;
    }
  }
  std::string_view text(reinterpret_cast<const char*>(h.data()), h.size());
  text = trim_ws(text);
  if (text.starts_with("#separator") || text.starts_with("#fields")) {
    return CaptureFormat::ZeekTsv;
  }
  if (text.starts_with("{")) {
    return CaptureFormat::ZeekJson;
  }
  return CaptureFormat::Unknown;
}

Result<CaptureFormat> read_capture(const std::string& path, flux::Ingest& ingest,
                                   std::uint32_t source_id, const ProgressFn& progress) {
  std::uint8_t head[64];
  std::size_t n = 0;
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    n = std::fread(head, 1, sizeof head, f);
    std::fclose(f);
  } else {
    return fail(Errc::Io, path + ": cannot open");
  }
  const CaptureFormat fmt = detect_format({head, n});
  Result<void> r;
  switch (fmt) {
    case CaptureFormat::Pcap:
    case CaptureFormat::Pcapng:
      r = read_pcap(path, ingest, source_id, progress);
      break;
    case CaptureFormat::Dnstap:
      r = read_dnstap(path, ingest, source_id, progress);
      break;
    case CaptureFormat::ZeekTsv:
    case CaptureFormat::ZeekJson:
      r = read_zeek(path, ingest, source_id, progress);
      break;
    case CaptureFormat::Unknown:
      return fail(Errc::InvalidInput,
                  path + ": unknown format (expected pcap, pcapng, dnstap or Zeek dns.log)");
  }
  if (!r) {
    return tl::unexpected(r.error());
  }
  return fmt;
}

}  // namespace gf::io
