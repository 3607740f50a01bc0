#include "orchestration/schedule_runner.hpp"

#include "orchestration/worker_ingest.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <map>
#include <tuple>

#include "common/time_format.hpp"
#include "common/supervised.hpp"
#include "deploy/smoke.hpp"
#include "orchestration/dispatcher.hpp"
#include "domain/drift.hpp"
#include "domain/gate_policy.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

using RunKey = std::tuple<std::string, std::string, std::string>;

std::map<RunKey, ScheduleRun> by_key(std::vector<ScheduleRun> runs) {
  std::map<RunKey, ScheduleRun> out;
  for (auto& r : runs) {
    RunKey key{r.project, r.environment, r.schedule};
    out.emplace(std::move(key), std::move(r));
  }
  return out;
}

}  // namespace

std::vector<ScheduleStatus> schedule_statuses(const config::Config& config, const std::vector<ScheduleRun>& runs,
                                              TimePoint now) {
  const auto last = by_key(runs);
  std::vector<ScheduleStatus> out;
  for (const auto& project : config.projects)
    for (const auto& env : project.environments)
      for (const auto& schedule : env.schedules) {
        ScheduleStatus s{project.name, env.name, &schedule, config::next_fire(schedule.spec, schedule.timezone, now), {}};
        if (auto found = last.find({project.name, env.name, schedule.key()}); found != last.end()) s.last = found->second;
        out.push_back(std::move(s));
      }
  return out;
}

json to_json(const ScheduleStatus& s) {
  json j = {{"project", s.project},
            {"environment", s.environment},
            {"cron", s.schedule->cron},
            {"timezone", s.schedule->timezone},
            {"action", config::to_string(s.schedule->action)},
            {"next", s.next ? json(format_rfc3339_ms(epoch_ms(*s.next))) : json(nullptr)},
            {"last", nullptr}};
  if (s.last) {
    j["last"] = {{"due", format_rfc3339_ms(s.last->due_ms)},
                 {"outcome", to_string(s.last->outcome)},
                 {"message", s.last->message},
                 {"finished", s.last->finished_ms > 0 ? json(format_rfc3339_ms(s.last->finished_ms)) : json(nullptr)}};
  }
  return j;
}

ScheduleRunner::ScheduleRunner(asio::any_io_executor executor, Store& store, std::function<config::ConfigPtr()> config,
                               std::shared_ptr<const Clock> clock, std::shared_ptr<http::HttpClient> http,
                               Metrics* metrics)
    : strand_(asio::make_strand(executor)),
      store_(store),
      config_(std::move(config)),
      clock_(std::move(clock)),
      http_(std::move(http)),
      metrics_(metrics) {}

void ScheduleRunner::start(std::chrono::milliseconds every) {
  spawn_ticking(strand_, "schedules", every, [self = shared_from_this()] { return self->tick(); }, metrics_);
}

asio::awaitable<void> ScheduleRunner::tick() {
  const auto config = config_();
  bool any = false;
  for (const auto& p : config->projects)
    for (const auto& e : p.environments) any = any || !e.schedules.empty();
  if (!any) co_return;
  auto stored = co_await store_.schedule_runs();
  if (!stored) {
    spdlog::warn("schedules: cannot read the last runs: {}", stored.error().message());
    co_return;
  }
  const auto last = by_key(std::move(*stored));
  const auto now = clock_->now();
  for (const auto& project : config->projects) {
    for (const auto& env : project.environments) {
      for (const auto& schedule : env.schedules) {
        // The latest time the schedule named, up to now: after downtime, only the newest missed one.
        const auto due = config::previous_fire(schedule.spec, schedule.timezone, now);
        if (!due) continue;
        ScheduleRun claim{project.name, env.name, schedule.key(), epoch_ms(*due), ScheduleOutcome::pending, {}, 0};
        const auto found = last.find({project.name, env.name, claim.schedule});
        if (found == last.end()) {
          // First seen now: this time passed before the schedule existed here.
          claim.outcome = ScheduleOutcome::skipped;
          claim.message = "added after this time; it first runs at its next one";
          claim.finished_ms = epoch_ms(now);
          co_await store_.claim_schedule_run(std::move(claim), std::nullopt);
          continue;
        }
        if (found->second.due_ms >= claim.due_ms) continue;
        auto taken = co_await store_.claim_schedule_run(claim, found->second.due_ms);
        if (!taken || !*taken) continue;  // another replica took it, or the store is away (next tick)
        auto finished = co_await run(*config, project, env, schedule, std::move(claim));
        finished.finished_ms = epoch_ms(clock_->now());
        if (metrics_)
          metrics_->schedule_run(project.name, env.name, config::to_string(schedule.action), to_string(finished.outcome));
        AuditEntry audit;
        audit.at_ms = finished.finished_ms;
        audit.actor = "shipgate";
        audit.action = AuditAction::scheduled;
        audit.project = project.name;
        audit.environment = env.name;
        audit.reason = std::string(config::to_string(schedule.action)) + " " + std::string(to_string(finished.outcome)) +
                       (finished.message.empty() ? "" : ": " + finished.message);
        audit.details = {{"schedule", finished.schedule}, {"due", format_rfc3339_ms(finished.due_ms)},
                         {"outcome", to_string(finished.outcome)}};
        audit.deployment = finished.deployment;
        if (auto r = co_await store_.finish_schedule_run(finished, std::move(audit)); !r)
          spdlog::error("schedules: cannot record the run of '{}' in {}/{}: {}", finished.schedule, project.name,
                        env.name, r.error().message());
      }
    }
  }
}

asio::awaitable<ScheduleRun> ScheduleRunner::run(const config::Config& config, const config::Project& project,
                                                 const config::Environment& env, const config::Schedule& schedule,
                                                 ScheduleRun run) {
  // What runs here now: the newest succeeded deployment.
  DeploymentFilter filter{project.name, env.name, {State::succeeded}, 1, 0};
  auto current = co_await store_.deployments(filter);
  if (!current) {
    run.outcome = ScheduleOutcome::failed;
    run.message = "cannot read the environment's deployments";
    co_return run;
  }
  if (current->empty()) {
    run.outcome = ScheduleOutcome::skipped;
    run.message = "nothing has been deployed here yet";
    co_return run;
  }
  const Deployment& now_running = current->front();
  run.deployment = now_running.id;
  if (schedule.action == config::Schedule::Action::verify) co_return co_await verify(project, env, now_running, std::move(run));
  // Newer work on its way makes a redeploy moot (and it must never put an older version back over it).
  filter.states = {State::running, State::queued, State::succeeded};
  auto newest = co_await store_.deployments(filter);
  if (!newest || newest->empty()) {
    run.outcome = ScheduleOutcome::failed;
    run.message = "cannot read the environment's deployments";
    co_return run;
  }
  if (newest->front().id != now_running.id) {
    run.outcome = ScheduleOutcome::skipped;
    run.message = "deployment " + std::to_string(newest->front().id) + " of " + newest->front().version + " is on its way";
    co_return run;
  }
  co_return co_await redeploy(config, env, schedule, now_running, std::move(run));
}

asio::awaitable<ScheduleRun> ScheduleRunner::verify(const config::Project& project, const config::Environment& env,
                                                    const Deployment& current, ScheduleRun run) {
  const bool drift = drift_settings(env) != nullptr;
  if (env.smoke.empty() && !drift) {
    run.outcome = ScheduleOutcome::skipped;
    run.message = "the environment has no smoke checks and no Deployments watched for drift";
    co_return run;
  }
  const auto vars = deploy_context(current, project, env).vars;
  for (const auto& check : env.smoke) {
    // No notes: a verify's attempts belong to no deployment's history; its outcome is the audit entry.
    auto outcome = co_await deploy::run_smoke_check(*http_, check, vars, nullptr);
    if (!outcome.ok) {
      run.outcome = ScheduleOutcome::failed;
      run.message = current.version + ": " + outcome.message;
      co_return run;
    }
  }
  run.outcome = ScheduleOutcome::passed;
  run.message = current.version + ": " + (env.smoke.empty() ? "" : std::to_string(env.smoke.size()) + " smoke check(s) passed");
  if (drift) {
    // What runs is what was applied: the drift monitor's last comparison for this version.
    auto states = co_await store_.drift_states();
    const DriftState* state = nullptr;
    if (states)
      for (const auto& s : *states)
        if (s.project == run.project && s.environment == run.environment && s.deployment == current.id) state = &s;
    if (state && !state->differences.empty()) {
      run.outcome = ScheduleOutcome::failed;
      run.message = current.version + ": what runs differs from it: " + describe_drift(state->differences);
    } else {
      run.message += std::string(env.smoke.empty() ? "" : ", ") + (state ? "no drift" : "drift not compared yet");
    }
  }
  co_return run;
}

asio::awaitable<ScheduleRun> ScheduleRunner::redeploy(const config::Config& config, const config::Environment& env,
                                                      const config::Schedule& schedule, const Deployment& current,
                                                      ScheduleRun run) {
  NewDeployment d = same_version_as(current, run.project, run.environment, Trigger::schedule);
  d.actor = "shipgate";
  d.reason = "schedule " + schedule.key();
  d.config_sha = config.source_sha256;
  apply_approval_policy(d, env, clock_->now());  // through the gate like any deployment
  // Keyed by the run: a replica that claimed it, died and left it pending cannot queue it twice.
  std::string key = "schedule:" + run.project + "/" + run.environment + ":" + run.schedule + ":" + std::to_string(run.due_ms);
  std::string source = "schedule " + run.project + "/" + run.environment;
  std::vector<NewDeployment> deployments;
  deployments.push_back(std::move(d));
  auto ingested = co_await ingest_once(store_, std::move(key), std::move(source), std::move(deployments));
  if (!ingested || ingested->deployments.empty()) {
    run.outcome = ScheduleOutcome::failed;
    run.message = ingested ? "nothing was queued" : "cannot queue: " + ingested.error().message();
    co_return run;
  }
  const auto& queued = ingested->deployments.front();
  if (queued.id == 0) {
    run.outcome = ScheduleOutcome::skipped;
    run.message = queued.skipped;
    co_return run;
  }
  run.outcome = ScheduleOutcome::queued;
  run.deployment = queued.id;
  run.message = "deployment " + std::to_string(queued.id) + " of " + queued.version + " (" + std::string(to_string(queued.state)) + ")";
  if (queued_) queued_(run.project, run.environment);
  co_return run;
}

}  // namespace shipgate::orchestration
