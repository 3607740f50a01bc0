// Runs deployments: per (project, environment) one at a time in arrival order, many environments at
// once, all as coroutines on one executor pool (no thread per deployment).
//
// Thread-safety: notify() and drain() may be called from any thread; internal state lives on a strand.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "config/config.hpp"
#include "deploy/target.hpp"
#include "orchestration/deployment_step.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration {

using ConfigSource = std::function<config::ConfigPtr()>;

class Dispatcher : public std::enable_shared_from_this<Dispatcher> {
 public:
  Dispatcher(boost::asio::any_io_executor executor, Store& store, ConfigSource config, TargetFactory targets,
             std::shared_ptr<const Clock> clock, std::shared_ptr<http::HttpClient> http = nullptr,
             Metrics* metrics = nullptr);

  // Picks up what the store says is queued or was running when the process stopped, and starts the
  // periodic housekeeping (approval expiry every `tick`).
  void start(std::chrono::milliseconds tick = std::chrono::seconds(1));
  // One round of housekeeping at the clock's current time: expires overdue approvals. Exposed so tests
  // with a manual clock run it without waiting.
  boost::asio::awaitable<void> tick();
  // New work may be waiting in this environment.
  void notify(const std::string& project, const std::string& environment);
  // Stops starting deployments and waits, at most `grace`, for running ones to finish. Those still
  // running afterwards stay `running` in the store and are resumed at the next start.
  boost::asio::awaitable<void> drain(std::chrono::milliseconds grace);

  int active_lanes() const { return active_.load(); }

  // How to find the config generation a deployment was created under (by its config_sha). Without
  // it, or when the generation is gone (after a restart), deployments run with the current config.
  void set_generations(std::function<config::ConfigPtr(std::string_view)> find) { generations_ = std::move(find); }
  // How to make a generation from its text (stored by another replica); null when it does not load here.
  void set_generation_loader(std::function<config::ConfigPtr(const std::string& source)> load) {
    load_generation_ = std::move(load);
  }
  // Names this replica in the history of the deployments it starts or resumes (several replicas).
  void set_replica(std::string replica) { replica_ = std::move(replica); }
  // false (server.run_deployments): this replica never claims a lane; the others run its deployments.
  void set_runs_deployments(bool runs) { runs_deployments_ = runs; }
  // Looks at every environment with work again (after a reload: windows or freezes may have changed).
  void notify_all();

 private:
  struct Lane {
    bool running = false;
    bool again = false;             // notified while running: look for more work before going idle
    std::optional<LaneHold> hold;   // while this replica runs the lane's deployments
    std::chrono::steady_clock::time_point held_elsewhere_until{};  // a claim failed: wake-ups wait till then
  };
  // How long wake-ups of a lane another replica holds are left to that replica (under the poll interval).
  static constexpr std::chrono::seconds kHeldElsewhereQuiet{1};
  // How often replicas sharing a store look for work they were not told about.
  static constexpr std::chrono::seconds kSharedStorePoll{2};

  boost::asio::awaitable<void> run_lane(std::string project, std::string environment);
  boost::asio::awaitable<void> tick_loop(std::chrono::milliseconds every);
  boost::asio::awaitable<void> wake_lanes_with_work();
  // The hold a running deployment's writes are made under (none when it is not running here).
  std::optional<LaneHold> hold_of(std::int64_t deployment) const;
  // Gives the lane's hold back (the lane goes idle, or the replica drains).
  boost::asio::awaitable<void> let_go(const std::pair<std::string, std::string>& key);
  // Renews every hold; a lost one is dropped (its deployment's writes are refused from then on).
  boost::asio::awaitable<void> renew_holds();
  // The lane stops while its environment is closed (window, freeze); this wakes it when it opens.
  void wake_at(const std::string& project, const std::string& environment, TimePoint when);
  // The lane has nothing more to run now.
  void go_idle(const std::pair<std::string, std::string>& key);
  // Whether the environment's window or freeze holds `d` now (its waiting reason says why, and the lane
  // wakes when it opens).
  boost::asio::awaitable<bool> held_by_gate(const Deployment& d);
  // A GitHub Actions deployment that passed the gate goes back to GitHub, which deploys it (the store
  // writes the approval for the outbox in the same transaction).
  boost::asio::awaitable<void> hand_over(const Deployment& d, LaneHold hold);
  // Runs `d`; whatever it throws ends it (contain_failure), never the lane.
  boost::asio::awaitable<void> run_contained(Deployment d, bool resume);
  // Runs the deployment's steps in order (deployment_step.hpp), then concludes it.
  boost::asio::awaitable<void> run_one(Deployment d, bool resume);
  StepServices step_services(std::int64_t id);
  // Ends the deployment by how its last step ended: success (with promotions), superseded, ended by
  // the step itself, or failed (undoing the `ran` steps where the environment rolls back).
  boost::asio::awaitable<void> conclude(StepRun& run, const DeploymentSteps& steps, std::size_t ran,
                                        StepOutcome outcome,
                                        std::optional<std::chrono::steady_clock::time_point> deploying_since);
  // A deployment whose run threw: ends it failed with the reason, rolled back where its environment
  // says so (the steps it reached), so its lane goes on.
  boost::asio::awaitable<void> contain_failure(std::int64_t id, std::string thrown);
  // What a success promotes: plan_promotion's deployments that are new work for their environment.
  boost::asio::awaitable<std::vector<NewDeployment>> promotions_after(const Deployment& d, const nlohmann::json& result);
  // A lane whose loop threw outside any deployment: logged, counted, and looked at again in a second.
  void restart_lane(const std::string& project, const std::string& environment, const std::string& why);
  void count_failure(std::string_view what, const std::string& why);
  // Records the final state, retrying until the store takes it.
  boost::asio::awaitable<void> finish(std::int64_t id, Event event, std::string message, nlohmann::json result,
                                      std::vector<NewDeployment> then_create = {});
  boost::asio::awaitable<void> finish_request(TransitionRequest request);
  // After a failure with rollback_on_failure: undo the first `ran` steps, newest first, to the previous
  // succeeded version; ends rolled_back, or failed with both errors (or when there is nothing before).
  boost::asio::awaitable<void> roll_back(StepRun& run, const DeploymentSteps& steps, std::size_t ran,
                                         std::string failure);
  boost::asio::awaitable<config::ConfigPtr> config_for(const Deployment& d) const;

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  Store& store_;
  ConfigSource config_;
  std::function<config::ConfigPtr(std::string_view)> generations_;
  TargetFactory targets_;
  std::shared_ptr<const Clock> clock_;
  std::shared_ptr<http::HttpClient> http_;  // smoke checks and registry lookups
  Metrics* metrics_;  // may be null
  std::map<std::pair<std::string, std::string>, Lane> lanes_;
  std::map<std::int64_t, LaneHold> running_holds_;
  std::map<std::int64_t, std::size_t> ran_steps_;  // running deployment -> steps it has started so far
  std::string replica_;
  std::function<config::ConfigPtr(const std::string&)> load_generation_;  // deployment -> the hold it started under
  std::atomic<bool> draining_{false};
  bool runs_deployments_ = true;
  std::atomic<int> active_{0};
};

}  // namespace shipgate::orchestration
