// Runs each environment's schedules (config::Schedule) at their cron times. `verify` runs the
// environment's smoke checks against the version that runs there now and records the outcome (an
// audit entry, and a `verify_failed` notification when it fails); `redeploy` queues that version
// again, through the gate like any deployment.
//
// A run is claimed in the store before it starts, by compare-and-set on the schedule's last due time:
// replicas ticking at once start it once, and a schedule that came due several times while shipgate
// was down runs once when it is back (for its latest time), not once per missed time. A schedule seen
// for the first time starts counting then: a time that passed before it existed is not run.
//
// Thread-safety: tick() runs on the runner's strand; start() once.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "config/config.hpp"
#include "http/http_client.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration {

// A schedule as the status and the API show it: when it runs next and how its last run went.
struct ScheduleStatus {
  std::string project;
  std::string environment;
  const config::Schedule* schedule = nullptr;  // in the config the status was made from
  std::optional<TimePoint> next;
  std::optional<ScheduleRun> last;
};
std::vector<ScheduleStatus> schedule_statuses(const config::Config& config, const std::vector<ScheduleRun>& runs,
                                              TimePoint now);
nlohmann::json to_json(const ScheduleStatus& s);

class ScheduleRunner : public std::enable_shared_from_this<ScheduleRunner> {
 public:
  using Queued = std::function<void(const std::string& project, const std::string& environment)>;

  ScheduleRunner(boost::asio::any_io_executor executor, Store& store, std::function<config::ConfigPtr()> config,
                 std::shared_ptr<const Clock> clock, std::shared_ptr<http::HttpClient> http, Metrics* metrics = nullptr);

  // Ticks now and then every `every` (well under a minute: cron times are minutes).
  void start(std::chrono::milliseconds every = std::chrono::seconds(10));
  // One pass at the clock's time: claims and runs every schedule that came due, and waits for those
  // runs to end. Exposed so tests with a manual clock run it without waiting.
  boost::asio::awaitable<void> tick();
  // Told when a redeploy queued a deployment (to wake the dispatcher).
  void on_queued(Queued queued) { queued_ = std::move(queued); }

 private:
  boost::asio::awaitable<ScheduleRun> run(const config::Config& config, const config::Project& project,
                                          const config::Environment& env, const config::Schedule& schedule,
                                          ScheduleRun run);
  boost::asio::awaitable<ScheduleRun> verify(const config::Project& project, const config::Environment& env,
                                             const Deployment& current, ScheduleRun run);
  boost::asio::awaitable<ScheduleRun> redeploy(const config::Config& config, const config::Environment& env,
                                               const config::Schedule& schedule, const Deployment& current,
                                               ScheduleRun run);

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  Store& store_;
  std::function<config::ConfigPtr()> config_;
  std::shared_ptr<const Clock> clock_;
  std::shared_ptr<http::HttpClient> http_;
  Metrics* metrics_;  // may be null
  Queued queued_;
};

}  // namespace shipgate::orchestration
