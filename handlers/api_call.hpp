// What every API endpoint starts with, done one way: the reviewer (401), the JSON body of a POST (400),
// and what the path names, a project's environment or a deployment (400 for a malformed id; 404 when it
// does not exist or the reviewer may not view its project, so a restricted reviewer cannot probe names).
#pragma once
#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

#include "handlers/app.hpp"
#include "handlers/json_body.hpp"
#include "domain/deployment.hpp"

namespace shipgate::handlers {

struct ApiCall {
  config::ConfigPtr config;
  const config::Reviewer* reviewer = nullptr;
  boost::json::object body;  // {} for a GET or an empty body
  const config::Project* project = nullptr;
  const config::Environment* environment = nullptr;
  orchestration::Deployment deployment;  // when the path names one
};

// What the path names: nothing, {project}/{environment}, or a deployment {id}.
enum class PathNames { nothing, environment, deployment };

// The reviewer `request` speaks for under `config`: its bearer token, else its session cookie (a store
// read). Null with the answer (401, 403, 503) in `error`.
boost::asio::awaitable<const config::Reviewer*> caller(const App& app, const config::Config& config,
                                                       const Request& request, Response& error);

// The opening steps; on failure, nothing with the answer in `error`.
boost::asio::awaitable<std::optional<ApiCall>> open_call(const App& app, Request& req, PathNames names, Response& error);

// Finds `project` for the call's reviewer: false with a 404 in `error` when it does not exist or the
// reviewer may not view it.
bool find_project(ApiCall& call, const std::string& project, Response& error);
// Finds `project`/`environment` for the call's reviewer: false with a 404 in `error` when either does not
// exist or the reviewer may not view the project.
bool find_environment(ApiCall& call, const std::string& project, const std::string& environment, Response& error);

// The answer when the store cannot be read.
Response store_failure(const boost::system::error_code& ec);

}  // namespace shipgate::handlers
