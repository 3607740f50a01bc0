// What a deployment is: state, version, history. Plain data plus JSON conversion for the API.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/trigger.hpp"

namespace shipgate::orchestration {

enum class State {
  pending_approval,
  queued,
  running,
  deploying_externally,  // approved and handed back to GitHub Actions, which deploys: ended by its deployment_status
  succeeded,
  failed,
  rolled_back,
  rejected,
  expired,
  superseded,
  cancelled,
};

std::string_view to_string(State s);
std::optional<State> parse_state(std::string_view s);
bool is_final(State s);
// Every state, in the order they are declared.
const std::vector<State>& all_states();

// What created a deployment: the one list of config/trigger.hpp.
using config::Trigger;
using config::parse_trigger;
using config::to_string;
// Overrides and rollbacks jump their environment's queue (and deploy windows), and supersede nothing.
int priority(Trigger t);
// Triggers that fire without a person choosing this version: refused for a version marked bad.
bool is_automatic(Trigger t);

// What an audit entry records.
enum class AuditAction {
  created,         // a deployment was created
  transition,      // a deployment changed state
  approve,
  reject,
  cancel,
  override_,       // a manual deploy past the gate
  rollback,        // a rollback asked for by a reviewer
  refused,         // a request the reviewer was not allowed to make
  skipped,         // an automatic trigger for a version marked bad
  reload,          // the config was reloaded
  reload_refused,  // a reload that failed validation or found another in progress
  scheduled,       // a schedule ran (verify or redeploy) and how it ended
  drift,           // live Kubernetes Deployments stopped (or started again) matching what was applied
  self_heal,       // what was applied was applied again over a drift
};
std::string_view to_string(AuditAction a);
std::optional<AuditAction> parse_audit_action(std::string_view s);

struct HistoryEntry {
  std::int64_t at_ms = 0;
  std::optional<State> from;  // none for the creating entry
  State to = State::queued;
  std::string actor;
  std::string reason;
};

// A deployment about to be created by a trigger.
struct NewDeployment {
  std::string project;
  std::string environment;
  std::string version;  // tag when there is one, else the SHA
  std::string sha;
  std::string ref;
  std::map<std::string, std::string> images;  // component -> full reference
  Trigger trigger = Trigger::push;            // also decides priority() and is_automatic()
  std::string actor;                          // GitHub login or reviewer name
  State initial = State::queued;
  std::string reason;
  nlohmann::json policy = nlohmann::json::object();  // approval rules in force when it was created
  std::int64_t expires_ms = 0;    // pending_approval ends `expired` after this
  std::string config_sha;         // the config in force at creation: it runs with those settings
  std::string config_commit;      // the platform commit that caused a config redeploy (and its promotions)
  std::int64_t committed_ms = 0;  // when the version's commit was made (a push's head_commit), 0 unknown
  nlohmann::json result = nlohmann::json::object();  // what it starts with (a GitHub Actions job: GitHub's ids)
};

struct Approval {
  std::string reviewer;
  std::int64_t at_ms = 0;
  std::string comment;
};

// A version rolled back in an environment: automatic triggers for it are recorded, not deployed.
struct BadVersion {
  std::string project;
  std::string environment;
  std::string version;
  std::string sha;
  std::int64_t marked_ms = 0;
  std::int64_t deployment = 0;  // the deployment that was rolled back
  std::string reason;
  std::string actor;
};

struct AuditEntry {
  std::int64_t id = 0;
  std::int64_t at_ms = 0;
  std::string actor;
  AuditAction action = AuditAction::transition;
  std::string project;
  std::string environment;
  std::int64_t deployment = 0;
  std::string reason;
  nlohmann::json details = nlohmann::json::object();
};

struct Deployment {
  std::int64_t id = 0;
  std::string project;
  std::string environment;
  State state = State::queued;
  std::string version;
  std::string sha;
  std::string ref;
  std::map<std::string, std::string> images;
  Trigger trigger = Trigger::push;
  std::string actor;
  std::string delivery;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::int64_t started_ms = 0;
  std::int64_t finished_ms = 0;
  std::string message;
  nlohmann::json result = nlohmann::json::object();
  nlohmann::json policy = nlohmann::json::object();
  std::int64_t expires_ms = 0;
  std::string waiting_reason;  // why a queued deployment has not started (deploy window, freeze)
  std::string config_sha;      // config generation it was created under (see config::ConfigRegistry)
  std::string config_commit;   // platform commit that caused a config redeploy, else empty
  std::int64_t committed_ms = 0;  // when the version's commit was made, 0 unknown (lead time starts here)
  std::vector<HistoryEntry> history;
  std::vector<Approval> approvals;

  // Unique across store resets too (ids may restart): how a target recognises its own job.
  std::string marker() const { return std::to_string(id) + "-" + std::to_string(created_ms); }
};

// A new deployment of the version `d` deployed (its SHA, ref and images, exactly), in `project`'s
// `environment`, by `trigger`: promotions, rollbacks, redeploys and manual deploys of a known version
// all start here.
NewDeployment same_version_as(const Deployment& d, std::string project, std::string environment, Trigger trigger);

nlohmann::json to_json(const Deployment& d, bool with_history);
nlohmann::json to_json(const AuditEntry& e);
nlohmann::json to_json(const BadVersion& b);

}  // namespace shipgate::orchestration
