// dokploy-standin: a local Dokploy-compatible API for trying shipgate without a Dokploy server.
// Usage: dokploy-standin [--port N] [--api-key KEY]. Accepts any application id; jobs finish after
// two status reads. POST /release answers 200 (a generic webhook receiver).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "tests/support/dokploy_standin.hpp"

int main(int argc, char** argv) {
  std::uint16_t port = 3000;
  std::string key = "devkey";
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--port") port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    else if (std::string(argv[i]) == "--api-key") key = argv[++i];
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  shipgate::testing::DokployStandin dokploy(key, port);
  dokploy.accept_any_app(true);
  std::printf("dokploy-standin listening on %s (api key %s)\n", dokploy.url().c_str(), key.c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  return 0;
}
