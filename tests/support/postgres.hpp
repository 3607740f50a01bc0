// A real PostgreSQL for tests: Debian's server binaries, a temporary cluster (initdb) in a fresh
// directory, started on a free loopback port as an unprivileged user (the `postgres` account when the
// tests run as root, which PostgreSQL refuses to run as). Trust authentication on loopback only.
// Throws when it cannot start: a test that needs it fails, never skips.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tests/support/daemon.hpp"
#include "tests/support/process.hpp"

namespace shipgate::testing {

class Postgres {
 public:
  Postgres();
  ~Postgres();

  std::uint16_t port() const { return port_; }
  // A libpq URI for the `shipgate` superuser and database.
  std::string uri() const;
  // Fast shutdown (SIGINT) and start again on the same port and data: a database restart.
  void stop();
  void start();
  // Every process of the cluster stopped (SIGSTOP) and continued (SIGCONT): a server that hangs with
  // its connections open, answering nothing, then goes on as if nothing happened.
  void freeze();
  void thaw();
  bool running() { return process_ && process_->running(); }
  std::string log() const { return process_ ? process_->log() : std::string(); }

 private:
  std::vector<std::string> as_owner(std::vector<std::string> argv) const;
  std::string cluster_template() const;

  TempDir dir_;
  std::string bin_;
  std::string data_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace shipgate::testing
