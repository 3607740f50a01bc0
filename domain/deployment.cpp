#include "domain/deployment.hpp"

#include "common/name_table.hpp"
#include "common/time_format.hpp"

namespace shipgate::orchestration {

namespace {

constexpr std::pair<State, std::string_view> kStates[] = {
    {State::pending_approval, "pending_approval"}, {State::queued, "queued"},
    {State::running, "running"},                   {State::deploying_externally, "deploying_externally"},
    {State::succeeded, "succeeded"},
    {State::failed, "failed"},                     {State::rolled_back, "rolled_back"},
    {State::rejected, "rejected"},                 {State::expired, "expired"},
    {State::superseded, "superseded"},             {State::cancelled, "cancelled"},
};

constexpr std::pair<AuditAction, std::string_view> kAuditActions[] = {
    {AuditAction::created, "created"},   {AuditAction::transition, "transition"},
    {AuditAction::approve, "approve"},   {AuditAction::reject, "reject"},
    {AuditAction::cancel, "cancel"},     {AuditAction::override_, "override"},
    {AuditAction::rollback, "rollback"}, {AuditAction::refused, "refused"},
    {AuditAction::skipped, "skipped"},   {AuditAction::reload, "reload"},
    {AuditAction::reload_refused, "reload_refused"}, {AuditAction::scheduled, "scheduled"},
    {AuditAction::drift, "drift"},       {AuditAction::self_heal, "self_heal"},
};

// What a result may keep but never shows: a member whose name ends in "_secret" (the environment text a
// rollback puts back) is replaced by a note wherever it is in the result.
nlohmann::json without_secrets(const nlohmann::json& j) {
  if (j.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : j) out.push_back(without_secrets(v));
    return out;
  }
  if (!j.is_object()) return j;
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, value] : j.items()) {
    const bool secret = key.size() >= 7 && key.compare(key.size() - 7, 7, "_secret") == 0;
    out[key] = secret ? nlohmann::json("(hidden)") : without_secrets(value);
  }
  return out;
}

}  // namespace

std::string_view to_string(State s) { return name_in(kStates, s); }

const std::vector<State>& all_states() {
  static const std::vector<State> states = [] {
    std::vector<State> out;
    for (const auto& [state, name] : kStates) out.push_back(state);
    return out;
  }();
  return states;
}
std::optional<State> parse_state(std::string_view s) { return value_in(kStates, s); }
std::string_view to_string(AuditAction a) { return name_in(kAuditActions, a); }
std::optional<AuditAction> parse_audit_action(std::string_view s) { return value_in(kAuditActions, s); }

NewDeployment same_version_as(const Deployment& d, std::string project, std::string environment, Trigger trigger) {
  NewDeployment n;
  n.project = std::move(project);
  n.environment = std::move(environment);
  n.version = d.version;
  n.sha = d.sha;
  n.ref = d.ref;
  n.images = d.images;
  n.committed_ms = d.committed_ms;
  n.trigger = trigger;
  return n;
}

int priority(Trigger t) { return t == Trigger::override_ || t == Trigger::rollback ? 1 : 0; }

bool is_automatic(Trigger t) {
  // A GitHub Actions job is answered either way, so it is never skipped as an automatic trigger is.
  return t != Trigger::manual && t != Trigger::override_ && t != Trigger::rollback && t != Trigger::github_actions;
}

bool is_final(State s) {
  return s != State::pending_approval && s != State::queued && s != State::running && s != State::deploying_externally;
}

nlohmann::json to_json(const Deployment& d, bool with_history) {
  auto time_or_null = [](std::int64_t ms) -> nlohmann::json {
    if (ms <= 0) return nullptr;
    return format_rfc3339_ms(ms);
  };
  nlohmann::json j = {
      {"id", d.id},
      {"project", d.project},
      {"environment", d.environment},
      {"state", to_string(d.state)},
      {"version", d.version},
      {"sha", d.sha},
      {"ref", d.ref},
      {"images", d.images},
      {"trigger", to_string(d.trigger)},
      {"actor", d.actor},
      {"created_at", time_or_null(d.created_ms)},
      {"updated_at", time_or_null(d.updated_ms)},
      {"started_at", time_or_null(d.started_ms)},
      {"finished_at", time_or_null(d.finished_ms)},
      {"message", d.message},
  };
  if (priority(d.trigger) > 0) j["priority"] = priority(d.trigger);
  if (!d.waiting_reason.empty() && !is_final(d.state)) j["waiting_reason"] = d.waiting_reason;
  if (!d.config_sha.empty()) j["config_sha256"] = d.config_sha;
  if (!d.config_commit.empty()) j["config_commit"] = d.config_commit;
  if (d.committed_ms > 0) j["committed_at"] = format_rfc3339_ms(d.committed_ms);
  if (d.state == State::pending_approval && d.expires_ms > 0) j["expires_at"] = format_rfc3339_ms(d.expires_ms);
  if (with_history) {
    j["result"] = without_secrets(d.result);
    j["delivery"] = d.delivery.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.delivery);
    auto& h = j["history"] = nlohmann::json::array();
    for (const auto& e : d.history)
      h.push_back({{"at", format_rfc3339_ms(e.at_ms)},
                   {"from", e.from ? nlohmann::json(to_string(*e.from)) : nlohmann::json(nullptr)},
                   {"to", to_string(e.to)},
                   {"actor", e.actor},
                   {"reason", e.reason}});
    auto& a = j["approvals"] = nlohmann::json::array();
    for (const auto& ap : d.approvals)
      a.push_back({{"reviewer", ap.reviewer}, {"at", format_rfc3339_ms(ap.at_ms)}, {"comment", ap.comment}});
    if (!d.policy.empty()) j["approval_policy"] = d.policy;
  }
  return j;
}

nlohmann::json to_json(const AuditEntry& e) {
  nlohmann::json j = {{"id", e.id},           {"at", format_rfc3339_ms(e.at_ms)}, {"actor", e.actor},
                      {"action", to_string(e.action)},   {"reason", e.reason}};
  if (!e.project.empty()) j["project"] = e.project;
  if (!e.environment.empty()) j["environment"] = e.environment;
  if (e.deployment > 0) j["deployment"] = e.deployment;
  if (!e.details.empty()) j["details"] = e.details;
  return j;
}

nlohmann::json to_json(const BadVersion& b) {
  return {{"version", b.version}, {"sha", b.sha},       {"marked_at", format_rfc3339_ms(b.marked_ms)},
          {"deployment", b.deployment}, {"reason", b.reason}, {"actor", b.actor}};
}

}  // namespace shipgate::orchestration
