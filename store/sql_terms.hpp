// The rules SQL has to state itself (which rows a query selects, in which order), written once for both
// stores and built from the domain's enums where they name states. Each is text for a WHERE clause or
// an ORDER BY; both SQLite and PostgreSQL read it the same way.
#pragma once
#include <string>
#include <string_view>

namespace shipgate::orchestration {

// Unfinished deployments, from the states that are not final:
// "state IN ('pending_approval', 'queued', 'running')". A query over unfinished deployments of every
// project carries it exactly as the partial index deployments_active of both schemas does (SQLite uses
// a partial index only when a query repeats its WHERE term); a new state changes both together.
const std::string& unfinished_term();

// Deployments a lane's dispatcher runs: "state IN ('running', 'queued')".
const std::string& runnable_term();

// Which runnable deployment of a lane runs next, as an ORDER BY: one already running (a deployment
// resumed after a restart) first, then the higher priority of its trigger, then the oldest.
const std::string& next_to_run_order();

// An environment's current version is its newest succeeded deployment: a WHERE term and its ORDER BY,
// for a query that ends with LIMIT 1.
const std::string& current_version_term();

// The shortest SHA prefix that names a version.
constexpr std::size_t kMinShaPrefix = 7;

// A deployment a reviewer names by `param` (the store's bound parameter, "?2" or "$2"): its version,
// its full SHA, or a prefix of the SHA at least kMinShaPrefix characters long.
std::string names_version_term(std::string_view param);

}  // namespace shipgate::orchestration
