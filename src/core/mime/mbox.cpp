#include "core/mime/mbox.hpp"

#include <fmt/format.h>

namespace gf::mime {

namespace {

// The line before `pos` (which starts a line) is empty: "\n" or "\r\n".
bool after_empty_line(std::string_view data, std::size_t pos) {
  if (pos == 0) {
    return true;
  }
  if (pos >= 2 && data[pos - 2] == '\n') {
    return true;
  }
  return pos >= 3 && data[pos - 2] == '\r' && data[pos - 3] == '\n';
}

bool names_weekday(std::string_view line) {
  static constexpr std::string_view kDays[] = {" Mon ", " Tue ", " Wed ", " Thu ",
                                               " Fri ", " Sat ", " Sun "};
  for (std::string_view d : kDays) {
    if (line.find(d) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

// Offsets of the separator lines, at most `max` + 1 of them (enough to know the limit is passed).
std::vector<std::size_t> separators(std::string_view data, std::size_t max) {
  std::vector<std::size_t> seps;
  std::size_t pos = 0;
  while (pos < data.size() && seps.size() <= max) {
    if (is_mbox_separator_at(data, pos)) {
      seps.push_back(pos);
    }
    const std::size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) {
      break;
    }
    pos = nl + 1;
  }
  return seps;
}

}  // namespace

bool is_mbox_separator_at(std::string_view data, std::size_t pos) {
  if (pos >= data.size() || data.substr(pos, 5) != "From " || !after_empty_line(data, pos)) {
    return false;
  }
  const std::size_t nl = data.find('\n', pos);
  if (nl == std::string_view::npos) {
    return false;  // a separator line ends with a line ending
  }
  return names_weekday(data.substr(pos, nl - pos));
}

Result<Mbox> split_mbox(std::string_view data, const MboxLimits& limits) {
  Mbox out;
  const std::vector<std::size_t> seps = separators(data, limits.max_messages);
  if (seps.size() < 2 || seps[0] != 0) {
    if (data.size() > limits.max_message_bytes) {
      return fail(Errc::TooLarge, fmt::format("message of {} bytes is over the limit of {}",
                                              data.size(), limits.max_message_bytes));
    }
    out.parts.push_back({std::string_view(), data});
    return out;
  }
  if (seps.size() > limits.max_messages) {
    return fail(Errc::TooLarge,
                fmt::format("mbox holds more than {} messages", limits.max_messages));
  }
  out.is_mbox = true;
  out.parts.reserve(seps.size());
  for (std::size_t k = 0; k < seps.size(); ++k) {
    const std::size_t body = data.find('\n', seps[k]) + 1;  // a separator ends with '\n'
    const std::size_t end = k + 1 < seps.size() ? seps[k + 1] : data.size();
    if (end - body > limits.max_message_bytes) {
      return fail(Errc::TooLarge,
                  fmt::format("mbox message {} (at byte {}) is over the limit of {} bytes", k + 1,
                              seps[k], limits.max_message_bytes));
    }
    out.parts.push_back({data.substr(seps[k], body - seps[k]), data.substr(body, end - body)});
  }
  return out;
}

std::string unescape_mboxrd(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  std::size_t p = 0;
  while (p < raw.size()) {
    const std::size_t nl = raw.find('\n', p);
    const std::size_t le = nl == std::string_view::npos ? raw.size() : nl + 1;
    std::string_view line = raw.substr(p, le - p);
    const std::size_t gt = line.find_first_not_of('>');
    if (gt != std::string_view::npos && gt > 0 && line.substr(gt, 5) == "From ") {
      line.remove_prefix(1);
    }
    out.append(line);
    p = le;
  }
  return out;
}

Result<std::vector<std::string>> mbox_messages(std::string_view data, const MboxLimits& limits) {
  auto box = split_mbox(data, limits);
  if (!box) {
    return tl::unexpected(box.error());
  }
  std::vector<std::string> out;
  out.reserve(box->parts.size());
  for (const MboxPart& p : box->parts) {
    out.push_back(box->is_mbox ? unescape_mboxrd(p.raw) : std::string(p.raw));
  }
  return out;
}

}  // namespace gf::mime
