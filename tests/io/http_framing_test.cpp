// HttpServer against request smuggling and bad framing: each attack is sent with a second,
// well-formed request pipelined behind it on the same connection. The server must answer exactly
// once (400, or 413 for a chunk over the body limit), close the connection, and hand no request
// to the handler, so nothing hidden in the first request's body is ever served.
#include <sys/socket.h>
#include <sys/time.h>

#include <mutex>
#include <string>
#include <vector>

#include "http_server_fixture.hpp"

namespace gf::io {
namespace {

const std::string kSmuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

struct Answer {
  int status = 0;
  std::string head;
};

// Everything the server sends until it closes (or 5 s of silence), split into answers.
std::vector<Answer> read_until_closed(tcp::socket& s) {
  timeval tv{5, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string all;
  char chunk[16384];
  for (;;) {
    const ssize_t n = ::recv(s.native_handle(), chunk, sizeof chunk, 0);
    if (n <= 0) {
      EXPECT_EQ(n, 0) << "the server did not close the connection";
      break;
    }
    all.append(chunk, static_cast<std::size_t>(n));
  }
  std::vector<Answer> answers;
  std::size_t at = 0;
  while (at < all.size()) {
    const std::size_t end = all.find("\r\n\r\n", at);
    if (end == std::string::npos || all.compare(at, 9, "HTTP/1.1 ") != 0) {
      ADD_FAILURE() << "not an answer: " << all.substr(at);
      break;
    }
    Answer a;
    a.head = all.substr(at, end + 4 - at);
    a.status = std::stoi(a.head.substr(9, 3));
    const std::size_t cl = a.head.find("Content-Length: ");
    at = end + 4 + (cl == std::string::npos ? 0 : std::stoul(a.head.substr(cl + 16)));
    answers.push_back(a);
  }
  return answers;
}

class HttpFramingTest : public HttpServerTest {
 protected:
  void SetUp() override {
    start([this](const HttpRequest& req) {
      std::lock_guard lock(mu_);
      served_.push_back(req.method + " " + req.path + " " + req.body);
      HttpResponse r;
      r.body = "ok";
      return r;
    });
  }
  // Sends `attack` then kSmuggled on one connection; expects one `status` answer, then close.
  void expect_refused_once(const std::string& attack, int status = 400) {
    tcp::socket s = connect();
    boost::system::error_code ec;
    asio::write(s, asio::buffer(attack + kSmuggled), ec);  // a reset mid-write is fine
    const std::vector<Answer> answers = read_until_closed(s);
    ASSERT_EQ(answers.size(), 1u) << attack;
    EXPECT_EQ(answers[0].status, status) << attack;
    EXPECT_NE(answers[0].head.find("Connection: close\r\n"), std::string::npos);
    std::lock_guard lock(mu_);
    EXPECT_TRUE(served_.empty()) << attack << " served " << served_.front();
    served_.clear();
  }
  std::vector<std::string> served() {
    std::lock_guard lock(mu_);
    return served_;
  }

  std::mutex mu_;
  std::vector<std::string> served_;
};

TEST_F(HttpFramingTest, WellFormedPipelinedRequestsAreEachServedOnce) {
  tcp::socket s = connect();
  asio::write(
      s, asio::buffer("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "5;name=v\r\nhello\r\n0\r\n\r\n"
                      "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n"
                      "Connection: close\r\n\r\nhi"));
  const std::vector<Answer> answers = read_until_closed(s);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0].status, 200);
  EXPECT_EQ(answers[1].status, 200);
  EXPECT_EQ(served(), (std::vector<std::string>{"POST /a hello", "POST /b hi"}));
}

TEST_F(HttpFramingTest, ContentLengthWithTransferEncodingIsRefusedInEitherOrder) {
  expect_refused_once(
      "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\n");
  expect_refused_once(
      "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 45\r\n\r\n"
      "0\r\n\r\n");
  EXPECT_GE(server_->stats().bad_requests.load(), 2u);
}

TEST_F(HttpFramingTest, TransferEncodingOtherThanChunkedIsRefused) {
  // Without the framing check Beast reads these as bodiless and serves /smuggled next.
  expect_refused_once("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n");
  expect_refused_once(
      "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n");
  expect_refused_once(
      "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nContent-Length: 0\r\n\r\n");
  expect_refused_once("POST /a HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
}

TEST_F(HttpFramingTest, DuplicateContentLengthWithDifferentValuesIsRefused) {
  expect_refused_once(
      "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 36\r\n\r\n");
  expect_refused_once("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0, 36\r\n\r\n");
}

TEST_F(HttpFramingTest, ObsoleteLineFoldingIsRefused) {
  expect_refused_once("GET /a HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n\r\n");
  expect_refused_once(
      "POST /a HTTP/1.1\r\nHost: x\r\nX-A: one\r\n\tTransfer-Encoding: chunked\r\n"
      "Content-Length: 0\r\n\r\n");
}

TEST_F(HttpFramingTest, BareLineFeedsAreRefused) {
  expect_refused_once("GET /a HTTP/1.1\nHost: x\n\n");
  expect_refused_once("GET /a HTTP/1.1\r\nHost: x\n\r\n");
  expect_refused_once(
      "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n");
}

TEST_F(HttpFramingTest, InvalidHeaderNamesAreRefused) {
  expect_refused_once("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length : 36\r\n\r\n");
  expect_refused_once("GET /a HTTP/1.1\r\nHost: x\r\nX(y): 1\r\n\r\n");
  expect_refused_once("GET /a HTTP/1.1\r\nHost: x\r\n: 1\r\n\r\n");
  expect_refused_once("GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n");
}

TEST_F(HttpFramingTest, OversizedChunkSizesAreRefused) {
  const std::string head = "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  expect_refused_once(head + "1FFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n");          // over 64 bits: 400
  expect_refused_once(head + "FFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n", 413);      // over body_limit
  expect_refused_once(head + "10\r\nx\r\n0\r\n\r\n" + std::string(64, 'y'));  // size lies
}

TEST_F(HttpFramingTest, ChunkedTrailerFieldsAreRefused) {
  expect_refused_once(
      "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "1\r\nx\r\n0\r\nAuthorization: Bearer t\r\n\r\n");
}

TEST_F(HttpFramingTest, ChunkExtensionAbuseIsRefused) {
  const std::string head = "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string many = "1";
  for (int i = 0; i < 100; ++i) {
    many += ";a=b";
  }
  expect_refused_once(head + many + "\r\nx\r\n0\r\n\r\n");  // 400 bytes of extensions
  // A chunk line that never ends: refused once the connection buffer is full, not buffered on.
  expect_refused_once(head + "1;" + std::string(200 * 1024, 'a'));
}

}  // namespace
}  // namespace gf::io
