// GET /api/v1/audit: the append-only log of every action and transition.
#include "config/time_zone.hpp"
#include "handlers/app.hpp"
#include "handlers/api_call.hpp"
#include "handlers/intake.hpp"
#include "handlers/params.hpp"

namespace shipgate::handlers {

namespace {

boost::asio::awaitable<Response> list_audit(const App& app, Request& req) {
  Response error;
  auto call = co_await open_call(app, req, PathNames::nothing, error);
  if (!call) co_return error;
  const auto* reviewer = call->reviewer;
  orchestration::AuditFilter f;
  if (auto since = req.query_param("since"); !since.empty()) {
    auto ms = config::parse_rfc3339(since);
    if (!ms) co_return error_response(400, "invalid", "since must be an RFC 3339 time, e.g. 2026-11-26T00:00:00Z");
    f.since_ms = *ms;
  }
  if (auto after = req.query_param("after"); !after.empty()) {
    const auto id = parse_integer(after, 0, INT64_MAX);
    if (!id) co_return error_response(400, "invalid", "after must be an audit entry id");
    f.after_id = *id;
  }
  if (auto limit = req.query_param("limit"); !limit.empty()) {
    const auto n = parse_integer(limit, 1, 1000);
    if (!n) co_return error_response(400, "invalid", "limit must be 1 to 1000");
    f.limit = static_cast<int>(*n);
  }
  if (auto before = req.query_param("before"); !before.empty()) {
    const auto id = parse_integer(before, 1, INT64_MAX);
    if (!id) co_return error_response(400, "invalid", "before must be an audit entry id");
    f.before_id = *id;
  }
  f.project = req.query_param("project");
  if (!f.project.empty() && !find_project(*call, f.project, error)) co_return error;
  f.actor = req.query_param("actor");
  if (f.actor.size() > 200) co_return error_response(400, "invalid", "actor is at most 200 characters");
  f.action = req.query_param("action");
  if (!f.action.empty() && !orchestration::parse_audit_action(f.action))
    co_return error_response(400, "invalid", "unknown action '" + f.action + "'");
  auto entries = co_await app.store->audit(f);
  if (!entries) co_return store_failure(entries.error());
  nlohmann::json out = nlohmann::json::array();
  // Entries of no project (reloads, refused reloads) concern the whole daemon: only reviewers without a
  // project restriction see them.
  for (const auto& e : *entries)
    if (e.project.empty() ? reviewer->projects.empty() : reviewer->may(config::Permission::view, e.project))
      out.push_back(orchestration::to_json(e));
  nlohmann::json body = {{"entries", out}};
  if (!entries->empty()) body["next_after"] = entries->back().id;
  if (static_cast<int>(entries->size()) == f.limit) body["next_before"] = entries->front().id;
  co_return json_response(200, body);
}

}  // namespace

void add_audit_routes(Router& router, const App& app) {
  router.add("GET", "/api/v1/audit", RouteKind::api, [&app](Request& r) { return list_audit(app, r); });
}

}  // namespace shipgate::handlers
