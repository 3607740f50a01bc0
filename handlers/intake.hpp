// Shared by the webhook handlers: verify, parse, and turn a plan into durably stored deployments.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <string>

#include "handlers/app.hpp"
#include "handlers/push_fields.hpp"
#include "orchestration/triggers.hpp"

namespace shipgate::handlers {

constexpr int kMaxJsonDepth = 64;

// Parses JSON with a nesting bound; on failure fills `error` with a 400 response.
std::optional<nlohmann::json> parse_json(std::string_view text, Response& error);

// The 400 answer for a body that failed a check (`check` is not ok).
Response json_error(JsonCheck check);

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

// A string member, or empty when absent or not a string.
std::string str(const nlohmann::json& j, const char* key);
std::string nested_str(const nlohmann::json& j, const char* outer, const char* inner);

// repository_dispatch client_payload or build body -> VersionRequest. Fills `error` when malformed.
bool read_version_request(const nlohmann::json& body, orchestration::VersionRequest& out, std::string& error);

}  // namespace shipgate::handlers
