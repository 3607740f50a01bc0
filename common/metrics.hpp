// Prometheus metrics for the whole daemon, on prometheus-cpp's registry (shipgate serves /metrics
// itself). Every method is thread-safe and cheap enough for the request path.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace shipgate {

class Metrics {
 public:
  Metrics(const std::string& version, const std::string& git_sha);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // outcome: accepted, duplicate, ignored, bad_signature, malformed, too_large, unavailable, other
  void webhook(std::string_view event, std::string_view outcome);
  void http_request(std::string_view route, int status);
  // How long a deployment ran, start to final state (succeeded, failed or rolled_back).
  void deployment_duration(std::string_view project, std::string_view environment, double seconds);
  // From the webhook that created a deployment to its first target call.
  void dispatch_latency(double seconds);
  void target_call(std::string_view type, bool ok);
  // Images checked before a deployment's first target: found, failed (missing after the wait, or
  // refused) or superseded (newer work queued behind the wait), and how long it took.
  void image_check(std::string_view outcome, double seconds);
  // shipgate_replica_info{replica} 1: which process these figures come from.
  void set_replica(const std::string& id);
  // shipgate_replica_config_generations: how many different configs the live replicas run (read from
  // the store per scrape; set only for a store replicas share).
  void set_replica_config_generations(double n);
  void store_commit(double seconds);
  void connection_opened();
  void connection_closed();
  // outcome: applied, refused
  void config_reload(std::string_view outcome);
  // Requests refused to protect the daemon. reason: connections, inflight, store_queue, api_rate, auth_failures
  void refused(std::string_view reason);
  // A version, ref, SHA, image, actor or commit time that broke a rule (field: version, ref, sha, image,
  // actor, committed_at).
  void rejected_input(std::string_view field);
  // Notification and GitHub status deliveries. outcome: delivered, retried, gave_up
  void outbox_delivery(std::string_view kind, std::string_view outcome);
  // An unexpected error that ended a background task (restarted after a back-off) or a deployment's run
  // (ended failed). task: dispatcher, outbox, event_feed, schedules, drift, drift_watch, heartbeat, ...
  void task_failure(std::string_view task);
  // Error-rate analyses of deployments. outcome: passed, failed (above max), no_answer
  void analysis(std::string_view project, std::string_view environment, std::string_view outcome);
  // Canary releases. outcome: promoted, rolled_back, failed (the canary itself could not be rolled out)
  void canary(std::string_view project, std::string_view environment, std::string_view outcome);
  // Drift of watched Kubernetes Deployments. outcome: detected, resolved, healed, heal_failed, heal_limited
  void drift(std::string_view project, std::string_view environment, std::string_view outcome);
  // shipgate_drifted{project,environment}: 1 while the live Deployments differ from what was applied.
  void set_drifted(std::string_view project, std::string_view environment, bool drifted);
  // Schedule runs. action: verify, redeploy; outcome: passed, failed, queued, skipped
  void schedule_run(std::string_view project, std::string_view environment, std::string_view action,
                    std::string_view outcome);

  struct EnvironmentGauge {
    std::string project;
    std::string environment;
    double queued = 0;
    double pending_approval = 0;
    double running = 0;
    double oldest_pending_approval_seconds = 0;  // 0 when nothing waits for approval
  };
  struct FinalCount {
    std::string project;
    std::string environment;
    std::string state;
    double count = 0;
  };
  // Sets the per-environment gauges (queue depth, pending approvals) and brings the deployment counters
  // up to the store's durable counts, then renders everything in the text exposition format 0.0.4.
  std::string render(const std::vector<EnvironmentGauge>& environments, const std::vector<FinalCount>& finals);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace shipgate
