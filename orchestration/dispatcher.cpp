#include "orchestration/dispatcher.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include "common/logging.hpp"
#include "common/supervised.hpp"

#include "common/clock.hpp"
#include "common/time_format.hpp"
#include "domain/deploy_gate.hpp"
#include "domain/deployment_rules.hpp"
#include "domain/gate_policy.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;
using nlohmann::json;

Dispatcher::Dispatcher(asio::any_io_executor executor, Store& store, ConfigSource config, TargetFactory targets,
                       std::shared_ptr<const Clock> clock, std::shared_ptr<http::HttpClient> http,
                       Metrics* metrics)
    : strand_(asio::make_strand(executor)),
      store_(store),
      config_(std::move(config)),
      targets_(std::move(targets)),
      clock_(std::move(clock)),
      http_(http ? std::move(http) : http::make_beast_http_client()),
      metrics_(metrics) {}

void Dispatcher::start(std::chrono::milliseconds every) {
  spawn_supervised(strand_, "dispatcher", [self = shared_from_this(), every] { return self->tick_loop(every); }, metrics_);
  notify_all();
}

void Dispatcher::notify_all() {
  asio::co_spawn(strand_, wake_lanes_with_work(), [self = shared_from_this()](std::exception_ptr e) {
    if (e) self->count_failure("dispatcher: looking for work", exception_text(e));
  });
}

asio::awaitable<void> Dispatcher::wake_lanes_with_work() {
  auto lanes = co_await store_.lanes_with_work();
  if (!lanes) {
    spdlog::error("dispatcher: cannot list pending work: {}", lanes.error().message());
    co_return;
  }
  for (const auto& [project, environment] : *lanes) notify(project, environment);
}

void Dispatcher::notify(const std::string& project, const std::string& environment) {
  asio::post(strand_, [self = shared_from_this(), project, environment] {
    if (self->draining_ || !self->runs_deployments_) return;
    auto& lane = self->lanes_[{project, environment}];
    if (lane.running) {
      lane.again = true;
      return;
    }
    // Another replica held this lane a moment ago: its holder reads the queue again after each
    // deployment and is woken by the same NOTIFY, so asking again now would only cost the database a
    // read and a claim per webhook per replica. The poll still comes back to it.
    if (std::chrono::steady_clock::now() < lane.held_elsewhere_until) return;
    lane.running = true;
    ++self->active_;
    asio::co_spawn(self->strand_, self->run_lane(project, environment), [self, project, environment](std::exception_ptr e) {
      if (e) self->restart_lane(project, environment, exception_text(e));
    });
  });
}

asio::awaitable<void> Dispatcher::tick_loop(std::chrono::milliseconds every) {
  asio::steady_timer timer(strand_);
  auto next_poll = std::chrono::steady_clock::now();
  while (!draining_) {
    co_await tick();
    co_await renew_holds();
    // Replicas wake each other when they queue work; the poll is the safety net (a lost wake-up, a
    // lane whose holder died).
    if (store_.shared() && std::chrono::steady_clock::now() >= next_poll) {
      next_poll = std::chrono::steady_clock::now() + kSharedStorePoll;
      co_await wake_lanes_with_work();
    }
    timer.expires_after(every);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> Dispatcher::tick() {
  auto expired = co_await store_.expire_due(epoch_ms(clock_->now()));
  if (!expired) spdlog::error("dispatcher: cannot expire approvals: {}", expired.error().message());
  else
    for (auto id : *expired) log_with(spdlog::level::info, {.deployment = id}, "deployment {}: expired waiting for approval", id);
}

void Dispatcher::wake_at(const std::string& project, const std::string& environment, TimePoint when) {
  // Wall-clock target, steady timer: re-checked on wake, so a clock jump only delays or advances the check.
  const auto delay = std::max(std::chrono::milliseconds(50),
                              std::chrono::duration_cast<std::chrono::milliseconds>(when - clock_->now()) +
                                  std::chrono::milliseconds(10));
  auto timer = std::make_shared<asio::steady_timer>(strand_, delay);
  timer->async_wait([self = shared_from_this(), timer, project, environment](boost::system::error_code ec) {
    if (!ec) self->notify(project, environment);
  });
}

asio::awaitable<void> Dispatcher::run_lane(std::string project, std::string environment) {
  const auto key = std::make_pair(project, environment);
  for (;;) {
    lanes_[key].again = false;
    Result<std::optional<Deployment>> next = std::optional<Deployment>();
    if (!draining_) next = co_await store_.next_to_run(project, environment);
    if (!next) spdlog::error("dispatcher: {}/{}: cannot read queue: {}", project, environment, next.error().message());
    if (!next || !*next) {
      co_await let_go(key);
      if (lanes_[key].again && !draining_) continue;
      go_idle(key);
      co_return;
    }
    if (!lanes_[key].hold) {
      // Replicas sharing the store take turns per lane: one that holds it runs its deployments.
      auto claimed = co_await store_.claim_lane(project, environment);
      if (!claimed || !*claimed) {
        // Held by another replica, or the store failed (the poll comes back to it).
        if (!claimed) spdlog::warn("dispatcher: {}/{}: cannot claim: {}", project, environment, claimed.error().message());
        else lanes_[key].held_elsewhere_until = std::chrono::steady_clock::now() + kHeldElsewhereQuiet;
        go_idle(key);
        co_return;
      }
      lanes_[key].hold = std::move(**claimed);
      continue;  // read the queue again: its holder until now may have changed it
    }
    Deployment d = std::move(**next);
    const bool resume = d.state == State::running;
    // Deploy windows and freezes hold ordinary deployments; overrides and rollbacks (priority) pass.
    if (!resume && priority(d.trigger) == 0 && co_await held_by_gate(d)) {
      co_await let_go(key);
      if (lanes_[key].again) continue;  // new work arrived meanwhile (an override passes the gate)
      go_idle(key);
      co_return;
    }
    if (d.trigger == Trigger::github_actions) {
      co_await hand_over(d, *lanes_[key].hold);
      continue;
    }
    std::string how = resume ? "resumed after restart: shipgate stopped while this deployment was running" : "started";
    if (!replica_.empty()) how += (resume ? "; now on replica " : " on replica ") + replica_;
    TransitionRequest claim{d.id, resume ? Event::resume : Event::start, "shipgate", std::move(how)};
    claim.lane = lanes_[key].hold;
    auto claimed = co_await store_.transition(std::move(claim));
    if (!claimed) {
      // The store refused the write (disk full, overloaded): try again shortly rather than spin.
      log_with(spdlog::level::err, {.deployment = d.id}, "dispatcher: deployment {}: cannot start: {}", d.id, claimed.error().message());
      asio::steady_timer t(strand_, std::chrono::seconds(1));
      co_await t.async_wait(asio::use_awaitable);
      continue;
    }
    if (!claimed->applied) continue;  // superseded or cancelled meanwhile, or the lane was lost
    if (metrics_ && !resume) metrics_->dispatch_latency((epoch_ms(clock_->now()) - d.created_ms) / 1000.0);
    running_holds_[d.id] = *lanes_[key].hold;
    auto contained = run_contained(std::move(d), resume);
    co_await std::move(contained);
  }
}

void Dispatcher::go_idle(const std::pair<std::string, std::string>& key) {
  lanes_[key].running = false;
  --active_;
}

asio::awaitable<bool> Dispatcher::held_by_gate(const Deployment& d) {
  const auto config = config_();
  const auto* project_cfg = config->project(d.project);
  const auto* env = project_cfg ? project_cfg->environment(d.environment) : nullptr;
  if (!env) co_return false;
  const auto gate = deploy_gate(*env, clock_->now());
  if (gate.open) co_return false;
  co_await store_.set_waiting_reason(d.id, gate.reason);
  if (gate.opens) wake_at(d.project, d.environment, *gate.opens);
  co_return true;
}

asio::awaitable<void> Dispatcher::hand_over(const Deployment& d, LaneHold hold) {
  TransitionRequest request{d.id, Event::hand_over, "shipgate", "passed the gate: GitHub Actions deploys it"};
  request.lane = std::move(hold);
  auto handed = co_await store_.transition(std::move(request));
  if (handed && handed->applied) {
    log_with(spdlog::level::info, {.deployment = d.id}, "deployment {}: {}/{} version {} handed to GitHub Actions",
             d.id, d.project, d.environment, d.version);
  } else if (!handed) {
    // As for a start the store refused: try again shortly rather than spin.
    log_with(spdlog::level::err, {.deployment = d.id}, "dispatcher: deployment {}: cannot hand over: {}", d.id, handed.error().message());
    asio::steady_timer t(strand_, std::chrono::seconds(1));
    co_await t.async_wait(asio::use_awaitable);
  }
}

asio::awaitable<void> Dispatcher::run_contained(Deployment d, bool resume) {
  const std::int64_t id = d.id;
  // Whatever a step throws ends this deployment (failed, rolled back where configured), not the lane.
  // The awaitable is made outside the co_await: GCC 12 destroys the temporaries of a co_await
  // expression a second time when an exception leaves it.
  std::string thrown;
  auto running = run_one(std::move(d), resume);
  try {
    co_await std::move(running);
  } catch (...) {
    thrown = current_exception_text();
  }
  if (!thrown.empty()) co_await contain_failure(id, std::move(thrown));
  ran_steps_.erase(id);
  running_holds_.erase(id);
}

asio::awaitable<config::ConfigPtr> Dispatcher::config_for(const Deployment& d) const {
  if (generations_ && !d.config_sha.empty())
    if (auto c = generations_(d.config_sha)) co_return c;
  // Created on a replica that loaded a config this one never did: its text is in the store.
  if (load_generation_ && !d.config_sha.empty() && store_.shared()) {
    // The replica that created it stores the text as it loads it: give a reload a moment to land.
    asio::steady_timer pause(strand_);
    for (int attempt = 0; attempt < 10; ++attempt) {
      auto source = co_await store_.config_source(d.config_sha);
      if (source && *source) {
        if (auto c = load_generation_(**source)) co_return c;
        break;
      }
      pause.expires_after(std::chrono::milliseconds(500));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    log_with(spdlog::level::warn, {.deployment = d.id}, "deployment {}: config {} is not available here; running it "
             "with the current config", d.id, d.config_sha.substr(0, 12));
  }
  co_return config_();
}

asio::awaitable<void> Dispatcher::run_one(Deployment d, bool resume) {
  // Targets, smoke checks and rollback come from the config the deployment was created under.
  const auto config = co_await config_for(d);
  const auto* project = config->project(d.project);
  const auto* env = project ? project->environment(d.environment) : nullptr;
  if (!env) {
    std::string why = "environment " + d.project + "/" + d.environment + " is no longer configured";
    co_await finish(d.id, Event::fail, std::move(why), d.result);
    co_return;
  }
  log_with(spdlog::level::info, {.deployment = d.id}, "deployment {}: {} {}/{} version {}", d.id,
           resume ? "resuming" : "starting", d.project, d.environment, d.version);
  StepRun run(d, *config, *project, *env, resume, step_services(d.id));
  const auto steps = deployment_steps(*env);
  std::optional<std::chrono::steady_clock::time_point> deploying_since;  // from the first target on
  StepOutcome outcome;
  std::size_t ran = 0;
  for (const auto& step : steps) {
    ran_steps_[d.id] = ++ran;
    if (step->kind() == StepKind::target && !deploying_since) deploying_since = std::chrono::steady_clock::now();
    auto running = step->run(run);
    outcome = co_await std::move(running);
    if (outcome.end != StepEnd::passed) break;
  }
  auto concluded = conclude(run, steps, ran, std::move(outcome), deploying_since);
  co_await std::move(concluded);
}

StepServices Dispatcher::step_services(std::int64_t id) {
  return StepServices{store_, *http_, metrics_, targets_, *clock_, [this, id] { return hold_of(id); }};
}

asio::awaitable<void> Dispatcher::conclude(StepRun& run, const DeploymentSteps& steps, std::size_t ran,
                                           StepOutcome outcome,
                                           std::optional<std::chrono::steady_clock::time_point> deploying_since) {
  const Deployment& d = run.deployment;
  const auto elapsed = [&] {
    return deploying_since ? std::chrono::steady_clock::now() - *deploying_since : std::chrono::steady_clock::duration{};
  };
  switch (outcome.end) {
    case StepEnd::ended:
      co_await finish_request(std::move(*outcome.ending));
      co_return;
    case StepEnd::superseded:
      co_await finish(d.id, Event::supersede, std::move(outcome.message), run.result);
      co_return;
    case StepEnd::passed: {
      const auto total = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed());
      log_with(spdlog::level::info, {.deployment = d.id}, "deployment {}: succeeded in {} ms", d.id, total.count());
      if (metrics_) metrics_->deployment_duration(d.project, d.environment, std::chrono::duration<double>(total).count());
      auto promote = co_await promotions_after(d, run.result);
      std::string done = "deployed " + d.version;  // named: GCC 12 and temporaries in a co_await
      co_await finish(d.id, Event::succeed, std::move(done), run.result, std::move(promote));
      co_return;
    }
    case StepEnd::failed:
      break;
  }
  if (metrics_ && deploying_since)
    metrics_->deployment_duration(d.project, d.environment, std::chrono::duration<double>(elapsed()).count());
  if (!run.env.rollback_on_failure || !changed_anything(run, steps, ran)) {
    co_await finish(d.id, Event::fail, std::move(outcome.message), run.result);
    co_return;
  }
  auto undo = roll_back(run, steps, ran, std::move(outcome.message));
  co_await std::move(undo);
}

asio::awaitable<void> Dispatcher::finish(std::int64_t id, Event event, std::string message, json result,
                                         std::vector<NewDeployment> then_create) {
  TransitionRequest request{id, event, "shipgate", std::move(message), std::move(result), std::move(then_create)};
  co_await finish_request(std::move(request));
}

asio::awaitable<void> Dispatcher::finish_request(TransitionRequest request) {
  request.lane = hold_of(request.id);
  for (int attempt = 0;; ++attempt) {
    TransitionRequest copy = request;
    auto r = co_await store_.transition(std::move(copy));
    if (r) {
      // Promoted deployments that need no approval start now.
      for (const auto& c : r->created) {
        if (!c.skipped.empty()) log_with(spdlog::level::warn, {.deployment = request.id}, "deployment {}: promotion to {} skipped: {}", request.id, c.environment, c.skipped);
        else log_with(spdlog::level::info, {.deployment = request.id}, "deployment {}: promoted to {} as deployment {} ({})", request.id, c.environment, c.id, to_string(c.state));
        if (c.state == State::queued) notify(c.project, c.environment);
      }
      if (!r->applied && request.lane)
        log_with(spdlog::level::warn, {.deployment = request.id}, "deployment {}: outcome not recorded: another replica "
                 "took over {}/{} and resumes it", request.id, request.lane->project, request.lane->environment);
      co_return;
    }
    // The outcome must reach the store; until it does the deployment stays running (and would be
    // resumed after a restart), so keep trying.
    log_with(spdlog::level::err, {.deployment = request.id}, "dispatcher: deployment {}: cannot record outcome: {}", request.id, r.error().message());
    asio::steady_timer t(strand_, std::chrono::seconds(std::min(attempt + 1, 10)));
    co_await t.async_wait(asio::use_awaitable);
  }
}

asio::awaitable<void> Dispatcher::drain(std::chrono::milliseconds grace) {
  draining_ = true;
  asio::steady_timer timer(strand_);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (active_ > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (active_ > 0) spdlog::warn("dispatcher: {} deployment(s) still running at shutdown; they resume at next start", active_.load());
  // What this replica still holds passes to the others at once instead of when the holds run out.
  for (auto& [key, lane] : lanes_) co_await let_go(key);
}

std::optional<LaneHold> Dispatcher::hold_of(std::int64_t deployment) const {
  const auto it = running_holds_.find(deployment);
  if (it == running_holds_.end()) return std::nullopt;
  return it->second;
}

asio::awaitable<void> Dispatcher::let_go(const std::pair<std::string, std::string>& key) {
  auto& lane = lanes_[key];
  if (!lane.hold) co_return;
  LaneHold hold = std::move(*lane.hold);
  lane.hold.reset();
  auto released = co_await store_.release_lane(std::move(hold));
  if (!released) spdlog::warn("dispatcher: {}/{}: cannot release: {}", key.first, key.second, released.error().message());
}

asio::awaitable<void> Dispatcher::renew_holds() {
  for (auto& [key, lane] : lanes_) {
    if (!lane.hold) continue;
    LaneHold hold = *lane.hold;
    auto renewed = co_await store_.renew_lane(std::move(hold));
    if (!renewed) {
      spdlog::warn("dispatcher: {}/{}: cannot renew: {}", key.first, key.second, renewed.error().message());
    } else if (!*renewed && lanes_[key].hold) {
      spdlog::warn("dispatcher: {}/{}: another replica took the lane over", key.first, key.second);
      lanes_[key].hold.reset();
    }
  }
}

}  // namespace shipgate::orchestration
