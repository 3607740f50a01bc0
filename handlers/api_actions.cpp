// Actions on the gate: manual deploy (with the typed confirmation and the emergency override),
// approve, reject, cancel, rollback. Every refusal of a protected action is written to the audit log.
#include <spdlog/spdlog.h>

#include "common/text.hpp"
#include "handlers/app.hpp"
#include "handlers/api_call.hpp"
#include "handlers/intake.hpp"
#include "handlers/params.hpp"
#include "handlers/review.hpp"
#include "domain/deployment_rules.hpp"
#include "domain/gate_policy.hpp"
#include "domain/input_rules.hpp"

namespace shipgate::handlers {

using nlohmann::json;
using orchestration::Deployment;
using orchestration::State;

namespace {

bool looks_like_sha(const std::string& s) { return s.size() >= 7 && s.size() <= 64 && is_hex(s); }

// Records a refused protected action, then returns the refusal.
// Callers pass named values, never temporaries: GCC 12 mishandles some temporaries in co_await expressions.
using orchestration::Refusal;  // the answer, and the audit entry's reason

boost::asio::awaitable<Response> refuse(const App& app, std::string actor, const char* action, std::string project,
                                        std::string environment, std::int64_t deployment, Refusal refusal) {
  orchestration::AuditEntry e;
  e.actor = std::move(actor);
  e.action = orchestration::AuditAction::refused;
  e.project = std::move(project);
  e.environment = std::move(environment);
  e.deployment = deployment;
  e.reason = refusal.message;
  e.details = {{"attempted", action}, {"status", refusal.status}};
  auto r = co_await app.store->record_audit(std::move(e));
  if (!r) spdlog::error("cannot record refusal in the audit log: {}", r.error().message());
  co_return error_response(refusal.status, refusal.code, refusal.message);
}

Refusal forbidden(const config::Reviewer& r, config::Permission p, const std::string& project) {
  return {403, "forbidden", "reviewer " + r.name + " lacks the '" + std::string(config::to_string(p)) +
                                "' permission for project " + project};
}

std::string delivery_key_for(const Request& req, const config::Reviewer& r) {
  const std::string key(req.header("Idempotency-Key"));
  return key.empty() ? "api:" + req.request_id : "api:" + r.name + ":" + key.substr(0, 200);
}

// Opens a call on the deployment its path names and checks the reviewer's permission for it (a refusal
// is audited). On failure `error` holds the answer.
boost::asio::awaitable<std::optional<ApiCall>> open_action(const App& app, Request& req, config::Permission permission,
                                                           const char* action, Response& error) {
  auto call = co_await open_call(app, req, PathNames::deployment, error);
  if (!call) co_return std::nullopt;
  const auto& d = call->deployment;
  if (!call->reviewer->may(permission, d.project)) {
    Refusal refusal = forbidden(*call->reviewer, permission, d.project);
    error = co_await refuse(app, call->reviewer->name, action, d.project, d.environment, d.id, std::move(refusal));
    co_return std::nullopt;
  }
  co_return call;
}

Response not_pending(std::int64_t id, State state, const char* what = "not pending approval") {
  return error_response(409, "conflict", "deployment " + std::to_string(id) + " is " + std::string(to_string(state)) +
                                             ", " + what);
}

// A version that succeeded somewhere is deployed exactly as it was (SHA, tag, image references); one that
// never did gets its images from the config's templates. The answer to give when neither works.
boost::asio::awaitable<std::optional<Response>> read_version(const App& app, const config::Project& project,
                                                             const config::Environment& env,
                                                             const std::string& version, orchestration::NewDeployment& nd) {
  auto known = co_await app.store->find_version(project.name, version);
  if (!known) co_return store_failure(known.error());
  if (*known) {
    nd = orchestration::same_version_as(**known, project.name, env.name, orchestration::Trigger::manual);
    co_return std::nullopt;
  }
  const bool sha = looks_like_sha(version);
  nd.version = version;
  nd.sha = sha ? to_lower(version) : "";
  nd.ref = sha ? "" : "refs/tags/" + version;
  std::string why;
  auto images = orchestration::resolve_images(project, env, nd.version, nd.sha, nd.ref, {}, why);
  if (!images) co_return error_response(400, "invalid", "version " + version + " never succeeded here, and " + why);
  nd.images = std::move(*images);
  co_return std::nullopt;
}

boost::asio::awaitable<Response> manual_deploy(const App& app, Request& req) {
  Response error;
  auto call = co_await open_call(app, req, PathNames::nothing, error);
  if (!call) co_return error;
  const auto* reviewer = call->reviewer;
  const auto* body = &call->body;
  const std::string pname = str(*body, "project"), ename = str(*body, "environment"), version = str(*body, "version");
  if (pname.empty() || ename.empty() || version.empty())
    co_return error_response(400, "invalid", "body needs \"project\", \"environment\" and \"version\"");
  if (auto why = orchestration::check_version(version)) {
    if (app.metrics) app.metrics->rejected_input("version");
    co_return error_response(400, "invalid", *why);
  }
  if (!find_environment(*call, pname, ename, error)) co_return error;
  const auto* project = call->project;
  const auto* env = call->environment;

  const auto* override_value = body->if_contains("override");
  const bool is_override = override_value && !override_value->is_null();
  std::string override_reason;
  if (is_override) {
    if (override_value->is_object()) override_reason = str(override_value->get_object(), "reason");
    if (override_reason.empty())
      co_return error_response(400, "invalid", "override needs {\"reason\": \"why this cannot wait\"}");
  }
  const auto permission = is_override ? config::Permission::override_ : config::Permission::deploy;
  if (!reviewer->may(permission, pname)) {
    Refusal refusal = forbidden(*reviewer, permission, pname);
    co_return co_await refuse(app, reviewer->name, is_override ? "override" : "deploy", pname, ename, 0, std::move(refusal));
  }
  if (!env->confirm.empty() && str(*body, "confirm") != env->confirm)
    co_return error_response(400, "confirmation_required", "deploying to " + pname + "/" + ename +
                                                               " needs the phrase \"" + env->confirm + "\" in \"confirm\"");

  orchestration::NewDeployment nd;
  if (auto refused = co_await read_version(app, *project, *env, version, nd)) co_return std::move(*refused);
  nd.project = pname;
  nd.environment = ename;
  nd.trigger = is_override ? orchestration::Trigger::override_ : orchestration::Trigger::manual;
  nd.actor = reviewer->name;
  orchestration::Plan plan;
  if (is_override) {
    nd.initial = State::queued;
    nd.reason = "emergency override by " + reviewer->name + ": " + override_reason;
    plan.audit.push_back({0, 0, reviewer->name, orchestration::AuditAction::override_, pname, ename, 0, override_reason,
                          {{"version", nd.version}, {"sha", nd.sha}}});
  } else {
    nd.reason = "manual deploy of " + nd.version + " by " + reviewer->name;
  }
  plan.deployments.push_back(std::move(nd));
  std::string key = delivery_key_for(req, *reviewer);
  std::string source = "api deploy " + pname + "/" + ename;
  co_return co_await accept_plan(app, req, std::move(key), std::move(source), std::move(plan));
}

boost::asio::awaitable<Response> approve_or_reject(const App& app, Request& req, bool approve) {
  Response error;
  auto call = co_await open_call(app, req, PathNames::deployment, error);
  if (!call) co_return error;
  std::string comment = str(call->body, "comment");
  co_return co_await review(app, *call->reviewer, std::move(call->deployment), approve, std::move(comment));
}

boost::asio::awaitable<Response> cancel(const App& app, Request& req) {
  Response error;
  auto a = co_await open_action(app, req, config::Permission::deploy, "cancel", error);
  if (!a) co_return error;
  const auto* reviewer = a->reviewer;
  const auto* d = &a->deployment;
  const auto* body = &a->body;
  const std::string why = str(*body, "reason");
  orchestration::TransitionRequest t{d->id, orchestration::Event::cancel, reviewer->name,
                                     "cancelled by " + reviewer->name + (why.empty() ? "" : ": " + why), std::nullopt, {}};
  auto r = co_await app.store->transition(std::move(t));
  if (!r) co_return unavailable("could not store the cancellation: " + r.error().message());
  if (!r->applied) co_return not_pending(d->id, r->state, "and can no longer be cancelled");
  co_return json_response(200, {{"id", d->id}, {"state", "cancelled"}});
}

// An emergency override of a GitHub Actions job waiting at the gate: it is handed to GitHub at once,
// past the approvals still missing and any closed window. (A deployment shipgate runs itself is
// overridden by deploying its version anew: POST /api/v1/deployments with override.)
boost::asio::awaitable<Response> override_waiting(const App& app, Request& req) {
  Response error;
  auto a = co_await open_action(app, req, config::Permission::override_, "override", error);
  if (!a) co_return error;
  const auto* reviewer = a->reviewer;
  const auto* d = &a->deployment;
  const std::string why = str(a->body, "reason");
  if (why.empty()) co_return error_response(400, "invalid", "an override needs {\"reason\": \"why this cannot wait\"}");
  if (d->trigger != orchestration::Trigger::github_actions)
    co_return error_response(409, "conflict", "only a GitHub Actions deployment is overridden in place; deploy this version "
                                              "with POST /api/v1/deployments and an override");
  orchestration::TransitionRequest t{d->id, orchestration::Event::hand_over, reviewer->name,
                                     "emergency override by " + reviewer->name + ": " + why, std::nullopt, {}};
  auto r = co_await app.store->transition(std::move(t));
  if (!r) co_return unavailable("could not store the override: " + r.error().message());
  if (!r->applied) co_return not_pending(d->id, r->state, "and is no longer waiting");
  orchestration::AuditEntry audit{0, 0, reviewer->name, orchestration::AuditAction::override_, d->project, d->environment,
                                  d->id, why, {{"version", d->version}}};
  if (auto recorded = co_await app.store->record_audit(std::move(audit)); !recorded)
    spdlog::warn("deployment {}: override audit entry not written: {}", d->id, recorded.error().message());
  co_return json_response(200, {{"id", d->id}, {"state", to_string(r->state)}});
}

boost::asio::awaitable<Response> rollback(const App& app, Request& req) {
  Response error;
  auto call = co_await open_call(app, req, PathNames::environment, error);
  if (!call) co_return error;
  const auto* reviewer = call->reviewer;
  const auto* body = &call->body;
  const std::string& pname = call->project->name;
  const std::string& ename = call->environment->name;
  if (!reviewer->may(config::Permission::rollback, pname)) {
    Refusal refusal = forbidden(*reviewer, config::Permission::rollback, pname);
    co_return co_await refuse(app, reviewer->name, "rollback", pname, ename, 0, std::move(refusal));
  }
  const std::string reason = str(*body, "reason");

  orchestration::DeploymentFilter succeeded{pname, ename, {State::succeeded}, orchestration::kPreviousVersionSearch, 0};
  auto done = co_await app.store->deployments(succeeded);
  if (!done) co_return store_failure(done.error());
  if (done->empty()) co_return error_response(409, "conflict", pname + "/" + ename + " has no succeeded deployment to roll back");
  const Deployment& current = done->front();
  const Deployment* previous = orchestration::previous_version(*done, current);
  if (!previous)
    co_return error_response(409, "conflict", pname + "/" + ename + " has no earlier succeeded version than " + current.version);

  auto nd = orchestration::same_version_as(*previous, pname, ename, orchestration::Trigger::rollback);
  nd.actor = reviewer->name;
  nd.initial = State::queued;
  nd.reason = "rollback by " + reviewer->name + " from " + current.version + " to " + previous->version +
              (reason.empty() ? "" : ": " + reason);
  orchestration::Plan plan;
  plan.deployments.push_back(std::move(nd));
  plan.mark_bad.push_back({pname, ename, current.version, current.sha, 0, current.id,
                           reason.empty() ? "rolled back by " + reviewer->name : reason, reviewer->name});
  plan.audit.push_back({0, 0, reviewer->name, orchestration::AuditAction::rollback, pname, ename, 0, reason,
                        {{"from", current.version}, {"to", previous->version}, {"marked_bad", current.version}}});
  std::string key = delivery_key_for(req, *reviewer);
  std::string source = "api rollback " + pname + "/" + ename;
  co_return co_await accept_plan(app, req, std::move(key), std::move(source), std::move(plan));
}

}  // namespace

boost::asio::awaitable<Response> review(const App& app, const config::Reviewer& reviewer, Deployment deployment,
                                        bool approve, std::string comment) {
  const char* action = approve ? "approve" : "reject";
  const auto* d = &deployment;
  if (!reviewer.may(config::Permission::approve, d->project)) {
    Refusal refusal = forbidden(reviewer, config::Permission::approve, d->project);
    co_return co_await refuse(app, reviewer.name, action, d->project, d->environment, d->id, std::move(refusal));
  }
  if (!approve && comment.empty()) co_return error_response(400, "invalid", "a rejection needs {\"comment\": \"why\"}");
  if (d->state != State::pending_approval) co_return not_pending(d->id, d->state);
  // Rejecting a version you triggered yourself is allowed; approving it is not.
  if (auto why = orchestration::check_approver(*d, reviewer); why && (approve || why->code != "self_approval")) {
    co_return co_await refuse(app, reviewer.name, action, d->project, d->environment, d->id, std::move(*why));
  }

  if (!approve) {
    orchestration::TransitionRequest t{d->id, orchestration::Event::reject, reviewer.name,
                                       "rejected by " + reviewer.name + ": " + comment, std::nullopt, {}};
    auto r = co_await app.store->transition(std::move(t));
    if (!r) co_return unavailable("could not store the rejection: " + r.error().message());
    if (!r->applied) co_return not_pending(d->id, r->state);
    co_return json_response(200, {{"id", d->id}, {"state", "rejected"}});
  }

  const int required = orchestration::required_approvals(*d);
  orchestration::ApprovalRequest request{d->id, reviewer.name, comment, required};
  auto r = co_await app.store->approve(std::move(request));
  if (!r) co_return unavailable("could not store the approval: " + r.error().message());
  using Kind = orchestration::ApprovalOutcome::Kind;
  if (r->kind == Kind::not_pending) co_return not_pending(d->id, r->state);
  if (r->state == State::queued) app.dispatcher->notify(d->project, d->environment);
  json out = {{"id", d->id}, {"state", to_string(r->state)}, {"approvals", r->approvals}, {"required", required}};
  if (r->kind == Kind::repeated) out["message"] = reviewer.name + " had already approved; counted once";
  co_return json_response(200, out);
}

void add_action_routes(Router& router, const App& app) {
  router.add("POST", "/api/v1/deployments", RouteKind::api, [&app](Request& r) { return manual_deploy(app, r); });
  router.add("POST", "/api/v1/deployments/{id}/approve", RouteKind::api,
             [&app](Request& r) { return approve_or_reject(app, r, true); });
  router.add("POST", "/api/v1/deployments/{id}/reject", RouteKind::api,
             [&app](Request& r) { return approve_or_reject(app, r, false); });
  router.add("POST", "/api/v1/deployments/{id}/cancel", RouteKind::api, [&app](Request& r) { return cancel(app, r); });
  router.add("POST", "/api/v1/deployments/{id}/override", RouteKind::api,
             [&app](Request& r) { return override_waiting(app, r); });
  router.add("POST", "/api/v1/projects/{project}/environments/{environment}/rollback", RouteKind::api,
             [&app](Request& r) { return rollback(app, r); });
}

}  // namespace shipgate::handlers
