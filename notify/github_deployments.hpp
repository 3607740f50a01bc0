// GitHub's deployments API as shipgate reports to it: one GitHub deployment per shipgate deployment
// (created on the first status), then a status for each state change. The repository's
// Environments page then shows what runs where. Only reports: shipgate has already decided.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "http/http_client.hpp"

namespace shipgate::notify {

// GitHub's deployment status state for a shipgate deployment state ("" when none applies).
std::string_view github_state(std::string_view shipgate_state);

struct GithubStatus {
  std::string repository;   // owner/name
  std::string environment;
  std::string ref;          // the SHA (or the ref when there is none)
  std::string version;
  bool production = false;
  std::string state;        // from github_state
  std::string description;  // at most 140 characters
  std::string log_url;
  std::string environment_url;  // where the environment is reached ("" when not configured)
  std::int64_t deployment = 0;  // shipgate's id
};

// GitHub's commit status state for a shipgate deployment state ("" when none applies).
std::string_view commit_state(std::string_view shipgate_state);

// A commit status (POST /repos/{owner}/{repo}/statuses/{sha}): one per context, the newest wins.
struct CommitStatus {
  std::string repository;
  std::string sha;
  std::string state;        // from commit_state
  std::string context;      // shipgate/<environment>
  std::string description;  // at most 140 characters
  std::string target_url;
};

struct GithubReport {
  bool delivered = false;
  bool permanent = false;      // failed in a way a retry cannot fix (a 4xx other than 408 and 429)
  std::string error;
  std::int64_t github_id = 0;  // the GitHub deployment, created now or passed in
};

// Posts the status, first creating the GitHub deployment when `github_id` is 0.
boost::asio::awaitable<GithubReport> report_commit_status(http::HttpClient& http, const std::string& api_url,
                                                          const std::string& ca_file, std::string token,
                                                          const CommitStatus& status, std::string_view user_agent);

// A report of a call that failed at `step`: the answer or error, and whether a retry could help.
GithubReport failed_report(const http::HttpResult& r, std::string_view step);

// The id of the deployment GitHub created (a positive integer); none when the answer has no such id.
std::optional<std::int64_t> read_github_deployment_id(std::string_view body);

// shipgate's answer to a GitHub Actions job waiting on its deployment protection rule.
struct ProtectionReview {
  std::string repository;        // owner/name
  std::int64_t run_id = 0;       // the workflow run waiting
  std::string environment_name;  // the GitHub environment, as GitHub named it
  std::string state;             // approved | rejected
  std::string comment;           // at most 1024 characters
};

// POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule (204). Only a GitHub App's
// installation token may answer.
boost::asio::awaitable<GithubReport> answer_protection_rule(http::HttpClient& http, const std::string& api_url,
                                                            const std::string& ca_file, std::string token,
                                                            const ProtectionReview& review, std::string_view user_agent);

// `token` is the project's own or a GitHub App's installation token.
boost::asio::awaitable<GithubReport> report_github_status(http::HttpClient& http,
                                                          const config::GithubDeploymentsConfig& github,
                                                          std::string token, const GithubStatus& status,
                                                          std::int64_t github_id,
                                                          std::string_view user_agent);

}  // namespace shipgate::notify
