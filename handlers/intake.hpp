// Shared by the webhook handlers: verify, parse, and turn a plan into durably stored deployments.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <string>

#include "handlers/app.hpp"
#include "handlers/json_body.hpp"
#include "handlers/push_fields.hpp"
#include "domain/triggers.hpp"

namespace shipgate::handlers {

// Reads the name of the project a body claims to be for; called only when it must be known.
using ClaimedProject = std::function<boost::asio::awaitable<std::string>()>;

// Verifies X-Hub-Signature-256 over the raw body: first against every global secret (rotation), then,
// only if none matches and some project has a secret of its own, against the own secret of the project
// the body claims to be for (`claimed_project` reads that name; it is called at most once). Nothing of
// the body is parsed before that, and a large body is hashed a slice at a time, yielding to other work
// between slices. Cost is O(global secrets), not O(projects). Returns the project whose own secret
// verified (empty for a global secret) in `project`; on failure fills `error` with a 401 response.
boost::asio::awaitable<bool> verify_webhook(const config::Config& config, const Request& request,
                                            const ClaimedProject& claimed_project, std::string& project,
                                            Response& error);

// Which field of a body names its project: repository.full_name (GitHub events) or "project" (builds).
enum class ClaimBy { repository, project };
// The configured project a JSON body claims, read without building a document, a slice at a time;
// empty when the body is not valid JSON or names no configured project.
boost::asio::awaitable<std::string> read_claimed_project(const config::Config& config, std::string_view json_text,
                                                         ClaimBy by);

// Stores the planned deployments under `delivery_key` (idempotent) and answers:
// 202 with the deployments, the stored answer for a repeat, 200 when nothing deploys, 400 for an
// invalid request, 503 (with Retry-After) when the store could not commit.
boost::asio::awaitable<Response> accept_plan(const App& app, const Request& request, std::string delivery_key,
                                             std::string source, orchestration::Plan plan);

Response unavailable(std::string_view message);

// repository_dispatch client_payload or build body -> VersionRequest. Fills `error` when malformed.
bool read_version_request(const boost::json::object& body, orchestration::VersionRequest& out, std::string& error);

}  // namespace shipgate::handlers
