// HttpServer: the paths beside the fast one (a request complete in the buffer, an answer the
// socket takes at once): an answer larger than the socket buffers to a client that reads late
// (the timed asynchronous write), a request that arrives in pieces (parsed across reads), and a
// handler's header value with CR/LF kept on one line.
#include "io/net/http_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "http_server_fixture.hpp"

namespace gf::io {
namespace {

TEST_F(HttpServerTest, LargeAnswerToAClientThatReadsLateArrivesWhole) {
  const std::string big = [] {
    std::string b(8 << 20, 'x');  // far more than the socket buffers take at once
    for (std::size_t i = 0; i < b.size(); i += 4096) {
      b[i] = static_cast<char>('a' + (i / 4096) % 26);
    }
    return b;
  }();
  start([&](const HttpRequest&) {
    HttpResponse r;
    r.body = big;
    return r;
  });
  tcp::socket s = connect();
  asio::write(s, asio::buffer(std::string("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")));
  // Read nothing until the answer has started to arrive: 8 MiB cannot fit in the socket
  // buffers, so from then on the server's write is stalled on this client (bounded wait).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (s.available() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_GT(s.available(), 0u);
  EXPECT_EQ(server_->stats().requests.load(), 1u);
  auto [head, body] = read_answer(s);
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK\r\n")) << head;
  EXPECT_EQ(body, big);
  // The connection is still good for the next request.
  asio::write(s, asio::buffer(std::string("GET /again HTTP/1.1\r\nHost: x\r\n\r\n")));
  EXPECT_EQ(read_answer(s).second.size(), big.size());
}

TEST_F(HttpServerTest, RequestInPiecesIsParsedAcrossReadsAndHeadersStayOnOneLine) {
  start(
      [](const HttpRequest& req) {
        HttpResponse r;
        r.body = req.method + " " + req.path + " " + req.body;
        r.headers.emplace_back("X-Echo", "line one\r\nX-Injected: yes");
        return r;
      },
      /*run_thread=*/false);
  tcp::socket s = connect();
  s.set_option(tcp::no_delay(true));  // one segment per piece
  const std::string request =
      "POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world";
  // The server runs here, one handler after each piece (accept, then one read per piece), so
  // it parses across reads instead of finding the whole request in one.
  for (std::size_t at = 0; at < request.size(); at += 7) {
    asio::write(s, asio::buffer(request.substr(at, 7)));
    ASSERT_EQ(ioc_.run_one_for(std::chrono::seconds(10)), 1u);
  }
  run_server_thread();
  auto [head, body] = read_answer(s);
  EXPECT_EQ(body, "POST /form hello world");
  EXPECT_NE(head.find("X-Echo: line one  X-Injected: yes\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.find("\r\nX-Injected"), std::string::npos) << head;
  EXPECT_EQ(server_->stats().requests.load(), 1u);
}

TEST_F(HttpServerTest, HeadersArriveLowerCasedInOrderAndLookupIgnoresCase) {
  HttpRequest seen;
  start([&](const HttpRequest& req) {
    seen = req;
    return HttpResponse{};
  });
  tcp::socket s = connect();
  asio::write(s,
              asio::buffer(std::string("GET /h HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer abc\r\n"
                                       "X-CSRF-Token: t1\r\nCookie: a=1\r\ncookie: b=2\r\n\r\n")));
  EXPECT_TRUE(read_answer(s).first.starts_with("HTTP/1.1 200 OK\r\n"));
  const std::vector<std::pair<std::string, std::string>> want = {{"host", "x"},
                                                                 {"authorization", "Bearer abc"},
                                                                 {"x-csrf-token", "t1"},
                                                                 {"cookie", "a=1"},
                                                                 {"cookie", "b=2"}};
  EXPECT_EQ(seen.headers, want);
  EXPECT_EQ(seen.header("authorization"), "Bearer abc");
  EXPECT_EQ(seen.header("X-Csrf-Token"), "t1");
  EXPECT_EQ(seen.header("cookie"), "a=1");  // the first of a repeated field
  EXPECT_EQ(seen.header("x-absent"), "");
}

}  // namespace
}  // namespace gf::io
