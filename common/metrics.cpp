#include "common/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <mutex>
#include <sstream>

namespace shipgate {

namespace {

// Label values from requests are bounded: anything unexpected is folded into "other".
std::string bounded(std::string_view v) {
  if (v.empty() || v.size() > 40) return "other";
  for (char c : v)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_' ||
          c == '-' || c == '.'))
      return "other";
  return std::string(v);
}

const prometheus::Histogram::BucketBoundaries kDeploySeconds = {1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600};
const prometheus::Histogram::BucketBoundaries kFastSeconds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                               0.1,    0.25,  0.5,    1,     2.5,  5,     10};

}  // namespace

struct Metrics::Impl {
  prometheus::Registry registry;
  prometheus::Family<prometheus::Counter>& webhooks =
      prometheus::BuildCounter().Name("shipgate_webhook_requests_total").Help("Webhook requests by event and outcome").Register(registry);
  prometheus::Family<prometheus::Counter>& http =
      prometheus::BuildCounter().Name("shipgate_http_requests_total").Help("HTTP requests by route and status").Register(registry);
  prometheus::Family<prometheus::Counter>& deployments =
      prometheus::BuildCounter().Name("shipgate_deployments_total").Help("Deployments that reached a final state").Register(registry);
  prometheus::Family<prometheus::Histogram>& duration =
      prometheus::BuildHistogram().Name("shipgate_deployment_duration_seconds").Help("Deployment duration, start to final state").Register(registry);
  prometheus::Family<prometheus::Histogram>& dispatch =
      prometheus::BuildHistogram().Name("shipgate_dispatch_latency_seconds").Help("From the webhook that created a deployment to its first target call").Register(registry);
  prometheus::Family<prometheus::Counter>& targets =
      prometheus::BuildCounter().Name("shipgate_target_calls_total").Help("Deploy target calls by type and outcome").Register(registry);
  prometheus::Family<prometheus::Histogram>& commits =
      prometheus::BuildHistogram().Name("shipgate_store_commit_seconds").Help("Store commit latency (one commit serves a group of writes)").Register(registry);
  prometheus::Family<prometheus::Gauge>& connections =
      prometheus::BuildGauge().Name("shipgate_open_connections").Help("Open HTTP connections").Register(registry);
  prometheus::Family<prometheus::Gauge>& queue =
      prometheus::BuildGauge().Name("shipgate_queue_depth").Help("Deployments waiting or running, per environment and state").Register(registry);
  prometheus::Family<prometheus::Gauge>& waiting =
      prometheus::BuildGauge().Name("shipgate_oldest_pending_approval_seconds").Help("Age of the oldest deployment waiting for approval, per environment (0: none)").Register(registry);
  prometheus::Family<prometheus::Gauge>& build =
      prometheus::BuildGauge().Name("shipgate_build_info").Help("Version and git SHA of this binary").Register(registry);
  prometheus::Family<prometheus::Counter>& reloads =
      prometheus::BuildCounter().Name("shipgate_config_reloads_total").Help("Config reloads by outcome (applied, refused)").Register(registry);
  prometheus::Family<prometheus::Counter>& refusals =
      prometheus::BuildCounter().Name("shipgate_requests_refused_total").Help("Requests refused with 503 or 429 to protect the daemon, by reason").Register(registry);
  prometheus::Family<prometheus::Counter>& rejected =
      prometheus::BuildCounter().Name("shipgate_rejected_inputs_total").Help("Signed or authenticated requests refused for a value that broke a rule, by field").Register(registry);
  prometheus::Family<prometheus::Counter>& outbox =
      prometheus::BuildCounter().Name("shipgate_outbox_deliveries_total").Help("Notification and GitHub status delivery attempts by kind and outcome").Register(registry);
  prometheus::Family<prometheus::Counter>& analyses =
      prometheus::BuildCounter().Name("shipgate_analysis_total").Help("Error-rate analyses of deployments by environment and outcome (passed, failed, no_answer)").Register(registry);
  prometheus::Family<prometheus::Counter>& canaries =
      prometheus::BuildCounter().Name("shipgate_canary_total").Help("Canary releases by environment and outcome (promoted, rolled_back, failed)").Register(registry);
  prometheus::Family<prometheus::Counter>& drifts =
      prometheus::BuildCounter().Name("shipgate_drift_total").Help("Drift of watched Kubernetes Deployments by environment and outcome (detected, resolved, healed, heal_failed, heal_limited)").Register(registry);
  prometheus::Family<prometheus::Gauge>& drifted =
      prometheus::BuildGauge().Name("shipgate_drifted").Help("1 while an environment's live Kubernetes Deployments differ from what shipgate applied").Register(registry);
  prometheus::Family<prometheus::Counter>& schedules =
      prometheus::BuildCounter().Name("shipgate_schedule_runs_total").Help("Schedule runs by environment, action and outcome (passed, failed, queued, skipped)").Register(registry);
  prometheus::Family<prometheus::Counter>& task_failures =
      prometheus::BuildCounter().Name("shipgate_task_failures_total").Help("Background tasks and deployments that ended with an unexpected error and were started again or ended failed, by task").Register(registry);
  prometheus::Family<prometheus::Gauge>& replica =
      prometheus::BuildGauge().Name("shipgate_replica_info").Help("The replica these figures come from (SHIPGATE_REPLICA_ID or the host name)").Register(registry);
  prometheus::Family<prometheus::Gauge>& generations =
      prometheus::BuildGauge().Name("shipgate_replica_config_generations").Help("Distinct configs the replicas heard from in the last 30 s run (1: they agree; several replicas on one store)").Register(registry);
  prometheus::Family<prometheus::Histogram>& image_waits =
      prometheus::BuildHistogram().Name("shipgate_image_check_seconds").Help("Time from the first registry lookup of a deployment's images to all found (or given up), by outcome").Register(registry);
  prometheus::Gauge& open = connections.Add({});
  prometheus::Histogram& dispatch_all = dispatch.Add({}, kFastSeconds);
  prometheus::Histogram& commit_all = commits.Add({}, kFastSeconds);
  std::mutex gauges_mutex;
  std::vector<prometheus::Gauge*> environment_gauges;
};

Metrics::Metrics(const std::string& version, const std::string& git_sha) : impl_(std::make_unique<Impl>()) {
  impl_->build.Add({{"version", version}, {"git_sha", git_sha}}).Set(1);
}

Metrics::~Metrics() = default;

void Metrics::webhook(std::string_view event, std::string_view outcome) {
  impl_->webhooks.Add({{"event", bounded(event)}, {"outcome", bounded(outcome)}}).Increment();
}

void Metrics::http_request(std::string_view route, int status) {
  impl_->http.Add({{"route", std::string(route)}, {"status", std::to_string(status)}}).Increment();
}

void Metrics::deployment_duration(std::string_view project, std::string_view environment, double seconds) {
  impl_->duration.Add({{"project", std::string(project)}, {"environment", std::string(environment)}}, kDeploySeconds)
      .Observe(seconds);
}

void Metrics::dispatch_latency(double seconds) { impl_->dispatch_all.Observe(seconds); }

void Metrics::target_call(std::string_view type, bool ok) {
  impl_->targets.Add({{"type", std::string(type)}, {"outcome", ok ? "ok" : "failed"}}).Increment();
}

void Metrics::set_replica(const std::string& id) { impl_->replica.Add({{"replica", id}}).Set(1); }
void Metrics::set_replica_config_generations(double n) { impl_->generations.Add({}).Set(n); }

void Metrics::image_check(std::string_view outcome, double seconds) {
  impl_->image_waits.Add({{"outcome", bounded(outcome)}}, kDeploySeconds).Observe(seconds);
}

void Metrics::store_commit(double seconds) { impl_->commit_all.Observe(seconds); }
void Metrics::connection_opened() { impl_->open.Increment(); }
void Metrics::connection_closed() { impl_->open.Decrement(); }

void Metrics::config_reload(std::string_view outcome) { impl_->reloads.Add({{"outcome", bounded(outcome)}}).Increment(); }
void Metrics::rejected_input(std::string_view field) { impl_->rejected.Add({{"field", bounded(field)}}).Increment(); }

void Metrics::refused(std::string_view reason) { impl_->refusals.Add({{"reason", bounded(reason)}}).Increment(); }
void Metrics::outbox_delivery(std::string_view kind, std::string_view outcome) {
  impl_->outbox.Add({{"kind", bounded(kind)}, {"outcome", bounded(outcome)}}).Increment();
}

void Metrics::task_failure(std::string_view task) { impl_->task_failures.Add({{"task", bounded(task)}}).Increment(); }

void Metrics::analysis(std::string_view project, std::string_view environment, std::string_view outcome) {
  impl_->analyses.Add({{"project", std::string(project)}, {"environment", std::string(environment)}, {"outcome", bounded(outcome)}})
      .Increment();
}

void Metrics::canary(std::string_view project, std::string_view environment, std::string_view outcome) {
  impl_->canaries.Add({{"project", std::string(project)}, {"environment", std::string(environment)}, {"outcome", bounded(outcome)}})
      .Increment();
}

void Metrics::drift(std::string_view project, std::string_view environment, std::string_view outcome) {
  impl_->drifts.Add({{"project", std::string(project)}, {"environment", std::string(environment)}, {"outcome", bounded(outcome)}})
      .Increment();
}

void Metrics::set_drifted(std::string_view project, std::string_view environment, bool drifted) {
  impl_->drifted.Add({{"project", std::string(project)}, {"environment", std::string(environment)}}).Set(drifted ? 1 : 0);
}

void Metrics::schedule_run(std::string_view project, std::string_view environment, std::string_view action,
                           std::string_view outcome) {
  impl_->schedules
      .Add({{"project", std::string(project)}, {"environment", std::string(environment)}, {"action", bounded(action)},
            {"outcome", bounded(outcome)}})
      .Increment();
}

std::string Metrics::render(const std::vector<EnvironmentGauge>& environments, const std::vector<FinalCount>& finals) {
  {
    // Environments that emptied must read 0, not keep their last value: reset, then set.
    std::lock_guard lock(impl_->gauges_mutex);
    for (auto* g : impl_->environment_gauges) g->Set(0);
    impl_->environment_gauges.clear();
    for (const auto& e : environments)
      for (auto [state, value] : {std::pair<const char*, double>{"queued", e.queued},
                                  {"pending_approval", e.pending_approval}, {"running", e.running}}) {
        auto& g = impl_->queue.Add({{"project", e.project}, {"environment", e.environment}, {"state", state}});
        g.Set(value);
        impl_->environment_gauges.push_back(&g);
      }
    for (const auto& e : environments) {
      auto& g = impl_->waiting.Add({{"project", e.project}, {"environment", e.environment}});
      g.Set(e.oldest_pending_approval_seconds);
      impl_->environment_gauges.push_back(&g);
    }
    // The store's counts only grow, so the counters stay monotonic (and survive restarts).
    for (const auto& f : finals) {
      auto& c = impl_->deployments.Add({{"project", f.project}, {"environment", f.environment}, {"state", f.state}});
      if (f.count > c.Value()) c.Increment(f.count - c.Value());
    }
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, impl_->registry.Collect());
  return out.str();
}

}  // namespace shipgate
