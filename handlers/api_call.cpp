#include "handlers/api_call.hpp"

#include "common/text.hpp"

#include "handlers/auth.hpp"
#include "handlers/intake.hpp"
#include "handlers/params.hpp"
#include "handlers/web_session.hpp"

namespace shipgate::handlers {

Response store_failure(const boost::system::error_code& ec) { return unavailable("store read failed: " + ec.message()); }

bool find_project(ApiCall& call, const std::string& project, Response& error) {
  call.project = call.config->project(project);
  if (!call.project || !call.reviewer->may(config::Permission::view, project)) {
    error = error_response(404, "not_found", "no project " + project);
    return false;
  }
  return true;
}

bool find_environment(ApiCall& call, const std::string& project, const std::string& environment, Response& error) {
  if (!find_project(call, project, error)) return false;
  call.environment = call.project->environment(environment);
  if (!call.environment) {
    error = error_response(404, "not_found", "project " + project + " has no environment " + environment);
    return false;
  }
  return true;
}

boost::asio::awaitable<const config::Reviewer*> caller(const App& app, const config::Config& config,
                                                       const Request& request, Response& error) {
  // A script sends its token; a browser, once signed in, its session cookie.
  if (!request.has_header("Authorization") && !session_cookie(request).empty())
    co_return co_await session_reviewer(app, config, request, error);
  co_return authenticate(config, request, error);
}

boost::asio::awaitable<std::optional<ApiCall>> open_call(const App& app, Request& req, PathNames names, Response& error) {
  ApiCall call;
  call.config = app.config();
  call.reviewer = co_await caller(app, *call.config, req, error);
  if (!call.reviewer) co_return std::nullopt;
  // Text with a NUL character would be cut where it is stored: refused, like any malformed input.
  if (to_lower(req.query).find("%00") != std::string::npos) {
    error = error_response(400, "invalid", "query parameters may not contain a NUL character");
    co_return std::nullopt;
  }
  if (req.method == "POST" && !req.body.empty()) {
    auto body = parse_json(req.body, error);
    if (!body) co_return std::nullopt;
    if (has_nul(*body)) {
      error = error_response(400, "invalid", "text in the body may not contain a NUL character");
      co_return std::nullopt;
    }
    call.body = std::move(*body);
  }
  if (names == PathNames::environment &&
      !find_environment(call, req.params["project"], req.params["environment"], error))
    co_return std::nullopt;
  if (names == PathNames::deployment) {
    const auto id = parse_integer(req.params["id"], 1, INT64_MAX);
    if (!id) {
      error = error_response(400, "invalid", "deployment id must be a number");
      co_return std::nullopt;
    }
    auto d = co_await app.store->deployment(*id, true);
    if (!d) {
      error = store_failure(d.error());
      co_return std::nullopt;
    }
    if (!*d || !call.reviewer->may(config::Permission::view, (*d)->project)) {
      error = error_response(404, "not_found", "no deployment " + std::to_string(*id));
      co_return std::nullopt;
    }
    call.deployment = std::move(**d);
  }
  co_return call;
}

}  // namespace shipgate::handlers
