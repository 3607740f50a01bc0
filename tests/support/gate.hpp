// A daemon's insides without its sockets, for unit tests of handlers and the dispatcher: a real SQLite
// store, a manual clock, the dispatcher with scripted targets, and the router, all driven by one
// io_context the test runs only until what it waits for has happened.
#pragma once
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "handlers/app.hpp"
#include "orchestration/dispatcher.hpp"
#include "store/store.hpp"
#include "tests/support/daemon.hpp"

namespace shipgate::testing {

// Targets whose outcomes the test scripts; every call is recorded. Without a scripted outcome a call
// succeeds.
struct ScriptedTargets {
  struct Call {
    std::string kind;  // deploy, resume, rollback
    deploy::DeployContext context;
  };
  std::vector<Call> calls;
  std::deque<deploy::TargetOutcome> deploys;    // next outcomes of deploy() and resume()
  std::deque<deploy::TargetOutcome> rollbacks;  // next outcomes of rollback()
  std::function<void()> during_call;             // runs inside every call (a test moves its clock there)

  orchestration::TargetFactory factory();
  std::vector<std::string> versions(const std::string& kind) const;  // the versions calls of a kind got
};

class Gate {
 public:
  explicit Gate(const std::string& config_yaml);
  ~Gate();

  // Runs a request through the router as the server would (the token becomes a Bearer header).
  handlers::Response call(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr,
                          const std::string& token = "", std::vector<std::pair<std::string, std::string>> headers = {});
  // A GitHub delivery of `event`, signed with `secret` as GitHub signs.
  handlers::Response github(const std::string& event, const std::string& delivery, const nlohmann::json& body,
                            const std::string& secret);
  // Stores deployments as a webhook would and wakes the dispatcher; returns their ids.
  std::vector<std::int64_t> ingest(std::vector<orchestration::NewDeployment> deployments);
  // Runs the io_context until `done` holds or `limit` passes; whether it held.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds(10));
  orchestration::State state_of(std::int64_t id);
  orchestration::Deployment deployment(std::int64_t id);
  // Runs the io_context until the deployment reaches a final state; that state.
  orchestration::State settle(std::int64_t id);

  boost::asio::io_context ioc;
  TempDir dir;
  std::shared_ptr<ManualClock> clock;
  std::unique_ptr<orchestration::Store> store;
  config::ConfigPtr config;
  ScriptedTargets targets;
  std::shared_ptr<orchestration::Dispatcher> dispatcher;
  handlers::App app;
  std::unique_ptr<handlers::Router> router;

 private:
  int deliveries_ = 0;
};

// A deployment as a push to staging would create it.
orchestration::NewDeployment new_deployment(const std::string& project, const std::string& environment,
                                            const std::string& version,
                                            orchestration::Trigger trigger = orchestration::Trigger::push);

}  // namespace shipgate::testing
