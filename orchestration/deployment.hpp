// What a deployment is: state, version, history. Plain data plus JSON conversion for the API.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace shipgate::orchestration {

enum class State {
  pending_approval,
  queued,
  running,
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
  std::string trigger;                        // push | dispatch | build | manual
  std::string actor;                          // GitHub login or reviewer name
  State initial = State::queued;
  std::string reason;
  int priority = 0;               // overrides and rollbacks jump the environment's queue
  bool automatic = true;          // push, dispatch, build, promotion: refused for a version marked bad
  nlohmann::json policy = nlohmann::json::object();  // approval rules in force when it was created
  std::int64_t expires_ms = 0;    // pending_approval ends `expired` after this
  std::string config_sha;         // the config in force at creation: it runs with those settings
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
  std::string action;  // created, transition, approve, reject, override, cancel, rollback, refused, skipped
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
  std::string trigger;
  std::string actor;
  std::string delivery;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::int64_t started_ms = 0;
  std::int64_t finished_ms = 0;
  std::string message;
  nlohmann::json result = nlohmann::json::object();
  int priority = 0;
  nlohmann::json policy = nlohmann::json::object();
  std::int64_t expires_ms = 0;
  std::string waiting_reason;  // why a queued deployment has not started (deploy window, freeze)
  std::string config_sha;      // config generation it was created under (see config::ConfigRegistry)
  std::vector<HistoryEntry> history;
  std::vector<Approval> approvals;

  // Unique across store resets too (ids may restart): how a target recognises its own job.
  std::string marker() const { return std::to_string(id) + "-" + std::to_string(created_ms); }
};

nlohmann::json to_json(const Deployment& d, bool with_history);
nlohmann::json to_json(const AuditEntry& e);
nlohmann::json to_json(const BadVersion& b);

}  // namespace shipgate::orchestration
