// What the fuzz targets share: the daemon's real request path in-process. A config with two
// projects, a real SQLite store in a temporary directory (on /dev/shm when there is one), the real
// router and handlers, and a dispatcher whose targets answer at once, all on one io_context that
// each input drives until its request is answered.
#pragma once
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "handlers/app.hpp"
#include "handlers/router.hpp"

namespace shipgate::fuzz {

inline constexpr const char* kSecret = "fuzz-webhook-secret";
inline constexpr const char* kToken = "fuzz-reviewer-token-0123456789";

class Harness {
 public:
  // The process-wide harness, made on first use.
  static Harness& get();

  // Runs one request through the router on the io_context and returns the answer.
  handlers::Response handle(handlers::Request& request);
  boost::asio::io_context& ioc() { return ioc_; }
  const handlers::Router& router() const { return *router_; }
  const config::Config& config() const { return *config_; }
  // Runs ready work (dispatcher lanes, store completions) for at most `d`.
  void drive(std::chrono::milliseconds d);

 private:
  Harness();
  boost::asio::io_context ioc_;
  std::string dir_;
  config::ConfigPtr config_;
  std::unique_ptr<orchestration::Store> store_;
  std::shared_ptr<orchestration::Dispatcher> dispatcher_;
  std::unique_ptr<handlers::App> app_;
  std::unique_ptr<handlers::Router> router_;
};

}  // namespace shipgate::fuzz
