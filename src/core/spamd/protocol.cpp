#include "core/spamd/protocol.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <cmath>
#include <limits>

#include "core/common/strings.hpp"

namespace gf::spamd {

std::string_view to_string(Method m) {
  switch (m) {
    case Method::Check:
      return "CHECK";
    case Method::Symbols:
      return "SYMBOLS";
    case Method::Report:
      return "REPORT";
    case Method::ReportIfSpam:
      return "REPORT_IFSPAM";
    case Method::Process:
      return "PROCESS";
    case Method::Headers:
      return "HEADERS";
    case Method::Ping:
      return "PING";
    case Method::Skip:
      return "SKIP";
    case Method::Tell:
      return "TELL";
  }
  return "?";
}

std::string_view exit_name(ExitCode c) {
  switch (c) {
    case ExitCode::Ok:
      return "EX_OK";
    case ExitCode::Usage:
      return "EX_USAGE";
    case ExitCode::DataErr:
      return "EX_DATAERR";
    case ExitCode::NoInput:
      return "EX_NOINPUT";
    case ExitCode::NoUser:
      return "EX_NOUSER";
    case ExitCode::NoHost:
      return "EX_NOHOST";
    case ExitCode::Unavailable:
      return "EX_UNAVAILABLE";
    case ExitCode::Software:
      return "EX_SOFTWARE";
    case ExitCode::OsErr:
      return "EX_OSERR";
    case ExitCode::OsFile:
      return "EX_OSFILE";
    case ExitCode::CantCreat:
      return "EX_CANTCREAT";
    case ExitCode::IoErr:
      return "EX_IOERR";
    case ExitCode::TempFail:
      return "EX_TEMPFAIL";
    case ExitCode::Protocol:
      return "EX_PROTOCOL";
    case ExitCode::NoPerm:
      return "EX_NOPERM";
    case ExitCode::Config:
      return "EX_CONFIG";
    case ExitCode::Timeout:
      return "EX_TIMEOUT";
  }
  return "EX_SOFTWARE";
}

std::string protocol_error(std::string_view what) {
  return fmt::format("SPAMD/1.0 {} Bad header line: {}\r\n", static_cast<int>(ExitCode::Protocol),
                     sanitize_line(what, 200));
}

std::string unavailable_error(std::string_view what) {
  return fmt::format("SPAMD/1.0 {} Service Unavailable: {}\r\n",
                     static_cast<int>(ExitCode::Unavailable), sanitize_line(what, 200));
}

std::string timeout_error(std::string_view what) {
  return fmt::format("SPAMD/1.0 {} Timeout: {}\r\n", static_cast<int>(ExitCode::Timeout),
                     sanitize_line(what, 200));
}

std::string too_big_error(std::size_t limit_bytes) {
  return fmt::format("SPAMD/1.0 {} EX_DATAERR Message too big: limit is {} bytes\r\n",
                     static_cast<int>(ExitCode::DataErr), limit_bytes);
}

namespace {

struct Line {
  std::string_view text;  // without the line break
  std::size_t next = 0;   // offset after the line break
  bool complete = false;  // a line break was found (or eof ended the line)
};

// The line starting at `pos`; an incomplete line at eof counts as complete (spamd's getline).
Line next_line(std::string_view buf, std::size_t pos, bool eof) {
  Line l;
  const std::size_t nl = buf.find('\n', pos);
  if (nl == std::string_view::npos) {
    if (eof && pos < buf.size()) {
      l.text = buf.substr(pos);
      l.next = buf.size();
      l.complete = true;
    }
    return l;
  }
  std::size_t end = nl;
  if (end > pos && buf[end - 1] == '\r') {
    --end;
  }
  l.text = buf.substr(pos, end - pos);
  l.next = nl + 1;
  l.complete = true;
  return l;
}

ParseOutcome error_outcome(std::string reply, std::string log) {
  ParseOutcome o;
  o.status = ParseStatus::Error;
  o.error = std::move(reply);
  o.log = std::move(log);
  return o;
}

ParseOutcome bad(std::string_view what) {
  return error_outcome(protocol_error(what), fmt::format("bad protocol: {}", sanitize_line(what)));
}

// "1.5" -> 1500; digits only, at most one dot.
std::optional<int> parse_version(std::string_view v) {
  if (v.empty() || v.size() > 12) {
    return std::nullopt;
  }
  int whole = 0;
  int frac = 0;
  int frac_digits = 0;
  bool dot = false;
  bool any = false;
  for (char c : v) {
    if (c == '.') {
      if (dot) {
        return std::nullopt;
      }
      dot = true;
      continue;
    }
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    any = true;
    if (!dot) {
      whole = whole * 10 + (c - '0');
      if (whole > 1000) {
        return std::nullopt;
      }
    } else if (frac_digits < 3) {
      frac = frac * 10 + (c - '0');
      ++frac_digits;
    }
  }
  if (!any) {
    return std::nullopt;
  }
  while (frac_digits < 3) {
    frac *= 10;
    ++frac_digits;
  }
  return whole * 1000 + frac;
}

std::optional<Method> parse_method(std::string_view m) {
  static constexpr std::pair<std::string_view, Method> kMethods[] = {
      {"CHECK", Method::Check},     {"SYMBOLS", Method::Symbols},
      {"REPORT", Method::Report},   {"REPORT_IFSPAM", Method::ReportIfSpam},
      {"PROCESS", Method::Process}, {"HEADERS", Method::Headers},
      {"PING", Method::Ping},       {"SKIP", Method::Skip},
      {"TELL", Method::Tell},
  };
  for (const auto& [name, method] : kMethods) {
    if (m == name) {
      return method;
    }
  }
  return std::nullopt;
}

bool contains_icase(std::string_view hay, std::string_view needle) {
  return ascii_lower(hay).find(needle) != std::string::npos;
}

// Applies one header to the request; returns an error outcome for a bad value.
std::optional<ParseOutcome> apply_header(Request& r, std::string_view name, std::string_view value,
                                         const Limits& limits) {
  if (iequals(name, "Content-length")) {
    if (value.empty() || value.size() > 18) {
      return bad("(Content-Length contains non-numeric bytes)");
    }
    std::size_t n = 0;
    for (char c : value) {
      if (c < '0' || c > '9') {
        return bad("(Content-Length contains non-numeric bytes)");
      }
      n = n * 10 + static_cast<std::size_t>(c - '0');
    }
    r.content_length = n;
  } else if (iequals(name, "User")) {
    for (unsigned char c : value) {
      if (c < 0x20 || c == 0x7f) {
        return bad("(User header contains control chars)");
      }
    }
    if (value.size() > 256) {
      return bad("(User header too long)");
    }
    r.user = std::string(value);
  } else if (iequals(name, "Message-class")) {
    const std::string v = ascii_lower(value);
    if (v != "spam" && v != "ham") {
      return bad("(Message-class header contains invalid class)");
    }
    r.message_class = v;
  } else if (iequals(name, "Set")) {
    r.set_local = contains_icase(value, "local");
    r.set_remote = contains_icase(value, "remote");
  } else if (iequals(name, "Remove")) {
    r.remove_local = contains_icase(value, "local");
    r.remove_remote = contains_icase(value, "remote");
  } else if (iequals(name, "Compress")) {
    if (!contains_icase(value, "zlib")) {
      return bad(fmt::format("(compression type not supported: {})", sanitize_line(value, 64)));
    }
    r.compress_zlib = true;
  }
  (void)limits;
  return std::nullopt;  // unknown headers are ignored, as spamd does
}

bool has_headers(Method m, int version_milli) {
  switch (m) {
    case Method::Tell:
      return true;
    case Method::Ping:
    case Method::Skip:
      return version_milli >= 1500;
    default:
      return version_milli > 1000;
  }
}

bool has_body(Method m) { return m != Method::Ping && m != Method::Skip; }

}  // namespace

ParseOutcome parse_request(std::string_view buf, bool eof, const Limits& limits) {
  Line first = next_line(buf, 0, eof);
  if (!first.complete) {
    if (buf.size() > limits.max_line_bytes) {
      return bad("(request line too long)");
    }
    if (eof) {
      return bad("(closed before headers)");
    }
    return {};
  }
  if (first.text.size() > limits.max_line_bytes) {
    return bad("(request line too long)");
  }
  Request r;
  const std::size_t sp = first.text.find(' ');
  constexpr std::string_view kProto = "SPAMC/";
  if (sp == std::string_view::npos || first.text.substr(sp + 1, kProto.size()) != kProto) {
    return bad(first.text);
  }
  auto method = parse_method(first.text.substr(0, sp));
  auto version = parse_version(first.text.substr(sp + 1 + kProto.size()));
  if (!method || !version) {
    return bad(first.text);
  }
  r.method = *method;
  r.version_milli = *version;

  std::size_t pos = first.next;
  if (has_headers(r.method, r.version_milli)) {
    std::size_t count = 0;
    while (true) {
      Line l = next_line(buf, pos, eof);
      if (!l.complete) {
        if (buf.size() - pos > limits.max_line_bytes) {
          return bad("(header line too long)");
        }
        if (eof) {
          return bad("(EOF during headers)");
        }
        return {};
      }
      if (l.text.size() > limits.max_line_bytes) {
        return bad("(header line too long)");
      }
      pos = l.next;
      if (l.text.empty()) {
        break;
      }
      if (++count > limits.max_headers) {
        return bad("(too many headers)");
      }
      const std::size_t colon = l.text.find(':');
      if (colon == std::string_view::npos) {
        return bad("(header not in 'Name: value' format)");
      }
      std::string_view value = l.text.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
      }
      if (auto err = apply_header(r, l.text.substr(0, colon), value, limits)) {
        return *err;
      }
    }
  }

  if (r.method == Method::Tell) {
    if (r.set_local && r.remove_local) {
      return bad("Unable to set local and remove local in the same operation.");
    }
    if (r.set_remote && r.remove_remote) {
      return bad("Unable to set remote and remove remote in the same operation.");
    }
    if (r.set_local && r.message_class.empty()) {
      return bad("(Set: local needs a Message-class header)");
    }
  }

  if (!has_body(r.method)) {
    r.wire_bytes = pos;
    ParseOutcome o;
    o.status = ParseStatus::Ready;
    o.request = std::move(r);
    return o;
  }

  const std::size_t have = buf.size() - pos;
  if (r.compress_zlib) {
    if (!r.content_length) {
      return error_outcome(unavailable_error("Compress requires Content-length header"),
                           "zlib request without Content-length");
    }
    if (*r.content_length > limits.max_compressed_bytes) {
      return error_outcome(too_big_error(limits.max_compressed_bytes),
                           fmt::format("compressed message of {} bytes over the limit",
                                       *r.content_length));
    }
  } else if (r.content_length && *r.content_length > limits.max_message_bytes) {
    return error_outcome(
        too_big_error(limits.max_message_bytes),
        fmt::format("message of {} bytes over the limit", *r.content_length));
  }
  if (!r.content_length && have > limits.max_message_bytes) {
    return error_outcome(too_big_error(limits.max_message_bytes),
                         "message without Content-length over the limit");
  }

  std::string_view body;
  if (r.content_length) {
    if (have < *r.content_length) {
      if (eof) {
        return bad(fmt::format("(Content-Length mismatch: Expected {} bytes, got {} bytes)",
                               *r.content_length, have));
      }
      return {};
    }
    body = buf.substr(pos, *r.content_length);
  } else {
    if (!eof) {
      return {};
    }
    body = buf.substr(pos);
  }
  r.wire_bytes = pos + body.size();
  if (r.compress_zlib) {
    bool too_big = false;
    auto inflated = inflate_zlib(body, limits.max_message_bytes, too_big);
    if (!inflated) {
      if (too_big) {
        return error_outcome(too_big_error(limits.max_message_bytes),
                             "inflated message over the limit");
      }
      return error_outcome(unavailable_error("zlib: failed to find end of zlib stream"),
                           "corrupt zlib data");
    }
    r.message = std::move(*inflated);
  } else {
    r.message.assign(body.data(), body.size());
  }
  ParseOutcome o;
  o.status = ParseStatus::Ready;
  o.request = std::move(r);
  return o;
}

std::string score_text(double score, double required, bool is_spam) {
  if (!std::isfinite(score)) {
    score = 0.0;
  }
  const std::string s = fmt::format("{:.1f}", score);
  const double s_rounded = std::strtod(s.c_str(), nullptr);
  const double r_rounded = std::round(required * 10.0) / 10.0;
  if (is_spam || s_rounded < r_rounded) {
    return s;
  }
  return fmt::format("{}", r_rounded - 0.1);
}

std::string spam_header(const Request& req, const Verdict& v) {
  std::string_view yes = v.is_spam ? "True" : "False";
  if (req.method == Method::ReportIfSpam) {
    yes = v.is_spam ? "Yes" : "No";
  }
  return fmt::format("Spam: {} ; {} / {:.1f}", yes, score_text(v.score, v.required, v.is_spam),
                     v.required);
}

namespace {

std::string symbols_body(const Request& req, const Verdict& v) {
  std::string out;
  for (std::size_t i = 0; i < v.symbols.size(); ++i) {
    if (i != 0) {
      out += ',';
    }
    out += v.symbols[i];
  }
  if (req.version_milli < 1300) {
    out += "\r\n";
  }
  return out;
}

// The message up to and including the blank line that ends its header (HEADERS).
std::string header_part(std::string_view msg) {
  for (std::size_t i = 0; i < msg.size(); ++i) {
    if (msg[i] != '\n') {
      continue;
    }
    std::size_t j = i + 1;
    if (j < msg.size() && msg[j] == '\r') {
      ++j;
    }
    if (j < msg.size() && msg[j] == '\n') {
      return std::string(msg.substr(0, j + 1));
    }
  }
  return std::string(msg);
}

}  // namespace

std::string format_reply(const Request& req, const Verdict& v) {
  const std::string spamhdr = spam_header(req, v);
  const bool multi_headers = req.version_milli >= 1300;
  std::string out;
  if (req.method == Method::Process || req.method == Method::Headers) {
    const std::string body =
        req.method == Method::Headers ? header_part(v.rewritten) : v.rewritten;
    if (multi_headers) {
      out = fmt::format("SPAMD/1.1 0 EX_OK\r\nContent-length: {}\r\n{}\r\n\r\n", body.size(),
                        spamhdr);
    } else if (req.version_milli >= 1200) {
      out = fmt::format("SPAMD/1.1 0 EX_OK\r\nContent-length: {}\r\n\r\n", body.size());
    } else {
      out = "SPAMD/1.0 0 EX_OK\r\n";
    }
    out += body;
    return out;
  }
  out = "SPAMD/1.1 0 EX_OK\r\n";
  if (req.method == Method::Check) {
    out += spamhdr + "\r\n\r\n";
    return out;
  }
  std::string body;
  if (req.method == Method::Report || (req.method == Method::ReportIfSpam && v.is_spam)) {
    body = v.report;
  } else if (req.method == Method::Symbols) {
    body = symbols_body(req, v);
  }
  if (multi_headers) {
    out += fmt::format("Content-length: {}\r\n{}\r\n\r\n", body.size(), spamhdr);
  } else {
    out += spamhdr + "\r\n\r\n";
  }
  out += body;
  return out;
}

std::string format_pong() { return "SPAMD/1.5 0 PONG\r\n"; }

std::string format_tell_reply(bool did_set_local, bool did_remove_local) {
  std::string out = "SPAMD/1.1 0 EX_OK\r\n";
  if (did_set_local) {
    out += "DidSet: local\r\n";
  }
  if (did_remove_local) {
    out += "DidRemove: local\r\n";
  }
  // spamd ends a TELL reply's headers with two empty lines; clients stop at the first.
  out += "\r\n\r\n";
  return out;
}

std::string build_request(Method m, std::string_view message, std::string_view extra_headers,
                          std::string_view version) {
  std::string out = fmt::format("{} SPAMC/{}\r\n", to_string(m), version);
  if (m == Method::Ping || m == Method::Skip) {
    return out + "\r\n";
  }
  out += fmt::format("Content-length: {}\r\n", message.size());
  out += extra_headers;
  out += "\r\n";
  out += message;
  return out;
}

std::optional<std::string> inflate_zlib(std::string_view in, std::size_t max_out, bool& too_big) {
  too_big = false;
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) {
    return std::nullopt;
  }
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), UINT32_MAX));
  char chunk[64 * 1024];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof chunk;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      break;
    }
    const std::size_t n = sizeof chunk - zs.avail_out;
    if (out.size() + n > max_out) {
      too_big = true;
      inflateEnd(&zs);
      return std::nullopt;
    }
    out.append(chunk, n);
    if (rc == Z_OK && n == 0 && zs.avail_in == 0) {
      break;  // truncated input
    }
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    return std::nullopt;
  }
  return out;
}

std::string deflate_zlib(std::string_view in) {
  uLongf bound = compressBound(static_cast<uLong>(in.size()));
  std::string out(bound, '\0');
  if (compress2(reinterpret_cast<Bytef*>(out.data()), &bound,
                reinterpret_cast<const Bytef*>(in.data()), static_cast<uLong>(in.size()),
                Z_DEFAULT_COMPRESSION) != Z_OK) {
    return {};
  }
  out.resize(bound);
  return out;
}

}  // namespace gf::spamd
