// gf_policy_floor: the cheapest possible Postfix policy server, as a floor for benchmarks.
// It answers every request (a block ended by an empty line) with "action=DUNNO" from one epoll
// thread, doing no parsing and no storage. Whatever latency and throughput it shows on a
// machine is what the machine and its loopback allow any policy server; greyflux's figures are
// reported next to it. Usage: gf_policy_floor PORT  (listens on 127.0.0.1 only)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: gf_policy_floor PORT\n");
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[1])));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(lfd, 1024)) {
    std::perror("gf_policy_floor: bind/listen");
    return 1;
  }
  const int ep = ::epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  std::unordered_map<int, std::string> pending;  // bytes after the last complete request
  static const char kReply[] = "action=DUNNO\n\n";
  epoll_event events[256];
  char buf[65536];
  while (true) {
    const int n = ::epoll_wait(ep, events, 256, -1);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == lfd) {
        int c;
        while ((c = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK)) >= 0) {
          ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.fd = c;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
        continue;
      }
      const ssize_t r = ::read(fd, buf, sizeof buf);
      if (r <= 0) {
        ::close(fd);
        pending.erase(fd);
        continue;
      }
      std::string& p = pending[fd];
      p.append(buf, static_cast<size_t>(r));
      std::string out;
      size_t pos;
      while ((pos = p.find("\n\n")) != std::string::npos) {
        p.erase(0, pos + 2);
        out += kReply;
      }
      if (!out.empty() && ::write(fd, out.data(), out.size()) < 0) {
        ::close(fd);
        pending.erase(fd);
      }
    }
  }
}
