// A Kubernetes API stand-in following docs/protocols.md section 3, over TLS with a test CA:
// - bearer-token auth (401 Status otherwise), RBAC per verb (403 Status naming verb and resource),
//   404 Status for unknown Deployments;
// - GET and PATCH of apps/v1 Deployments; PATCH takes application/strategic-merge-patch+json only and
//   merges containers by name (an unknown name is added, as the real API server does) and spec.replicas;
// - LIST of a namespace's Deployments (a DeploymentList with the collection's resourceVersion) and WATCH
//   (`?watch=1&resourceVersion=N&timeoutSeconds=S`): a chunked stream of one JSON event per line,
//   ADDED/MODIFIED/DELETED with the whole object, from just after N, until S seconds passed; every change
//   bumps one resourceVersion counter. A resourceVersion older than the kept history is answered as the
//   API server does: 200 and one ERROR event carrying a 410 Expired Status;
// - a controller that moves status toward the template one step per read of that Deployment:
//   observedGeneration, then updated, available and old replica counters (zero counters omitted);
// - on demand: a rollout that hangs and then reports ProgressDeadlineExceeded, or one whose pods never
//   become available.
// - ReplicaSets (one per revision, `deployment.kubernetes.io/revision`, labelled with the Deployment's
//   matchLabels and a pod-template-hash), their pods with container statuses, a pod's log (`container`,
//   `tailLines`, `previous`) and its events, selected as the API does by `labelSelector` (equality terms)
//   and `fieldSelector=involvedObject.name=`; on demand a rollout whose new pods crash-loop or cannot
//   pull their image (fail_next_rollout).
// - server-side apply (PATCH, application/apply-patch+yaml, a JSON body, fieldManager required, force)
//   of any kind at its API path: created (201) or merged (200); a field another manager owns with a
//   different value is a 409 Conflict Status with one FieldManagerConflict cause per field, unless
//   forced. Applied Deployments join the controller above; StatefulSets and DaemonSets are rolled out at
//   once. GET, LIST (labelSelector equality terms) and DELETE of every kind, and JSON Patch
//   (application/json-patch+json) of those other than Deployments, with resourceVersion bumped.
// - Jobs: each read of a Job moves it toward its scripted end (JobScript), then a Complete or Failed
//   condition (BackoffLimitExceeded); its one pod (labelled job-name) runs, then terminates with the
//   script's exit code, and its log is the script's.
// Not modelled: bookmarks, set-based selectors, fields an applier drops (kept, where the API server
// removes them), lists merged by key (owned whole), YAML apply bodies, pod phases other than Running
// and Pending, and client-certificate authentication.
#pragma once
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <vector>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/http.hpp"

namespace shipgate::testing {

// How the new pods of a failing rollout fail: `container` waits in `reason` (CrashLoopBackOff after
// exiting with `exit_code` and printing `log`; ImagePullBackOff without ever starting), and the kubelet
// records a Warning event (`event_reason`: `event_message`).
struct PodFault {
  std::string container;
  std::string reason = "CrashLoopBackOff";
  int exit_code = 1;
  std::string log;
  std::string event_reason = "BackOff";
  std::string event_message = "Back-off restarting failed container";
};

// How the Jobs whose name starts with a prefix run: they end after `reads` reads of the Job (at least
// one), succeeding or failing; the pod's container prints `log` and exits with `exit_code` (0 on success).
struct JobScript {
  bool succeed = true;
  int reads = 2;
  std::string log;
  int exit_code = 1;
};

class KubeStandin {
 public:
  KubeStandin(std::string token, const std::string& cert_file, const std::string& key_file);

  void add_deployment(const std::string& ns, const std::string& name,
                      const std::vector<std::pair<std::string, std::string>>& containers, int replicas = 2);
  void deny(const std::string& verb) { std::lock_guard l(m_); denied_.insert(verb); }
  void allow(const std::string& verb) { std::lock_guard l(m_); denied_.erase(verb); }
  // Watches end after this long whatever they asked for, as API servers end them at their own timeout.
  void end_watches_after(std::chrono::seconds s) { std::lock_guard l(m_); watch_limit_ = s; }
  void set_token(std::string token) { std::lock_guard l(m_); token_ = std::move(token); }
  // The next rollout of this Deployment hangs, then reports ProgressDeadlineExceeded after `ticks` reads.
  void hang_next_rollout(const std::string& ns, const std::string& name, int ticks = 3);
  void never_available(const std::string& ns, const std::string& name);
  // The next rollout of this Deployment hangs as above and its new pods fail as `fault` says.
  void fail_next_rollout(const std::string& ns, const std::string& name, PodFault fault, int ticks = 3);
  // Forgets the change history, as etcd compaction does: a watch from an older resourceVersion gets 410.
  void compact();
  // Watch connections answered so far.
  std::size_t watches() const { return server_.count("GET", "/apis/apps/v1/namespaces/") - gets_; }

  std::string image(const std::string& ns, const std::string& name, const std::string& container);
  nlohmann::json object(const std::string& ns, const std::string& name);
  std::size_t patches() const { return server_.count("PATCH", "/apis/"); }
  // Any object by its API path (a Deployment too), null when there is none.
  nlohmann::json stored(const std::string& path);
  // Jobs made from now on whose name starts with `prefix` (and those running now) run as `script` says.
  void script_jobs(const std::string& prefix, JobScript script);
  // Jobs made (created by an apply) so far.
  std::size_t jobs_created() const { std::lock_guard l(m_); return jobs_created_; }
  // Applies `body` at `path` as another field manager would (kubectl, a controller).
  void apply_as(const std::string& manager, const std::string& path, const nlohmann::json& body);
  std::vector<RecordedRequest> requests() const { return server_.requests(); }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(server_.port()); }
  // A kubeconfig for this server whose user has `token`; its CA is the file ca.pem beside it.
  std::string kubeconfig(const std::string& token) const {
    return "current-context: prod\n"
           "clusters: [ { name: c, cluster: { server: \"" + url() + "\", certificate-authority: ca.pem } } ]\n"
           "contexts: [ { name: prod, context: { cluster: c, user: u } } ]\n"
           "users: [ { name: u, user: { token: " + token + " } } ]\n";
  }
  std::uint16_t port() const { return server_.port(); }

 private:
  struct Entry {
    nlohmann::json obj;
    int hang_ticks = -1;  // >= 0: the current rollout hangs; counts reads until the deadline
    int next_hang = -1;   // hang_ticks for the next template change
    bool never_available = false;
    int old_replicas = 0;   // pods of the previous template, still running and available
    int new_available = 0;  // pods of the current template that became available
    int revision = 1;       // bumped by every template change
    std::optional<PodFault> next_fault;  // for the next template change
    std::optional<PodFault> fault;       // the pods of fault_revision fail so
    int fault_revision = 0;
  };
  struct Change {
    std::int64_t version = 0;
    std::string type;  // ADDED, MODIFIED, DELETED
    std::string ns;
    nlohmann::json object;
  };
  StandinReply handle(const RecordedRequest& r);
  // "a=1,b=2" (percent-encoded in the query) as equality terms; a term without '=' is kept unmatched.
  static std::map<std::string, std::string> selector_terms(const std::string& query, const std::string& name);
  static bool selects(const std::map<std::string, std::string>& terms, const nlohmann::json& labels);
  // kube_objects.cpp: server-side apply, GET, LIST and DELETE of every other kind. Called with m_ held.
  StandinReply apply(const std::string& path, const std::string& query, const std::string& body);
  std::optional<StandinReply> generic_get(const std::string& path, const std::string& query);
  StandinReply remove(const std::string& path);
  // A JSON Patch (RFC 6902) of an object of another kind; a failed test is 422.
  StandinReply json_patch(const std::string& path, const std::string& body);
  StandinReply deployment_json_patch(const std::string& path, const std::string& body);
  // The conflicts of `manager` applying `fields` (flattened) to the object at `path`, as 409 causes;
  // with `force` the other managers lose the fields instead.
  nlohmann::json take_fields(const std::string& path, const std::string& manager, const nlohmann::json& fields, bool force,
                             const std::string& api_version);
  void apply_deployment(const std::string& ns, const std::string& name, const nlohmann::json& body, bool& created);
  // A new template: a new revision rolls out (and the next fault, if any, comes with it).
  void new_revision(Entry& e);
  // A strategic merge patch of a Deployment: containers by name, replicas, annotations.
  StandinReply strategic_patch(Entry& e, const std::string& body);
  // kube_jobs.cpp: the Job controller. A Job read moves it one step toward its end; its pod and log.
  struct JobRun {
    JobScript script;
    int reads = 0;
  };
  void job_created(const std::string& path);
  void job_read(const std::string& path, nlohmann::json& job);
  StandinReply job_pods(const std::string& ns, const std::string& job) const;
  std::optional<StandinReply> job_log(const std::string& ns, const std::string& pod, const std::string& query) const;
  void scale(Entry& e, int replicas);
  StandinReply collection(const std::string& ns, const std::string& query);
  // kube_pods.cpp: ReplicaSets, pods, logs and events, derived from the Deployments. Called with m_ held.
  StandinReply replica_sets(const std::string& ns, const std::string& query) const;
  StandinReply core(const std::string& path, const std::string& query) const;
  StandinReply pods(const std::string& ns, const std::string& query) const;
  StandinReply pod_log(const std::string& ns, const std::string& pod, const std::string& query) const;
  StandinReply events(const std::string& ns, const std::string& query) const;
  // The Deployment (and revision) whose ReplicaSet has this pod-template-hash, or nullptr.
  const Entry* owner_of(const std::string& ns, const std::string& hash, int& revision) const;
  static std::string template_hash(const std::string& name, int revision);
  static std::string pod_name(const Entry& e, int revision, int index);
  static nlohmann::json pod_object(const Entry& e, int revision, int index);
  void tick(Entry& e);
  // Gives the object a new resourceVersion and keeps the change for watches. Called with m_ held.
  void changed(Entry& e, const std::string& type);
  static StandinReply status(int code, const std::string& reason, const std::string& message);

  mutable std::mutex m_;
  std::string token_;
  std::set<std::string> denied_;
  std::map<std::string, Entry> deployments_;  // "ns/name"
  std::map<std::string, nlohmann::json> objects_;  // other kinds, by API path
  std::map<std::string, JobScript> job_scripts_;   // by name prefix
  std::map<std::string, JobRun> jobs_;             // by API path
  std::size_t jobs_created_ = 0;
  // Server-side apply's field ownership, by API path: manager -> {".spec.replicas": value, ...}; lists
  // are owned whole.
  std::map<std::string, std::map<std::string, nlohmann::json>> owners_;
  std::int64_t version_ = 100;
  std::int64_t oldest_kept_ = 0;  // watches from before this get 410
  std::vector<Change> changes_;
  std::size_t gets_ = 0;  // GETs that were not watches
  std::chrono::seconds watch_limit_{1800};
  StandinServer server_;
};

}  // namespace shipgate::testing
