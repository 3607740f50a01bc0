// Watches the Kubernetes Deployments of every target with `drift` (deploy/kube_watch.hpp) and compares
// them with what the environment's newest succeeded deployment applied (domain/drift.hpp),
// soon after each change and every `every`. A new drift is stored (the environment's status shows it),
// audited, counted and notified; with self_heal the target is applied again, at most max_heals times
// per heal_window, after which the drift is left in place and reported once. An environment with a
// deployment running is not compared: its Deployments are meant to be changing.
//
// Every replica watches; one at a time (the holder of the "drift" lane) compares and heals.
// Thread-safety: everything runs on the monitor's strand; start() once.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "domain/drift.hpp"
#include "orchestration/dispatcher.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration {

// The environment's drift as its API view shows it (null when none of its targets is watched).
nlohmann::json drift_view(const config::Environment& env, const std::vector<DriftState>& states, const std::string& project);

class DriftMonitor : public std::enable_shared_from_this<DriftMonitor> {
 public:
  DriftMonitor(boost::asio::any_io_executor executor, Store& store, ConfigSource config, TargetFactory targets,
               std::shared_ptr<const Clock> clock, std::shared_ptr<http::HttpClient> http, Metrics* metrics = nullptr);

  void start(std::chrono::milliseconds every = std::chrono::seconds(10));

 private:
  struct Watch {
    std::string project;
    std::string environment;
    std::size_t target = 0;
    config::KubernetesTargetConfig cfg;
    std::map<std::string, nlohmann::json> live;  // Deployment name -> object
    bool listed = false;
    bool stopped = false;
  };
  boost::asio::awaitable<void> loop(std::chrono::milliseconds every);
  void sync_watches(const config::Config& config);
  boost::asio::awaitable<bool> leading();
  boost::asio::awaitable<void> check(const config::Project& project, const config::Environment& env,
                                     const std::vector<DriftState>& states);
  // Applies the environment's healing targets again with what `applied` deployed; records the attempt.
  // What differs between the watched Deployments and `images`, each difference confirmed against the
  // API server's answer now (the watch may lag behind a change shipgate just made); none when it failed.
  boost::asio::awaitable<std::optional<std::vector<DriftDifference>>> differences_now(
      const std::vector<std::shared_ptr<Watch>>& watched, const std::map<std::string, std::string>& images,
      const config::Project& project, const config::Environment& env);
  boost::asio::awaitable<void> heal(const config::Project& project, const config::Environment& env,
                                    const Deployment& applied, DriftState state);

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  Store& store_;
  ConfigSource config_;
  TargetFactory targets_;
  std::shared_ptr<const Clock> clock_;
  std::shared_ptr<http::HttpClient> http_;
  Metrics* metrics_;
  boost::asio::steady_timer wake_;
  bool dirty_ = false;  // a watch event since the last comparison
  bool busy_ = false;   // an environment was skipped for a running deployment
  std::map<std::string, std::shared_ptr<Watch>> watches_;  // by project/environment/target and settings
  std::optional<LaneHold> hold_;
};

}  // namespace shipgate::orchestration
