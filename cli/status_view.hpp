// How the client commands print what the API answers: aligned tables, the overview of every project's
// environments, and one environment in full (current, running, gate, waiting, bad versions, schedules,
// drift, recent deployments).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace shipgate::cli {

// A member as text: "-" when absent or null, a string as it is, anything else as JSON.
std::string text(const nlohmann::json& j, const char* key);
// A 40-character SHA shortened to 12; a version as it is.
std::string short_version(const std::string& v);
// Prints rows as aligned columns.
void table(const std::vector<std::vector<std::string>>& rows);
void print_deployments(const nlohmann::json& list);
// GET /api/v1/projects as one row per environment.
void print_overview(const nlohmann::json& projects);
// GET /api/v1/projects/P/environments/E.
void print_environment(const std::string& project, const std::string& environment, const nlohmann::json& body);

}  // namespace shipgate::cli
