// POST /webhooks/github: ping, push, repository_dispatch, release, and GitHub Actions' deployment
// protection rules and deployment statuses (github_actions.cpp). The signature is checked on the raw body
// before anything is parsed; a delivery is stored under its X-GitHub-Delivery so a redelivery (or the
// same event through a second hook) gets the original answer and creates nothing.
#include <spdlog/spdlog.h>

#include "common/logging.hpp"

#include "common/text.hpp"
#include "config/time_zone.hpp"
#include "handlers/app.hpp"
#include "handlers/github_actions.hpp"
#include "orchestration/current_versions.hpp"
#include "orchestration/platform_watch.hpp"
#include "handlers/intake.hpp"

namespace shipgate::handlers {

using nlohmann::json;

namespace {

orchestration::PlatformPush read_platform_push(const boost::json::object& body) {
  orchestration::PlatformPush push;
  push.ref = str(body, "ref");
  push.after = to_lower(str(body, "after"));
  push.deleted = is_true(body, "deleted") || push.after.find_first_not_of('0') == std::string::npos;
  push.actor = nested_str(body, "sender", "login");
  if (const auto* commits = body.if_contains("commits"); commits && commits->is_array()) {
    push.truncated = commits->get_array().size() >= orchestration::kMaxPushCommits;
    for (const auto& c : commits->get_array()) {
      if (!c.is_object()) continue;
      std::size_t listed = 0;
      for (const char* list : {"added", "modified", "removed"}) {
        const auto* files = c.get_object().if_contains(list);
        if (!files || !files->is_array()) continue;
        for (const auto& f : files->get_array())
          if (f.is_string()) {
            push.files.emplace_back(f.get_string().data(), f.get_string().size());
            ++listed;
          }
      }
      if (listed >= orchestration::kMaxCommitFiles) push.truncated = true;
    }
  }
  return push;
}

// Whether a push moves the branch the config comes from (config_source): its new head is applied.
bool pushes_config(const config::Config& config, const std::string& repository, const PushFields& push) {
  const auto& source = config.config_source;
  return source && !source->repository.empty() && to_lower(repository) == to_lower(source->repository) &&
         push.ref == "refs/heads/" + source->branch && !push.deleted && push.after.size() == 40 && is_hex(push.after);
}

boost::asio::awaitable<orchestration::Plan> plan_platform_push(orchestration::Store& store, const config::Config& config,
                                                               const boost::json::object& body) {
  const auto push = read_platform_push(body);
  auto lanes = orchestration::config_change_lanes(config);
  const auto current = co_await orchestration::current_versions(store, std::move(lanes));
  co_return orchestration::plan_config_change(config, push, current);
}

// repository_dispatch -> the version it names for `project`; false with the answer in `refusal` when
// the dispatch is not one shipgate acts on (another action: 200 ignored) or is malformed (400).
bool plan_dispatch(const config::Config& config, const config::Project& project, const boost::json::object& body,
                   orchestration::Plan& plan, Response& refusal) {
  const std::string action = str(body, "action");
  if (action != config.github.dispatch_event) {
    refusal = json_response(200, {{"message", "repository_dispatch '" + action + "' is not '" + config.github.dispatch_event + "'"},
                                  {"ignored", true}});
    return false;
  }
  orchestration::VersionRequest vr;
  vr.actor = nested_str(body, "sender", "login");
  const auto* payload = body.if_contains("client_payload");
  if (payload && !payload->is_null()) {
    if (!payload->is_object()) {
      refusal = error_response(400, "malformed", "client_payload must be an object");
      return false;
    }
    std::string why;
    if (!read_version_request(payload->get_object(), vr, why)) {
      refusal = error_response(400, "malformed", "client_payload." + why);
      return false;
    }
  }
  if (vr.ref.empty()) {
    if (auto branch = str(body, "branch"); !branch.empty()) vr.ref = "refs/heads/" + branch;
  }
  plan = orchestration::plan_version_request(project, vr, config::Trigger::dispatch);
  return true;
}

// A published release -> its tag for the environments that deploy on releases. The commit is known when
// the release names one (target_commitish as a full SHA); a branch name there says nothing of the tag's
// commit, so the version is then the tag alone.
bool plan_release(const config::Project& project, const boost::json::object& body, orchestration::Plan& plan,
                  Response& refusal) {
  const std::string action = str(body, "action");
  if (action != "published") {
    refusal = json_response(200, {{"message", "release '" + action + "' is not 'published'"}, {"ignored", true}});
    return false;
  }
  const auto* release = body.if_contains("release");
  if (!release || !release->is_object()) {
    refusal = error_response(400, "malformed", "release payload has no release object");
    return false;
  }
  orchestration::VersionRequest vr;
  vr.version = str(release->get_object(), "tag_name");
  if (vr.version.empty()) {
    refusal = error_response(400, "malformed", "release payload has no release.tag_name");
    return false;
  }
  vr.ref = "refs/tags/" + vr.version;
  if (const auto commitish = to_lower(str(release->get_object(), "target_commitish"));
      commitish.size() == 40 && is_hex(commitish))
    vr.sha = commitish;
  vr.actor = nested_str(body, "sender", "login");
  plan = orchestration::plan_version_request(project, vr, config::Trigger::release);
  return true;
}

// The project a delivery from `repository` acts on, or (null) the answer that ends it: an event shipgate
// does not use, a repository it does not know, or a signature by another project's secret. The
// platform repository relays app repositories' dispatches, naming the project in client_payload.
const config::Project* project_of_delivery(const config::Config& config, const std::string& event,
                                           const std::string& repository, const boost::json::object* body,
                                           const std::string& signed_by, std::optional<Response>& answer) {
  const bool from_platform = config.platform && to_lower(repository) == to_lower(config.platform->repository);
  const config::Project* project = repository.empty() ? nullptr : config.project_by_repository(repository);
  if (event != "push" && event != "repository_dispatch" && event != "release") {
    answer = json_response(200, {{"message", "event '" + event + "' is not used by shipgate"}, {"ignored", true}});
    return nullptr;
  }
  if (repository.empty()) {
    answer = error_response(400, "malformed", "payload has no repository.full_name");
    return nullptr;
  }
  if (event == "repository_dispatch" && from_platform) {
    if (!signed_by.empty()) {
      answer = error_response(401, "bad_signature", "signed with a project's own secret");
      return nullptr;
    }
    const auto* payload = body->if_contains("client_payload");
    const std::string name = payload && payload->is_object() ? str(payload->get_object(), "project") : std::string();
    if (name.empty()) {
      answer = error_response(400, "invalid", "a dispatch to the platform repository names the project in client_payload.project");
      return nullptr;
    }
    project = config.project(name);
    if (!project) {
      answer = error_response(404, "not_found", "no project '" + name + "' is configured in shipgate");
      return nullptr;
    }
  }
  if (!project) {
    answer = json_response(200, {{"message", "repository " + repository + " is not configured"}, {"ignored", true}});
    return nullptr;
  }
  if (!signed_by.empty() && signed_by != project->name) {
    answer = error_response(401, "bad_signature", "signed with the secret of another project");
    return nullptr;
  }
  return project;
}

// What a push, a release or a dispatch asks of `project`; false with the refusal when it asks wrongly.
bool plan_event(const config::Config& config, const config::Project& project, const std::string& event,
                const std::string& repository, PushFields& push_fields, const boost::json::object* body,
                orchestration::Plan& plan, Response& refusal) {
  if (event == "release") return plan_release(project, *body, plan, refusal);
  if (event != "push") return plan_dispatch(config, project, *body, plan, refusal);
  orchestration::PushEvent push;
  push.repository = repository;
  push.ref = std::move(push_fields.ref);
  push.after = to_lower(push_fields.after);
  push.deleted = push_fields.deleted;
  push.actor = push_fields.sender_login.empty() ? std::move(push_fields.pusher_name) : std::move(push_fields.sender_login);
  // Where lead time starts; a timestamp that is not an RFC 3339 time is left out, never stored.
  if (push_fields.commit_time.size() <= 64) push.committed_ms = config::parse_rfc3339(push_fields.commit_time).value_or(0);
  if (push.ref.empty()) {
    refusal = error_response(400, "malformed", "push payload has no ref");
    return false;
  }
  plan = orchestration::plan_push(project, push);
  return true;
}

// A delivery as read once its signature verified: the JSON text, a push's fields or another event's
// document. Not moved once filled: `text` may point into `form_payload`.
struct GithubDelivery {
  std::string event;
  std::string id;                 // X-GitHub-Delivery
  std::string signed_by;          // the project whose own secret verified it, or empty
  std::string form_payload;       // a form-encoded body's decoded `payload`
  std::optional<bool> form_decoded;
  std::string_view text;          // the JSON text: the body itself, or `form_payload`
  PushFields push;                // a push, read only for the fields it acts on
  std::optional<boost::json::object> body;  // other events (and a platform push): the document
  bool parsed = false;
  Response parse_error;

  const boost::json::object* parse_once() {
    if (!std::exchange(parsed, true)) body = parse_json(text, parse_error);
    return body ? &*body : nullptr;
  }
};

// Verifies the signature on the raw body, then the headers and the body's form. The answer to give
// when any of it fails; nothing when `d` holds a delivery to act on.
boost::asio::awaitable<std::optional<Response>> read_delivery(const config::Config& config, Request& req,
                                                              GithubDelivery& d) {
  d.event = std::string(req.header("X-GitHub-Event"));
  d.id = std::string(req.header("X-GitHub-Delivery"));
  // The JSON text: the body itself, or the `payload` field of a form-encoded body (decoded once, and only
  // after the signature verified unless a project's own secret must be found first).
  const std::string content_type = to_lower(req.header("Content-Type"));
  const bool form = content_type.rfind("application/x-www-form-urlencoded", 0) == 0;
  const bool json_body = content_type.empty() || content_type.rfind("application/json", 0) == 0;
  auto json_text = [&]() -> std::string_view {
    if (!form) return req.body;
    if (!d.form_decoded) d.form_decoded = form_field(req.body, "payload", d.form_payload);
    return *d.form_decoded ? std::string_view(d.form_payload) : std::string_view();
  };
  const ClaimedProject claimed_project = [&]() -> boost::asio::awaitable<std::string> {
    co_return co_await read_claimed_project(config, json_text(), ClaimBy::repository);
  };
  Response error;
  if (!co_await verify_webhook(config, req, claimed_project, d.signed_by, error)) {
    log_with(spdlog::level::warn, {.request_id = req.request_id}, "github delivery {}: rejected: bad signature", d.id);
    co_return error;
  }
  d.text = json_text();
  const bool decoded = form ? *d.form_decoded : json_body;
  if (d.event.empty()) co_return error_response(400, "malformed", "missing X-GitHub-Event header");
  if (!is_token(d.id, 200))
    co_return error_response(400, "malformed", "X-GitHub-Delivery must be 1 to 200 visible ASCII characters");
  if (!form && !json_body)
    co_return error_response(415, "unsupported_media_type",
                             "Content-Type must be application/json or application/x-www-form-urlencoded");
  if (!decoded) co_return error_response(400, "malformed", "form body has no valid 'payload' field");
  // A push, the event that arrives in volume, is only read for the fields it acts on (measured: a
  // document costs a fifth of the ingest rate); other events become a document.
  if (d.event == "push") {
    if (const auto check = read_push_fields(d.text, d.push); check != JsonCheck::ok) co_return json_error(check);
  } else if (!d.parse_once()) {
    co_return d.parse_error;
  }
  co_return std::nullopt;
}

boost::asio::awaitable<Response> handle_github(const App& app, Request& req) {
  const auto config = app.config();
  GithubDelivery d;
  if (auto refused = co_await read_delivery(*config, req, d)) co_return std::move(*refused);
  if (d.event == "ping") {
    const auto* hook_id = d.body->if_contains("hook_id");
    const auto id = hook_id ? hook_id->if_int64() : nullptr;
    co_return json_response(200, {{"message", "pong"}, {"zen", str(*d.body, "zen")}, {"hook_id", id ? json(*id) : json()}});
  }
  const bool is_push = d.event == "push";
  const std::string repository = is_push ? d.push.repository : nested_str(*d.body, "repository", "full_name");
  // The repository is part of the key: a delivery id names a delivery only within its source.
  std::string key = "github:" + to_lower(repository) + ":" + d.id;
  if (is_push && pushes_config(*config, repository, d.push)) {
    if (!d.signed_by.empty()) co_return error_response(401, "bad_signature", "signed with a project's own secret");
    const std::string commit = to_lower(d.push.after);
    if (app.platform_watch)
      app.platform_watch->pushed(commit, d.push.sender_login.empty() ? d.push.pusher_name : d.push.sender_login);
    // What the commit changes redeploys once it is applied (platform_watch), not from the push's file list.
    co_return json_response(202, {{"message", "applying the platform config at " + commit}, {"config_commit", commit}});
  }
  if (is_push && config->platform && to_lower(repository) == to_lower(config->platform->repository)) {
    if (!d.signed_by.empty()) co_return error_response(401, "bad_signature", "signed with a project's own secret");
    if (!d.parse_once()) co_return d.parse_error;  // its commit lists say which projects' config changed
    auto plan = co_await plan_platform_push(*app.store, *config, *d.body);
    std::string source = "github platform push " + repository;
    co_return co_await accept_plan(app, req, std::move(key), std::move(source), std::move(plan));
  }
  if (d.event == "deployment_protection_rule" || d.event == "deployment_status") {
    if (repository.empty()) co_return error_response(400, "malformed", "payload has no repository.full_name");
    ActionsDelivery actions{std::move(key), repository, d.signed_by, &*d.body};
    if (d.event == "deployment_status") co_return co_await handle_deployment_status(app, req, std::move(actions));
    co_return co_await handle_protection_rule(app, req, std::move(actions));
  }
  const auto* body = d.body ? &*d.body : nullptr;
  std::optional<Response> answer;
  const config::Project* project = project_of_delivery(*config, d.event, repository, body, d.signed_by, answer);
  if (!project) co_return std::move(*answer);
  orchestration::Plan plan;
  Response refusal;
  if (!plan_event(*config, *project, d.event, repository, d.push, body, plan, refusal)) co_return refusal;
  std::string source = "github " + d.event + " " + repository;
  co_return co_await accept_plan(app, req, std::move(key), std::move(source), std::move(plan));
}

}  // namespace

void add_github_routes(Router& router, const App& app) {
  router.add("POST", "/webhooks/github", RouteKind::webhook, [&app](Request& r) { return handle_github(app, r); });
}


}  // namespace shipgate::handlers
