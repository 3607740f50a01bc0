// Administration: POST /api/v1/reload re-reads the config file (the same as SIGHUP) and answers with
// what changed, or with every error when the file is refused.
#include <spdlog/spdlog.h>

#include "handlers/app.hpp"
#include "handlers/api_call.hpp"
#include "orchestration/reloader.hpp"

namespace shipgate::handlers {

namespace {

boost::asio::awaitable<Response> reload(const App& app, Request& req) {
  Response error;
  const auto call = co_await open_call(app, req, PathNames::nothing, error);
  if (!call) co_return error;
  const auto* reviewer = call->reviewer;
  if (!reviewer->may(config::Permission::reload, "")) {
    Response refusal = error_response(403, "forbidden",
                                      "reviewer " + reviewer->name + " lacks the 'reload' permission (for every project)");
    // A refused attempt is part of the record, like every refused protected action.
    orchestration::AuditEntry entry;
    entry.actor = reviewer->name;
    entry.action = orchestration::AuditAction::refused;
    entry.reason = "lacks the 'reload' permission (for every project)";
    entry.details = {{"attempted", "reload"}, {"status", 403}};
    auto recorded = co_await app.store->record_audit(std::move(entry));
    if (!recorded) spdlog::error("cannot record refusal in the audit log: {}", recorded.error().message());
    co_return refusal;
  }
  if (!app.reloader) co_return error_response(501, "not_available", "this daemon was started without a config file");
  const std::string actor = reviewer->name;
  auto outcome = co_await app.reloader->reload(actor);
  auto body = orchestration::to_json(outcome);
  if (outcome.applied) co_return json_response(200, body);
  const std::string why = std::to_string(outcome.errors.size()) + " error" + (outcome.errors.size() == 1 ? "" : "s") +
                          "; the config in force keeps serving";
  body["error"] = "invalid_config";
  body["message"] = "reload refused: " + why;
  co_return json_response(outcome.busy ? 409 : 400, body);
}

}  // namespace

void add_admin_routes(Router& router, const App& app) {
  router.add("POST", "/api/v1/reload", RouteKind::api, [&app](Request& r) { return reload(app, r); });
}

}  // namespace shipgate::handlers
