#pragma once
// HTTP/1.1 request-head framing check: the strict gate in front of Boost.Beast's parser.
//
// Beast accepts a few framings that RFC 9112 says a server must refuse, and each is a request
// smuggling vector when greyflux sits behind a proxy that reads the same bytes differently:
// obsolete line folding (a field line that starts with SP or HTAB), bare LF line ends, a
// Transfer-Encoding other than a single "chunked" (Beast then falls back to no body, so the body
// becomes the next request), Content-Length together with Transfer-Encoding in either order,
// Content-Length values that disagree or are not plain digits, whitespace between a field name
// and its colon, more than one Host, and Transfer-Encoding on an HTTP/1.0 request. Any of them is
// an Error: the adapter answers 400 and closes the connection.
//
// Flow: the adapter keeps one RequestHeadScanner per request and calls scan() with the bytes
// received so far (the same prefix, growing) until it answers Complete (length() is the head
// through its empty line) or Error (error() says why). Each byte is looked at once: a client that
// sends one byte at a time costs linear work. The scanner does not bound the head's size: the
// adapter applies its header limit to NeedMore. Pure, no allocation beyond the error text.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gf::http {

enum class HeadStatus { NeedMore, Complete, Error };

class RequestHeadScanner {
 public:
  // `bytes` starts at the request's first byte and extends what the previous call saw.
  [[nodiscard]] HeadStatus scan(std::string_view bytes);
  [[nodiscard]] std::size_t length() const { return length_; }
  [[nodiscard]] const std::string& error() const { return error_; }
  // Field lines in the head (a parser that reports more fields also took a chunked trailer).
  [[nodiscard]] std::size_t fields() const { return fields_; }

 private:
  HeadStatus fail(std::string why);
  HeadStatus line(std::string_view text);  // one line without its CRLF
  HeadStatus request_line(std::string_view text);
  HeadStatus field_line(std::string_view text);
  HeadStatus end_of_head();

  std::size_t pos_ = 0;         // bytes already looked at
  std::size_t line_start_ = 0;  // where the current line began
  std::size_t length_ = 0;
  std::size_t fields_ = 0;
  bool seen_request_line_ = false;
  bool http10_ = false;
  bool chunked_ = false;
  bool host_ = false;
  std::optional<std::uint64_t> content_length_;
  std::string error_;
};

}  // namespace gf::http
