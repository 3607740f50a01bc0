// A real container registry for tests: Debian's docker-registry (the CNCF distribution server) on a
// free loopback port with its storage in a temporary directory. Images are pushed with
// scripts/push-image over the registry's HTTP API, so no Docker daemon is needed.
#pragma once
#include <memory>
#include <string>

#include "tests/support/daemon.hpp"
#include "tests/support/process.hpp"

namespace shipgate::testing {

class Registry {
 public:
  // `token_realm` non-empty: the registry demands a bearer token and names this URL as the service
  // that issues it (the registry's `silly` auth: any token passes, but the challenge and the token
  // round trip are the real protocol). Throws when the registry cannot start: a test needing it fails.
  explicit Registry(std::string token_realm = {});
  ~Registry();

  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }  // as image references write it
  std::string url() const { return "http://" + host(); }
  std::uint16_t port() const { return port_; }
  // Pushes a one-layer image (its content makes the digest) and returns its manifest digest.
  std::string push(const std::string& repository_and_tag, const std::string& content = {}) const;
  std::string log() const { return process_ ? process_->log() : std::string(); }

 private:
  TempDir dir_;
  std::uint16_t port_ = 0;
  bool token_ = false;
  std::unique_ptr<Process> process_;
};

}  // namespace shipgate::testing
