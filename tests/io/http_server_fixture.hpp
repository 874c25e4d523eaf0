#pragma once
// A loopback HttpServer for the adapter tests: the server on its own io_context (and thread),
// a blocking client socket, and a reader for one Content-Length answer.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "io/net/http_server.hpp"

namespace gf::io {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class HttpServerTest : public ::testing::Test {
 protected:
  // With run_thread false the test drives the server's io_context itself (run_server_thread()
  // hands it to a thread later).
  void start(HttpHandler handler, bool run_thread = true) {
    HttpServerOptions o;
    o.listen = {parse_listen("127.0.0.1:0").value()};
    o.request_timeout = std::chrono::seconds(5);
    server_ = std::make_unique<HttpServer>(ioc_, o, std::move(handler));
    ASSERT_TRUE(server_->start());
    port_ = server_->ports().at(0);
    if (run_thread) {
      run_server_thread();
    }
  }
  void run_server_thread() {
    thread_ = std::thread([this] { ioc_.run(); });
  }
  void TearDown() override {
    if (server_) {
      server_->drain();
    }
    ioc_.stop();
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  tcp::socket connect() {
    tcp::socket s(client_);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    return s;
  }
  // Reads one answer with a Content-Length body; returns head and body.
  static std::pair<std::string, std::string> read_answer(tcp::socket& s) {
    asio::streambuf buf;
    asio::read_until(s, buf, "\r\n\r\n");
    std::string all(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
    const std::size_t end = all.find("\r\n\r\n") + 4;
    const std::string head = all.substr(0, end);
    const std::size_t at = head.find("Content-Length: ");
    EXPECT_NE(at, std::string::npos) << head;
    const std::size_t length = std::stoul(head.substr(at + 16));
    std::string body = all.substr(end);
    if (body.size() < length) {
      std::string rest(length - body.size(), '\0');
      asio::read(s, asio::buffer(rest));
      body += rest;
    }
    return {head, body};
  }

  asio::io_context ioc_;
  asio::io_context client_;
  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace gf::io
