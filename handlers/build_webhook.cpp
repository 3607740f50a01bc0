// POST /webhooks/build: an app repository's CI announces a built version (trigger 3 of the contract).
// Signed like a GitHub webhook; the Idempotency-Key header makes retries of the same call safe.
#include <cctype>

#include "common/text.hpp"
#include "config/time_zone.hpp"
#include "handlers/app.hpp"
#include "handlers/intake.hpp"

namespace shipgate::handlers {

namespace {

bool is_actor_name(std::string_view s) { return is_plain_name(s, 100); }

boost::asio::awaitable<Response> handle_build(const App& app, Request& req) {
  const auto config = app.config();
  const ClaimedProject claimed_project = [&]() -> boost::asio::awaitable<std::string> {
    co_return co_await read_claimed_project(*config, req.body, ClaimBy::project);
  };
  std::string signed_by;
  Response error;
  if (!co_await verify_webhook(*config, req, claimed_project, signed_by, error)) co_return error;
  const std::string key(req.header("Idempotency-Key"));
  if (!is_token(key, 200))
    co_return error_response(400, "malformed", "Idempotency-Key must be 1 to 200 visible ASCII characters");
  const std::string content_type = to_lower(req.header("Content-Type"));
  if (!content_type.empty() && content_type.rfind("application/json", 0) != 0)
    co_return error_response(415, "unsupported_media_type", "Content-Type must be application/json");
  Response parse_error;
  const auto body = parse_json(req.body, parse_error);
  if (!body) co_return parse_error;
  const std::string name = str(*body, "project");
  if (name.empty()) co_return error_response(400, "invalid", "body needs \"project\"");
  const auto* project = config->project(name);
  if (!project) co_return error_response(404, "not_found", "unknown project '" + name + "'");
  if (!signed_by.empty() && signed_by != project->name)
    co_return error_response(401, "bad_signature", "signed with the secret of another project");
  orchestration::VersionRequest vr;
  std::string why;
  if (!read_version_request(*body, vr, why)) co_return error_response(400, "malformed", why);
  // The build names who triggered it, but only a build source trusted to say so (trust_build_actor) makes
  // that person the version's author for the self-approval rule; otherwise the name is kept as a claim
  // the rule cannot match, and the audit shows it came from the build webhook.
  const std::string claimed = str(*body, "actor");
  if (!claimed.empty() && !is_actor_name(claimed)) {
    if (app.metrics) app.metrics->rejected_input("actor");
    co_return error_response(400, "invalid", "actor must be 1 to 100 letters, digits, '.', '_' or '-'");
  }
  if (const auto committed = body->find("committed_at"); committed != body->end()) {
    const auto* text = committed->value().if_string();
    const auto ms = text && text->size() <= 64 ? config::parse_rfc3339(std::string(*text)) : std::nullopt;
    if (!ms) {
      if (app.metrics) app.metrics->rejected_input("committed_at");
      co_return error_response(400, "invalid", "committed_at must be an RFC 3339 time with offset, e.g. 2026-11-30T10:00:00Z");
    }
    vr.committed_ms = *ms;
  }
  if (claimed.empty()) vr.actor = "build";
  else if (project->trust_build_actor) vr.actor = claimed;
  else vr.actor = "build (claimed: " + claimed + ")";
  auto plan = orchestration::plan_version_request(*project, vr, config::Trigger::build);
  std::string delivery_key = "build:" + name + ":" + key;
  std::string source = "build " + name;
  co_return co_await accept_plan(app, req, std::move(delivery_key), std::move(source), std::move(plan));
}

}  // namespace

void add_build_routes(Router& router, const App& app) {
  router.add("POST", "/webhooks/build", RouteKind::webhook, [&app](Request& r) { return handle_build(app, r); }, "build");
}

}  // namespace shipgate::handlers
