// The real shipgate binary under test: a temp directory with a config and a store, started on a
// free port, talked to over real sockets, stopped with real signals.
#pragma once
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/http.hpp"
#include "tests/support/process.hpp"

namespace shipgate::testing {

std::string shipgate_binary();
// A fresh directory under /tmp, removed by the TempDir destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

class Daemon {
 public:
  // `config_yaml` may use ${STORE} for the store path and ${PORT} for the listen port (0 = any).
  Daemon(const TempDir& dir, std::string config_yaml, std::map<std::string, std::string> env = {});
  ~Daemon();

  // Replaces the config file (same ${STORE}/${PORT} rules) without telling the daemon.
  void rewrite_config(std::string config_yaml) const;
  const std::string& config_path() const { return config_path_; }
  // Starts and waits until the daemon logs its listening address. Returns false if it exited.
  bool start(const std::vector<std::string>& extra_args = {});
  std::uint16_t port() const { return port_; }
  std::uint16_t tls_port() const { return tls_port_; }  // the second (HTTPS) listener, when there is one
  Process& process() { return *process_; }
  std::string log() const;
  void kill9();
  // SIGTERM and wait for exit; returns the exit status or -1 on timeout.
  int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  Reply get(const std::string& target, const std::string& token = {}) const;
  Reply post(const std::string& target, const Headers& headers, const std::string& body) const;

 private:
  const TempDir& dir_;
  std::string config_path_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<Process> process_;
  std::uint16_t port_ = 0;
  std::uint16_t tls_port_ = 0;
  int starts_ = 0;
};

// GitHub-shaped payloads and signed requests.
std::string push_payload(const std::string& repository, const std::string& ref, const std::string& after,
                         bool deleted = false, const std::string& sender = "octocat");
Headers github_headers(const std::string& event, const std::string& delivery, const std::string& secret,
                       const std::string& body, const std::string& content_type = "application/json");
std::string new_delivery_id();

}  // namespace shipgate::testing
