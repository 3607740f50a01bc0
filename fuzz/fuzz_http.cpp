// Raw bytes on a socket into the real server: HTTP parsing, limits, keep-alive and pipelining,
// routing and every handler behind it. Each input is written to a fresh loopback connection to an
// in-process server, the write side is closed, and the answer is read until the server closes.
// A connection the server never closes is a finding (abort).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz/harness.hpp"
#include "server/server.hpp"

using namespace shipgate;

namespace {

struct HttpHarness {
  std::atomic<bool> draining{false};
  std::unique_ptr<server::Server> server;
  std::uint16_t port = 0;

  HttpHarness() {
    auto& h = fuzz::Harness::get();
    config::ServerConfig cfg;
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    cfg.max_body = 1 << 20;
    cfg.max_api_body = 64 << 10;
    cfg.header_timeout = std::chrono::seconds(2);
    cfg.body_timeout = std::chrono::seconds(2);
    cfg.idle_timeout = std::chrono::seconds(2);
    cfg.api_rate = 1e9;
    cfg.api_burst = 1'000'000'000;
    server = std::make_unique<server::Server>(h.ioc(), cfg, h.router(), draining);
    if (!server->listen()) std::abort();
    port = server->port();
    server->start();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static HttpHarness* harness = new HttpHarness();
  auto& h = fuzz::Harness::get();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(harness->port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);  // EINPROGRESS on loopback is fine
  std::size_t sent = 0;
  bool write_closed = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  char buf[16384];
  for (;;) {
    h.drive(std::chrono::milliseconds(1));
    if (sent < size) {
      const auto n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<std::size_t>(n);
      else if (n < 0 && errno != EAGAIN && errno != EINPROGRESS && errno != ENOTCONN) sent = size;  // peer gone
    }
    if (sent >= size && !write_closed) {
      ::shutdown(fd, SHUT_WR);
      write_closed = true;
    }
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != ENOTCONN)) break;  // closed by the server
    if (std::chrono::steady_clock::now() > deadline) std::abort();
  }
  ::close(fd);
  return 0;
}
