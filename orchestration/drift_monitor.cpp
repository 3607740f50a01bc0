#include "orchestration/drift_monitor.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include "common/time_format.hpp"
#include "common/supervised.hpp"
#include "deploy/kube_watch.hpp"
#include "domain/drift.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;
using nlohmann::json;

json drift_view(const config::Environment& env, const std::vector<DriftState>& states, const std::string& project) {
  const auto* drift = drift_settings(env);
  if (!drift) return nullptr;
  json view = {{"state", "unknown"}, {"self_heal", drift->self_heal}};
  for (const auto& s : states) {
    if (s.project != project || s.environment != env.name) continue;
    view["state"] = s.differences.empty() ? "in_sync" : "drifted";
    view["differences"] = s.differences;
    view["deployment"] = s.deployment;
    view["checked"] = format_rfc3339_ms(s.checked_ms);
    if (s.since_ms) view["since"] = format_rfc3339_ms(s.since_ms);
    view["heals"] = s.heals_ms.size();
    view["heal_limited"] = s.heal_limited;
  }
  return view;
}

namespace {

// The environment's drift state after a check that found `differences` against deployment `applied`:
// since when it drifts (restarted by a new deployment), and the heals still inside the window.
DriftState next_drift_state(const DriftState& prev, const std::vector<DriftDifference>& differences,
                            std::int64_t applied, std::int64_t now, const config::DriftConfig& drift) {
  DriftState next = prev;
  next.differences = to_json(differences);
  next.deployment = applied;
  next.checked_ms = now;
  next.heals_ms = heals_in_window(prev.heals_ms, now, drift);
  const bool was = !prev.differences.empty(), is = !differences.empty();
  if (!is || !was || prev.deployment != applied) {
    next.since_ms = is ? now : 0;
    next.heal_limited = false;
  }
  return next;
}

// What a look at an environment can have to say; each is also a label of the drift metric.
enum class DriftNews { detected, resolved, heal_limited };

std::string_view drift_label(DriftNews n) {
  switch (n) {
    case DriftNews::detected: return "detected";
    case DriftNews::resolved: return "resolved";
    case DriftNews::heal_limited: return "heal_limited";
  }
  return "detected";
}

// What one look at an environment decided: its next state, what to record of it (an audit entry and a
// notification when the drift began, ended or stopped being healed), whether to heal it now.
struct DriftDecision {
  DriftRecord record;
  bool save = false;    // the state changed: record it
  bool heal = false;
  // What it says, in order: what happened (the metric's label) and the log line.
  std::vector<std::pair<DriftNews, std::string>> said;
};

DriftDecision decide_drift(const DriftState& prev, const std::vector<DriftDifference>& differences,
                           const Deployment& applied, std::int64_t now, const config::DriftConfig& drift) {
  DriftDecision out;
  DriftState next = next_drift_state(prev, differences, applied.id, now, drift);
  const bool was = !prev.differences.empty(), is = !differences.empty();
  const bool changed = next.differences != prev.differences || next.deployment != prev.deployment;
  const std::string what = describe_drift(next.differences);
  AuditEntry audit{0, now, "shipgate", AuditAction::drift, prev.project, prev.environment, applied.id, "",
                   {{"differences", next.differences}}};
  if (changed && is) {
    audit.reason = "what runs differs from " + applied.version + ": " + what;
    out.record.notify = what + (drift.self_heal ? "; applying it again" : "; reported only (self_heal is off)");
    out.said.emplace_back(DriftNews::detected, audit.reason);
  } else if (changed && was) {
    audit.reason = "what runs matches " + applied.version + " again";
    out.said.emplace_back(DriftNews::resolved, audit.reason);
  }
  out.heal = is && drift.self_heal && !next.heal_limited;
  if (out.heal && static_cast<int>(next.heals_ms.size()) >= drift.max_heals) {
    // Something keeps changing it back (another controller, a person): stop and say so, once.
    out.heal = false;
    next.heal_limited = true;
    const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(drift.heal_window).count();
    audit.reason = "self-heal stopped after " + std::to_string(next.heals_ms.size()) + " in " + std::to_string(minutes) +
                   " min; the drift stays: " + what;
    out.record.notify = audit.reason;
    out.said.emplace_back(DriftNews::heal_limited, audit.reason);
  }
  if (!audit.reason.empty()) out.record.audit = audit;
  out.save = changed || next.heal_limited != prev.heal_limited;
  out.record.state = std::move(next);
  return out;
}

}  // namespace

DriftMonitor::DriftMonitor(asio::any_io_executor executor, Store& store, ConfigSource config, TargetFactory targets,
                           std::shared_ptr<const Clock> clock, std::shared_ptr<http::HttpClient> http, Metrics* metrics)
    : strand_(asio::make_strand(executor)),
      store_(store),
      config_(std::move(config)),
      targets_(std::move(targets)),
      clock_(std::move(clock)),
      http_(std::move(http)),
      metrics_(metrics),
      wake_(strand_) {}

void DriftMonitor::start(std::chrono::milliseconds every) {
  spawn_supervised(strand_, "drift", [self = shared_from_this(), every]() { return self->loop(every); }, metrics_);
}

void DriftMonitor::sync_watches(const config::Config& config) {
  std::map<std::string, std::shared_ptr<Watch>> wanted;
  for (const auto& p : config.projects)
    for (const auto& e : p.environments)
      for (std::size_t i = 0; i < e.targets.size(); ++i) {
        const auto* k = std::get_if<config::KubernetesTargetConfig>(&e.targets[i].spec);
        if (!k || !k->drift) continue;
        // Where and how it watches: a change to any of these starts a new watch.
        const std::string key = p.name + "/" + e.name + "/" + std::to_string(i) + "/" + k->namespace_ + "/" + k->kubeconfig +
                                "/" + k->context + "/" + k->service_account_dir + "/" + std::to_string(k->drift->relist.count());
        if (auto it = watches_.find(key); it != watches_.end()) {
          it->second->cfg = *k;  // workloads and heal settings may change without a new watch
          wanted[key] = it->second;
          continue;
        }
        auto w = std::make_shared<Watch>(Watch{p.name, e.name, i, *k, {}, false, false});
        deploy::WatchHandlers h;
        h.listed = [this, w](const std::vector<json>& items) {
          w->live.clear();
          for (const auto& d : items) w->live[deploy::object_name(d)] = d;
          w->listed = true;
          dirty_ = true;
          wake_.cancel();
        };
        h.event = [this, w](std::string_view type, const json& d) {
          const auto name = deploy::object_name(d);
          if (type == "DELETED") w->live.erase(name);
          else w->live[name] = d;
          dirty_ = true;
          wake_.cancel();
        };
        h.trouble = [w](const std::string& why) { spdlog::warn("drift: {}/{}: {}", w->project, w->environment, why); };
        h.stopped = [w] { return w->stopped; };
        // A watch that fails is started again (it lists first), until the config no longer asks for it.
        spawn_supervised(strand_, "drift_watch", [http = http_, w, relist = k->drift->relist, h = std::move(h)] {
          return deploy::watch_deployments(*http, w->cfg, relist, h);
        }, metrics_);
        wanted[key] = std::move(w);
      }
  for (auto& [key, w] : watches_)
    if (!wanted.contains(key)) w->stopped = true;  // ends when its current watch does
  watches_ = std::move(wanted);
}

asio::awaitable<bool> DriftMonitor::leading() {
  if (hold_) {
    LaneHold held = *hold_;
    auto renewed = co_await store_.renew_lane(std::move(held));
    if (renewed && !*renewed) hold_.reset();
    if (hold_) co_return true;
  }
  const std::string project = "*", lane = "drift";  // "*" is no project's name
  auto claimed = co_await store_.claim_lane(project, lane);
  if (claimed && *claimed) hold_ = std::move(**claimed);
  co_return hold_.has_value();
}

asio::awaitable<void> DriftMonitor::loop(std::chrono::milliseconds every) {
  for (;;) {
    dirty_ = busy_ = false;
    const auto config = config_();
    sync_watches(*config);
    if (!watches_.empty() && co_await leading()) {
      // Every environment's last state, read once a pass: a check writes only its own environment's row.
      auto states = co_await store_.drift_states();
      if (!states) spdlog::warn("drift: cannot read the drift states: {}", states.error().message());
      else
        for (const auto& p : config->projects)
          for (const auto& e : p.environments)
            if (drift_settings(e)) co_await check(p, e, *states);
    }
    // A burst of watch events is one comparison a moment later.
    wake_.expires_after(dirty_ ? std::chrono::milliseconds(200) : busy_ ? std::min(every, std::chrono::milliseconds(1'000)) : every);
    co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (dirty_) {
      wake_.expires_after(std::chrono::milliseconds(200));
      co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
}

asio::awaitable<void> DriftMonitor::check(const config::Project& project, const config::Environment& env,
                                          const std::vector<DriftState>& states) {
  std::vector<std::shared_ptr<Watch>> watched;
  for (const auto& [key, w] : watches_)
    if (w->project == project.name && w->environment == env.name) {
      if (!w->listed) co_return;  // no full view yet
      watched.push_back(w);
    }
  DeploymentFilter running{project.name, env.name, {State::running}, 1, 0};
  auto busy = co_await store_.deployments(running);
  if (!busy || !busy->empty()) {
    busy_ = true;  // look again soon after it ends: the watch may have nothing more to say by then
    co_return;
  }
  DeploymentFilter succeeded{project.name, env.name, {State::succeeded}, 1, 0};
  auto newest = co_await store_.deployments(succeeded);
  if (!newest || newest->empty()) co_return;  // nothing applied yet: nothing to compare with
  const Deployment& applied = newest->front();
  const auto ctx = deploy_context(applied, project, env);
  auto confirmed = co_await differences_now(watched, ctx.images, project, env);
  if (!confirmed) co_return;
  DriftState prev{project.name, env.name};
  for (const auto& s : states)
    if (s.project == project.name && s.environment == env.name) prev = s;
  DriftDecision decision = decide_drift(prev, *confirmed, applied, epoch_ms(clock_->now()), *drift_settings(env));
  if (metrics_) metrics_->set_drifted(project.name, env.name, !confirmed->empty());
  for (const auto& [news, line] : decision.said) {
    if (metrics_) metrics_->drift(project.name, env.name, drift_label(news));
    spdlog::log(news == DriftNews::resolved ? spdlog::level::info : spdlog::level::warn, "drift: {}/{}: {}",
                project.name, env.name, line);
  }
  if (decision.save) {
    if (auto saved = co_await store_.record_drift(decision.record); !saved)
      spdlog::error("drift: {}/{}: cannot record: {}", project.name, env.name, saved.error().message());
  }
  if (decision.heal) co_await heal(project, env, applied, std::move(decision.record.state));
}

asio::awaitable<std::optional<std::vector<DriftDifference>>> DriftMonitor::differences_now(
    const std::vector<std::shared_ptr<Watch>>& watched, const std::map<std::string, std::string>& images,
    const config::Project& project, const config::Environment& env) {
  std::vector<DriftDifference> differences;
  for (const auto& w : watched) {
    auto found = find_drift(w->cfg, images, w->live);
    if (!found.empty()) {
      // The watch may lag behind a change shipgate just made (a deployment that just ended, a heal):
      // what differs is confirmed against the API server's answer now.
      auto fresh = co_await deploy::list_deployments(*http_, w->cfg);
      if (!fresh.error.empty()) {
        spdlog::warn("drift: {}/{}: {}", project.name, env.name, fresh.error);
        co_return std::nullopt;
      }
      std::map<std::string, json> now_live;
      for (const auto& d : fresh.items) now_live[deploy::object_name(d)] = d;
      found = find_drift(w->cfg, images, now_live);
    }
    differences.insert(differences.end(), found.begin(), found.end());
  }
  co_return differences;
}

asio::awaitable<void> DriftMonitor::heal(const config::Project& project, const config::Environment& env,
                                         const Deployment& applied, DriftState state) {
  const std::string what = describe_drift(state.differences);
  std::string failure;
  const auto ctx = deploy_context(applied, project, env);
  for (const auto& t : env.targets) {
    const auto* k = std::get_if<config::KubernetesTargetConfig>(&t.spec);
    if (!k || !k->drift || !k->drift->self_heal) continue;
    auto outcome = co_await targets_(t)->deploy(ctx);
    if (!outcome.ok && failure.empty()) failure = outcome.message;
  }
  const auto now = epoch_ms(clock_->now());
  state.heals_ms.push_back(now);
  state.checked_ms = now;
  AuditEntry audit{0, now, "shipgate", AuditAction::self_heal, applied.project, applied.environment, applied.id,
                   failure.empty() ? "applied " + applied.version + " again over: " + what
                                   : "applying " + applied.version + " again failed: " + failure,
                   {{"differences", state.differences}, {"ok", failure.empty()}}};
  if (metrics_) metrics_->drift(applied.project, applied.environment, failure.empty() ? "healed" : "heal_failed");
  spdlog::log(failure.empty() ? spdlog::level::info : spdlog::level::err, "drift: {}/{}: {}", applied.project,
              applied.environment, audit.reason);
  DriftRecord record{std::move(state), std::move(audit)};
  if (auto saved = co_await store_.record_drift(record); !saved)
    spdlog::error("drift: {}/{}: cannot record the self-heal: {}", applied.project, applied.environment, saved.error().message());
}

}  // namespace shipgate::orchestration
