// Fuzzes the mbox splitter (core/mime/mbox.hpp) on arbitrary bytes and checks its properties:
// - the separators and raw parts, joined in order, are the input byte for byte (nothing lost,
//   nothing read twice, every view inside the input);
// - every separator is one separator line, and no raw part holds a separator line (checked on
//   the input, where a part's lines are);
// - an mbox has at least two parts and a non-mbox exactly one, with no separator;
// - limits hold: never more than max_messages parts, no part over max_message_bytes, and an
//   error only when one of them is exceeded;
// - unescaping removes exactly one '>' from each escaped line and nothing else.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/mime/mbox.hpp"

namespace {

void require(bool ok) {
  if (!ok) {
    std::abort();
  }
}

std::size_t escaped_lines(std::string_view raw) {
  std::size_t n = 0;
  std::size_t p = 0;
  while (p < raw.size()) {
    const std::size_t nl = raw.find('\n', p);
    const std::string_view line = raw.substr(p, nl == std::string_view::npos ? raw.npos : nl - p);
    const std::size_t gt = line.find_first_not_of('>');
    n += gt != std::string_view::npos && gt > 0 && line.substr(gt, 5) == "From " ? 1 : 0;
    if (nl == std::string_view::npos) {
      break;
    }
    p = nl + 1;
  }
  return n;
}

void check_part(std::string_view data, const gf::mime::MboxPart& part, bool is_mbox) {
  const std::size_t off = static_cast<std::size_t>(part.raw.data() - data.data());
  for (std::size_t p = off; p < off + part.raw.size(); ++p) {
    if (p == off || data[p - 1] == '\n') {
      // A part's first line follows its separator line, so is never one in an mbox.
      require(!is_mbox || !gf::mime::is_mbox_separator_at(data, p));
    }
  }
  if (is_mbox) {
    const std::size_t sep = static_cast<std::size_t>(part.separator.data() - data.data());
    require(gf::mime::is_mbox_separator_at(data, sep));
    require(part.separator.find('\n') == part.separator.size() - 1);
    const std::string plain = gf::mime::unescape_mboxrd(part.raw);
    require(plain.size() + escaped_lines(part.raw) == part.raw.size());
  } else {
    require(part.separator.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  gf::mime::MboxLimits limits;
  // Small limits (from the first byte) so the fuzzer reaches the error paths too.
  limits.max_messages = size > 0 ? 1 + bytes[0] % 8 : 1;
  limits.max_message_bytes = size > 1 ? 16 + bytes[1] * 16U : 16;
  auto box = gf::mime::split_mbox(data, limits);
  auto unlimited = gf::mime::split_mbox(data, gf::mime::MboxLimits{size + 1, size + 1});
  require(unlimited.has_value());
  if (!box) {
    require(box.error().code == gf::Errc::TooLarge && !box.error().message.empty());
    bool over = unlimited->parts.size() > limits.max_messages;
    for (const auto& p : unlimited->parts) {
      over = over || p.raw.size() > limits.max_message_bytes;
    }
    require(over);
    return 0;
  }
  require(box->parts.size() == unlimited->parts.size());
  require(box->is_mbox ? box->parts.size() >= 2 : box->parts.size() == 1);
  require(box->parts.size() <= limits.max_messages);
  std::string joined;
  for (const auto& part : box->parts) {
    require(part.raw.size() <= limits.max_message_bytes);
    require(part.raw.empty() || (part.raw.data() >= data.data() &&
                                 part.raw.data() + part.raw.size() <= data.data() + data.size()));
    check_part(data, part, box->is_mbox);
    joined.append(part.separator).append(part.raw);
  }
  require(joined == data);
  auto msgs = gf::mime::mbox_messages(data, limits);
  require(msgs.has_value() && msgs->size() == box->parts.size());
  return 0;
}
