// gf_spamd_load: a parallel spamd-protocol client for throughput measurements. Works against
// greyflux and SpamAssassin's spamd alike (one request per connection, as spamc does).
//
// usage: gf_spamd_load PORT MANIFEST_OR_FILE... [--concurrency N] [--count M] [--method CHECK]
//                      [--seconds S]
// MANIFEST lines start with a message path (a TAB may follow); other arguments are message files.
// Prints requests/s, latency percentiles and how many replies said spam.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// One request, one connection: write, half-close, read to EOF.
bool one(int port, const std::string& req, std::string& reply) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // loopback only
  int one_flag = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one_flag, sizeof one_flag);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return false;
  }
  std::size_t off = 0;
  while (off < req.size()) {
    const ssize_t n = ::write(fd, req.data() + off, req.size() - off);
    if (n <= 0) {
      ::close(fd);
      return false;
    }
    off += static_cast<std::size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  reply.clear();
  char buf[16384];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) {
    reply.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: gf_spamd_load PORT MANIFEST_OR_FILE... [--concurrency N] [--count M] "
                 "[--method CHECK] [--seconds S]\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  int concurrency = 8;
  std::size_t count = 0;
  double seconds = 0;
  std::string method = "CHECK";
  std::vector<std::string> messages;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--concurrency" && i + 1 < argc) {
      concurrency = std::atoi(argv[++i]);
    } else if (a == "--count" && i + 1 < argc) {
      count = static_cast<std::size_t>(std::atoll(argv[++i]));
    } else if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (a == "--method" && i + 1 < argc) {
      method = argv[++i];
    } else if (a.size() > 4 && a.substr(a.size() - 4) == ".tsv") {
      std::ifstream man(a);
      std::string line;
      while (std::getline(man, line)) {
        messages.push_back(slurp(line.substr(0, line.find('\t'))));
      }
    } else {
      messages.push_back(slurp(a));
    }
  }
  if (messages.empty()) {
    std::fprintf(stderr, "no messages\n");
    return 2;
  }
  if (count == 0) {
    count = messages.size();
  }
  std::vector<std::string> requests;
  requests.reserve(messages.size());
  for (const std::string& m : messages) {
    requests.push_back(method + " SPAMC/1.5\r\nContent-length: " + std::to_string(m.size()) +
                       "\r\nUser: bench\r\n\r\n" + m);
  }
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> ok{0};
  std::atomic<std::size_t> failed{0};
  std::atomic<std::size_t> spam{0};
  std::mutex mu;
  std::vector<double> latencies;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds > 0 ? seconds : 1e9);
  std::vector<std::thread> pool;
  for (int t = 0; t < concurrency; ++t) {
    pool.emplace_back([&] {
      std::vector<double> mine;
      std::string reply;
      std::size_t i;
      while ((i = next++) < count && Clock::now() < deadline) {
        const auto t0 = Clock::now();
        if (one(port, requests[i % requests.size()], reply) &&
            reply.rfind("SPAMD/1.1 0 EX_OK", 0) == 0) {
          ++ok;
          if (reply.find("Spam: True") != std::string::npos) {
            ++spam;
          }
        } else {
          ++failed;
        }
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
      std::lock_guard lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : pool) {
    t.join();
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double q) {
    return latencies.empty() ? 0.0
                             : latencies[std::min(latencies.size() - 1,
                                                  static_cast<std::size_t>(q * latencies.size()))];
  };
  std::printf("%s x %zu over %d connections: %zu ok, %zu failed, %zu spam in %.2f s = %.0f msg/s "
              "(latency ms p50 %.2f p99 %.2f max %.2f)\n",
              method.c_str(), ok.load() + failed.load(), concurrency, ok.load(), failed.load(),
              spam.load(), secs, static_cast<double>(ok.load()) / secs, pct(0.5), pct(0.99),
              latencies.empty() ? 0.0 : latencies.back());
  return failed.load() == 0 ? 0 : 1;
}
