// RequestHeadScanner: the request-head framing gate in front of Beast (smuggling vectors refused,
// ordinary heads passed through, the same verdict whether the bytes come at once or one by one).
#include "core/common/http_head.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gf::http {
namespace {

struct Verdict {
  HeadStatus status;
  std::size_t length;
  std::string error;
};

Verdict scan_all(std::string_view bytes) {
  RequestHeadScanner s;
  const HeadStatus st = s.scan(bytes);
  return {st, s.length(), s.error()};
}

// The same bytes fed one more byte per call.
Verdict scan_bytewise(std::string_view bytes) {
  RequestHeadScanner s;
  HeadStatus st = HeadStatus::NeedMore;
  for (std::size_t n = 1; n <= bytes.size() && st == HeadStatus::NeedMore; ++n) {
    st = s.scan(bytes.substr(0, n));
  }
  return {st, s.length(), s.error()};
}

void expect_refused(const std::string& head, std::string_view why) {
  for (const Verdict& v : {scan_all(head), scan_bytewise(head)}) {
    EXPECT_EQ(v.status, HeadStatus::Error) << head;
    EXPECT_EQ(v.error, why) << head;
  }
}

TEST(HttpHead, OrdinaryRequestIsCompleteThroughItsEmptyLine) {
  const std::string head =
      "POST /1.1/comment-check HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
      "Content-Type: application/x-www-form-urlencoded\r\nX-Tab:\tv\xe9\r\n\r\n";
  for (const Verdict& v : {scan_all(head + "abc"), scan_bytewise(head + "abc")}) {
    EXPECT_EQ(v.status, HeadStatus::Complete);
    EXPECT_EQ(v.length, head.size());
  }
  RequestHeadScanner s;
  ASSERT_EQ(s.scan(head), HeadStatus::Complete);
  EXPECT_EQ(s.fields(), 4u);
}

TEST(HttpHead, ChunkedRequestAndRepeatedEqualLengthsPass) {
  EXPECT_EQ(scan_all("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n").status,
            HeadStatus::Complete);
  EXPECT_EQ(scan_all("POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length:5 \r\n\r\n").status,
            HeadStatus::Complete);
}

TEST(HttpHead, IncompleteHeadNeedsMore) {
  EXPECT_EQ(scan_all("GET / HTTP/1.1\r\nHost: a\r\n").status, HeadStatus::NeedMore);
  EXPECT_EQ(scan_all("GET / HTTP/1.1\r").status, HeadStatus::NeedMore);
  EXPECT_EQ(scan_all("").status, HeadStatus::NeedMore);
}

TEST(HttpHead, ContentLengthWithTransferEncodingIsRefusedInEitherOrder) {
  expect_refused("POST / HTTP/1.1\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n",
                 "both Content-Length and Transfer-Encoding");
  expect_refused("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n",
                 "both Content-Length and Transfer-Encoding");
}

TEST(HttpHead, TransferEncodingOtherThanOneChunkedIsRefused) {
  expect_refused("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nContent-Length: 6\r\n\r\n",
                 "Transfer-Encoding other than chunked");
  expect_refused("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
                 "Transfer-Encoding other than chunked");
  expect_refused("POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n",
                 "Transfer-Encoding other than chunked");
  expect_refused("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                 "more than one Transfer-Encoding");
  expect_refused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
                 "Transfer-Encoding on an HTTP/1.0 request");
}

TEST(HttpHead, DisagreeingOrMalformedContentLengthIsRefused) {
  expect_refused("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\n",
                 "Content-Length values differ");
  expect_refused("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n",
                 "Content-Length is not a plain decimal number");
  expect_refused("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n",
                 "Content-Length is not a plain decimal number");
  expect_refused("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
                 "Content-Length is not a plain decimal number");
}

TEST(HttpHead, ObsoleteLineFoldingIsRefused) {
  expect_refused("GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n", "obsolete line folding");
  expect_refused("GET / HTTP/1.1\r\nX-A: one\r\n\ttwo\r\n\r\n", "obsolete line folding");
}

TEST(HttpHead, BareLineEndsAreRefused) {
  expect_refused("GET / HTTP/1.1\nHost: a\n\n", "bare LF line end");
  expect_refused("GET / HTTP/1.1\r\nHost: a\n\r\n", "bare LF line end");
  expect_refused("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", "CR not followed by LF");
}

TEST(HttpHead, InvalidFieldNamesAndValuesAreRefused) {
  expect_refused("POST / HTTP/1.1\r\nContent-Length : 5\r\n\r\n", "invalid field name");
  expect_refused("GET / HTTP/1.1\r\nX(y): 1\r\n\r\n", "invalid field name");
  expect_refused("GET / HTTP/1.1\r\n: 1\r\n\r\n", "field line without a name");
  expect_refused("GET / HTTP/1.1\r\nno colon\r\n\r\n", "field line without a name");
  expect_refused(std::string("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26),
                 "control character in a field value");
  expect_refused("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "more than one Host");
}

TEST(HttpHead, MalformedRequestLinesAreRefused) {
  expect_refused("\r\nGET / HTTP/1.1\r\n\r\n", "empty request line");
  expect_refused("GET /\r\n\r\n", "request line is not method, target and version");
  expect_refused("GET\t/ HTTP/1.1\r\n\r\n", "control character in the request line");
}

TEST(HttpHead, VerdictIsStickyOnceGiven) {
  RequestHeadScanner s;
  const std::string head = "GET / HTTP/1.1\nX";
  EXPECT_EQ(s.scan(head), HeadStatus::Error);
  EXPECT_EQ(s.scan(head + "\r\n\r\n"), HeadStatus::Error);
}

}  // namespace
}  // namespace gf::http
