// Durable state behind an interface: SQLite today, PostgreSQL later for several replicas.
//
// Writes complete only once committed and synced to disk, so a caller may answer 2xx right after.
// Reads and writes are awaitable from any executor; the completion resumes the caller on its own
// executor. (SQLite answers reads at once; PostgreSQL awaits its socket on the caller's io_context.)
// Arguments are taken by value: an awaitable may outlive the expression that created it.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/deployment.hpp"
#include "domain/ingest_plan.hpp"
#include "domain/state_machine.hpp"

namespace shipgate::orchestration {

template <class T>
using Result = boost::system::result<T>;

enum class StoreErrc { overloaded = 1, io_error, not_found, closed, in_use, lane_lost };
const boost::system::error_category& store_category();
inline boost::system::error_code make_error_code(StoreErrc e) { return {static_cast<int>(e), store_category()}; }

struct StoredResponse {
  int status = 200;
  std::string body;
};

struct IngestedDeployment {
  std::int64_t id = 0;
  std::string project;
  std::string environment;
  State state = State::queued;
  std::string version;
  bool reused = false;  // an unfinished deployment of the same version already existed
  std::vector<std::int64_t> superseded;
  std::string skipped;  // not created: the version is marked bad there (id stays 0)
};

// What a delivery's answer says of one planned deployment: a skip or a reuse as planned; an insert
// with its id 0 until the store gives it one.
IngestedDeployment ingested(const NewDeployment& incoming, const IngestPlan& plan);

struct IngestRequest {
  std::string delivery_key;  // "github:<X-GitHub-Delivery>" or "build:<project>:<Idempotency-Key>"
  std::string source;        // e.g. "github push acme/app"
  std::vector<NewDeployment> deployments;
  // Builds the answer from what was created; it is stored so a redelivery gets the same answer.
  std::function<StoredResponse(const std::vector<IngestedDeployment>&)> respond;
  // Marked in the same transaction (a rollback marks the version it replaces).
  std::vector<BadVersion> mark_bad;
  // Written in the same transaction (overrides, rollbacks: who and why).
  std::vector<AuditEntry> audit;
};

struct IngestResult {
  bool duplicate = false;
  StoredResponse response;
  std::vector<IngestedDeployment> deployments;  // empty for a duplicate
};

// Which replica runs a lane: an environment's queue, or a timer every replica has but one should run
// (the outbox). `fence` numbers the hold; writes made under it name it, so a replica whose hold was
// taken over writes nothing. One process alone (SQLite) holds every lane, with fence 0.
struct LaneHold {
  std::string project;
  std::string environment;
  std::int64_t fence = 0;
};

struct TransitionRequest {
  std::int64_t id = 0;
  Event event = Event::start;
  std::string actor = "shipgate";
  std::string reason;
  std::optional<nlohmann::json> result;  // replaces the stored result when set
  // Created in the same transaction when the transition applies (promotion after a success).
  std::vector<NewDeployment> then_create;
  // Marked in the same transaction when the transition applies (an automatic rollback).
  std::vector<BadVersion> mark_bad;
  // Applied only while this hold is still the lane's (a running deployment's progress and end).
  std::optional<LaneHold> lane;
};

// Applied: the deployment moved (or recorded the note). Refused: its state did not allow the event.
struct TransitionOutcome {
  bool applied = false;
  State state = State::queued;  // the state after the call
  std::vector<IngestedDeployment> created;
};

struct ApprovalRequest {
  std::int64_t id = 0;
  std::string reviewer;
  std::string comment;
  int required = 1;
};

struct ApprovalOutcome {
  enum class Kind { counted, repeated, not_pending };
  Kind kind = Kind::counted;
  State state = State::pending_approval;  // after the call: queued once enough reviewers approved
  int approvals = 0;                      // distinct reviewers so far
};

struct StateCount {
  std::string project;
  std::string environment;
  State state = State::queued;
  std::int64_t count = 0;
  std::int64_t oldest_ms = 0;  // unfinished states: when the oldest of them was created
};

struct AuditFilter {
  std::int64_t since_ms = 0;
  std::int64_t after_id = 0;
  int limit = 100;
  std::int64_t before_id = 0;  // paging back: only ids below this (0: no bound)
  std::string project;         // each empty: any
  std::string actor;
  std::string action;
};

struct DeploymentFilter {
  std::string project;
  std::string environment;
  std::vector<State> states;
  int limit = 50;
  std::int64_t before_id = 0;  // paging: only ids below this
};

// What an outbox row is: a state change to fan out, or one delivery of it to a notification endpoint
// or to GitHub.
enum class OutboxKind { event, notify, github };
std::string_view to_string(OutboxKind k);
std::optional<OutboxKind> parse_outbox_kind(std::string_view s);

// How an outbox row ended (pending while it has not).
enum class OutboxOutcome { pending, delivered, gave_up, expanded };
std::string_view to_string(OutboxOutcome o);  // "" for pending
std::optional<OutboxOutcome> parse_outbox_outcome(std::string_view s);

struct OutboxItem {
  std::int64_t id = 0;
  OutboxKind kind = OutboxKind::event;
  std::string destination;  // notify: the endpoint URL; github: the repository
  std::int64_t deployment = 0;
  std::string event;        // a state (queued, running, succeeded, ...) or "override"
  nlohmann::json payload = nlohmann::json::object();
  int attempts = 0;
  std::int64_t created_ms = 0;
  std::int64_t github_id = 0;  // the GitHub deployment made for this deployment, once there is one
  OutboxOutcome outcome = OutboxOutcome::pending;
  std::string last_error;
  std::int64_t done_ms = 0;
};

// The result of one delivery attempt. A pending outcome means "try again at next_ms".
struct OutboxAttempt {
  std::int64_t id = 0;
  std::int64_t deployment = 0;
  OutboxOutcome outcome = OutboxOutcome::pending;
  std::string error;
  std::int64_t next_ms = 0;
  std::int64_t github_id = 0;  // remembered for the deployment when set
};

// How a schedule's run ended: pending while it runs (or when it never ended: the process stopped).
enum class ScheduleOutcome { pending, passed, failed, queued, skipped };
std::string_view to_string(ScheduleOutcome o);
std::optional<ScheduleOutcome> parse_schedule_outcome(std::string_view s);

// The last run of one environment's schedule (named by config::Schedule::key()).
struct ScheduleRun {
  std::string project;
  std::string environment;
  std::string schedule;
  std::int64_t due_ms = 0;  // the cron time the run is for
  ScheduleOutcome outcome = ScheduleOutcome::pending;
  std::string message;
  std::int64_t finished_ms = 0;
  std::int64_t deployment = 0;  // the one verified, or the one a redeploy queued (0: none)
};

// How one environment's live Kubernetes Deployments compare with what its newest succeeded deployment
// applied (images, declared replicas). One row per environment that has a target watched for drift.
struct DriftState {
  std::string project;
  std::string environment;
  nlohmann::json differences = nlohmann::json::array();  // [{deployment, field, live, applied}]; empty: in sync
  std::int64_t since_ms = 0;    // when the current drift was first seen; 0 while in sync
  std::int64_t checked_ms = 0;  // when it was last compared
  std::int64_t deployment = 0;  // the deployment whose version should run
  std::vector<std::int64_t> heals_ms;  // self-heals in the current heal window
  bool heal_limited = false;    // this drift outlasted the window's self-heals: left in place, reported once
};

// A drift state to store, with its audit entry and a `drift` notification (about state.deployment,
// saying `notify`) in the same transaction when given.
struct DriftRecord {
  DriftState state;
  std::optional<AuditEntry> audit;
  std::string notify;
};

// A reviewer signed in on the web page. Stored by the SHA-256 of its cookie, never the cookie itself.
struct WebSession {
  std::string id_sha256;
  std::string reviewer;
  std::string token_sha256;  // the token it was opened with: rotating that token ends the session
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
};

// A replica as the store last heard from it.
struct ReplicaSeen {
  std::string id;
  std::string config_sha256;
  std::string version;
  std::int64_t seen_ms = 0;  // by the store's clock
};

class Store {
 public:
  virtual ~Store() = default;

  virtual boost::asio::awaitable<Result<IngestResult>> ingest(IngestRequest request) = 0;
  virtual boost::asio::awaitable<Result<TransitionOutcome>> transition(TransitionRequest request) = 0;
  // Replaces the stored result (progress of a running deployment) without a state change; with `lane`,
  // only while that hold is still the lane's (StoreErrc::lane_lost otherwise).
  virtual boost::asio::awaitable<Result<void>> record_result(std::int64_t id, nlohmann::json result,
                                                             std::optional<LaneHold> lane) = 0;
  // Records one reviewer's approval (once per reviewer); the last required one queues the deployment.
  virtual boost::asio::awaitable<Result<ApprovalOutcome>> approve(ApprovalRequest request) = 0;
  // Moves every pending_approval deployment whose expiry passed to `expired`; returns their ids.
  virtual boost::asio::awaitable<Result<std::vector<std::int64_t>>> expire_due(std::int64_t now_ms) = 0;
  // Why a queued deployment waits (empty: it does not). Written only when it changes.
  virtual boost::asio::awaitable<Result<void>> set_waiting_reason(std::int64_t id, std::string reason) = 0;
  virtual boost::asio::awaitable<Result<void>> record_audit(AuditEntry entry) = 0;
  // Whether state changes are written to the outbox (off while nothing consumes them: no notify
  // endpoints and no GitHub statuses configured).
  virtual void record_events(bool on) = 0;
  // Replaces outbox events by their deliveries, in one transaction.
  virtual boost::asio::awaitable<Result<void>> outbox_expand(std::vector<std::int64_t> event_ids,
                                                             std::vector<OutboxItem> deliveries) = 0;
  virtual boost::asio::awaitable<Result<void>> outbox_record(OutboxAttempt attempt) = 0;
  // Deletes outbox rows finished before `before_ms`; returns how many.
  virtual boost::asio::awaitable<Result<std::int64_t>> outbox_prune(std::int64_t before_ms) = 0;
  // Pending outbox rows due at `now_ms`, oldest first (GitHub rows one at a time per deployment).
  virtual boost::asio::awaitable<Result<std::vector<OutboxItem>>> outbox_due(std::int64_t now_ms, int limit) = 0;

  virtual boost::asio::awaitable<Result<std::optional<Deployment>>> deployment(std::int64_t id, bool with_history) = 0;
  virtual boost::asio::awaitable<Result<std::vector<Deployment>>> deployments(DeploymentFilter filter) = 0;
  // Oldest deployment of one environment that should run next: an orphaned `running` one first.
  virtual boost::asio::awaitable<Result<std::optional<Deployment>>> next_to_run(std::string project,
                                                                                std::string environment) = 0;
  // Every (project, environment) with queued or running work.
  virtual boost::asio::awaitable<Result<std::vector<std::pair<std::string, std::string>>>> lanes_with_work() = 0;
  // The config generations (config_sha) that unfinished deployments were created under.
  virtual boost::asio::awaitable<Result<std::set<std::string>>> unfinished_config_shas() = 0;
  // Deployments per (project, environment) and state: every final state ever reached (durable counts)
  // and the unfinished ones now.
  virtual boost::asio::awaitable<Result<std::vector<StateCount>>> state_counts() = 0;
  // The newest succeeded deployment of `project` (any environment) whose version, SHA or SHA prefix
  // (7+ characters) is `version`.
  virtual boost::asio::awaitable<Result<std::optional<Deployment>>> find_version(std::string project,
                                                                                 std::string version) = 0;
  virtual boost::asio::awaitable<Result<std::vector<BadVersion>>> bad_versions(std::string project,
                                                                               std::string environment) = 0;
  virtual boost::asio::awaitable<Result<std::vector<AuditEntry>>> audit(AuditFilter filter) = 0;
  virtual boost::asio::awaitable<Result<void>> ping() = 0;
  // Whether a write can be committed now (a full disk, a read-only file system and a broken file make
  // it fail). Probes with a tiny write at most once a second; calls in between get the last answer.
  virtual boost::asio::awaitable<Result<void>> check_writable() = 0;

  // Lanes (store.hpp's LaneHold). A hold runs out unless renewed (the dispatcher renews the lanes it
  // holds every second), so the lanes of a replica that died pass to another. Nothing while another
  // replica holds the lane; false from renew_lane when the hold was lost.
  virtual boost::asio::awaitable<Result<std::optional<LaneHold>>> claim_lane(std::string project,
                                                                             std::string environment) = 0;
  virtual boost::asio::awaitable<Result<bool>> renew_lane(LaneHold hold) = 0;
  virtual boost::asio::awaitable<Result<void>> release_lane(LaneHold hold) = 0;
  // Whether other processes share this store (then lanes are contended and work can appear that this
  // process did not accept: the dispatcher polls for it as well as listening).
  virtual bool shared() const = 0;
  // Called, on any thread, when another process queued work in a lane. Never called by a store only
  // one process uses.
  virtual void on_work(std::function<void(const std::string& project, const std::string& environment)> wake) = 0;

  // Replicas sharing the store: each says every few seconds which config and version it runs, and
  // stores the text of each config it loads, so another replica can run a deployment created under a
  // config it never loaded. A store only one process uses keeps none of this (nothing, empty lists).
  virtual boost::asio::awaitable<Result<void>> record_replica(ReplicaSeen self) = 0;
  // The replicas heard from in the last 30 seconds.
  virtual boost::asio::awaitable<Result<std::vector<ReplicaSeen>>> replicas() = 0;
  virtual boost::asio::awaitable<Result<void>> record_config(std::string sha256, std::string source) = 0;
  virtual boost::asio::awaitable<Result<std::optional<std::string>>> config_source(std::string sha256) = 0;

  // Schedules: each one's last run. A run is claimed before it starts, by compare-and-set on the
  // schedule's last due time, so one run happens per due time however many replicas tick at once.
  virtual boost::asio::awaitable<Result<std::vector<ScheduleRun>>> schedule_runs() = 0;
  // Takes `run` (pending) if the schedule's last run is still the one due at `seen_due_ms` (nullopt:
  // it has none yet); whether this caller took it.
  virtual boost::asio::awaitable<Result<bool>> claim_schedule_run(ScheduleRun run,
                                                                  std::optional<std::int64_t> seen_due_ms) = 0;
  // Records how a run ended, with its audit entry in the same transaction; a run a later one replaced
  // is left as it is (the audit entry is still written).
  virtual boost::asio::awaitable<Result<void>> finish_schedule_run(ScheduleRun run, AuditEntry audit) = 0;

  // Drift (DriftState): every environment's last comparison, and a new one with what it reports.
  virtual boost::asio::awaitable<Result<std::vector<DriftState>>> drift_states() = 0;
  virtual boost::asio::awaitable<Result<void>> record_drift(DriftRecord record) = 0;

  // Web sessions: opening one also removes the expired ones; a lookup finds only an unexpired session.
  virtual boost::asio::awaitable<Result<void>> open_session(WebSession session) = 0;
  virtual boost::asio::awaitable<Result<std::optional<WebSession>>> find_session(std::string id_sha256,
                                                                                 std::int64_t now_ms) = 0;
  virtual boost::asio::awaitable<Result<void>> close_session(std::string id_sha256) = 0;

  // Stops the writer after it finished what was already submitted.
  virtual void close() = 0;
};

}  // namespace shipgate::orchestration

template <>
struct boost::system::is_error_code_enum<shipgate::orchestration::StoreErrc> : std::true_type {};
