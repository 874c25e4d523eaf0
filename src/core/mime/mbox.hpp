#pragma once
// mbox splitter: one file of many messages (as `greyflux learn` and `greyflux classify` take
// them, and as mutt, Thunderbird and the SpamAssassin corpus store them) into its messages.
//
// The format (mboxrd, RFC 4155): each message starts with a separator line "From SENDER DATE",
// the first at the start of the file and every other one after an empty line. A body line that
// would look like a separator was written with one more '>' (">From ", ">>From ", ...), and
// reading removes one. greyflux takes a line as a separator when it starts at offset 0 or right
// after an empty line (LF or CRLF), begins "From ", names a weekday (" Mon " ... " Sun ") and
// ends with '\n': a "From " sentence in a body is not one.
//
// Flow: split_mbox(data) finds the separator lines in one pass over the whole buffer and returns
// views into `data` (no copy): each part is its separator line and the raw, still escaped bytes
// up to the next separator. The separators and the parts tile the input exactly. A buffer is
// an mbox only when it starts with a separator and holds at least two; anything else is one
// message (a single mail file that happens to start with a "From " envelope line stays whole,
// that line included). messages() turns the parts into message strings (one '>' removed from
// each escaped line).
//
// Threading: pure functions. Errors: never throws on input; more messages than max_messages or
// a message longer than max_message_bytes is an Errc::TooLarge error naming the limit and the
// byte offset of the message. The views live as long as `data`.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.hpp"

namespace gf::mime {

struct MboxLimits {
  std::size_t max_messages = 10'000'000;
  std::size_t max_message_bytes = 256 * 1024 * 1024;  // one message, as stored (escaped)
};

struct MboxPart {
  std::string_view separator;  // the "From ..." line with its line ending; empty if not an mbox
  std::string_view raw;        // the message bytes as stored (">From " lines still escaped)
};

struct Mbox {
  bool is_mbox = false;  // false: one part, the whole buffer, no separator
  std::vector<MboxPart> parts;
};

// True when the line starting at `pos` (pos == 0 or data[pos - 1] == '\n') is a separator line.
[[nodiscard]] bool is_mbox_separator_at(std::string_view data, std::size_t pos);

// Splits `data`; an empty buffer is one empty message.
[[nodiscard]] Result<Mbox> split_mbox(std::string_view data, const MboxLimits& limits = {});

// mboxrd unescaping: one '>' removed from every line that is '>'+ followed by "From ".
[[nodiscard]] std::string unescape_mboxrd(std::string_view raw);

// The messages of `data`: unescaped parts of an mbox, or the whole buffer as it is.
[[nodiscard]] Result<std::vector<std::string>> mbox_messages(std::string_view data,
                                                             const MboxLimits& limits = {});

}  // namespace gf::mime
