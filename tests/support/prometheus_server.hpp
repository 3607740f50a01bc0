// A real Prometheus (Debian's package) for the error-rate analysis tests: a generated config scraping
// the given targets every second, a fresh data directory, started in the foreground on a free loopback
// port. Throws when it cannot start: a test that needs it fails, never skips.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/daemon.hpp"
#include "tests/support/process.hpp"

namespace shipgate::testing {

class PrometheusServer {
 public:
  // `targets`: loopback ports serving /metrics.
  explicit PrometheusServer(const std::vector<std::uint16_t>& targets);
  ~PrometheusServer();
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The highest value `promql` gives now; nullopt when no series (or no answer).
  std::optional<double> query(const std::string& promql) const;
  std::string log() const;

 private:
  TempDir dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace shipgate::testing
