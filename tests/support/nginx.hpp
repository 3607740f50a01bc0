// A real nginx (Debian's package) as the load balancer in front of replicas: a generated config in a
// fresh directory, started in the foreground on a free loopback port, with passive health checks
// (an upstream that refuses a connection is skipped for a while) and retries on the next upstream.
// Throws when it cannot start: a test that needs it fails, never skips.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/daemon.hpp"
#include "tests/support/process.hpp"

namespace shipgate::testing {

class Nginx {
 public:
  explicit Nginx(const std::vector<std::uint16_t>& upstream_ports);
  // Serves the files under `root` (Git's dumb HTTP protocol for a bare repository there), only to
  // requests with HTTP Basic credentials `user`:`password`.
  // With `cert` and `key`, over HTTPS.
  Nginx(const std::string& root, const std::string& user, const std::string& password, const std::string& cert = "",
        const std::string& key = "");
  ~Nginx();
  std::uint16_t port() const { return port_; }
  std::string log() const;

 private:
  TempDir dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
  void start(const std::string& server_body);
};

}  // namespace shipgate::testing
