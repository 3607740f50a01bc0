#include "notify/github_deployments.hpp"

#include "common/json_read.hpp"

#include <nlohmann/json.hpp>

namespace shipgate::notify {

using nlohmann::json;

namespace {

bool permanent(int status) { return status >= 400 && status < 500 && status != 408 && status != 429; }

http::OutboundRequest post(const std::string& ca_file, const std::string& token, std::string url, const json& body,
                           std::string_view user_agent) {
  http::OutboundRequest req;
  req.method = "POST";
  req.url = std::move(url);
  req.body = body.dump();
  req.timeout = std::chrono::seconds(15);
  req.ca_file = ca_file;
  req.headers = {{"Authorization", "Bearer " + token},
                 {"Accept", "application/vnd.github+json"},
                 {"X-GitHub-Api-Version", "2022-11-28"},
                 {"Content-Type", "application/json"},
                 {"User-Agent", std::string(user_agent)}};
  return req;
}

void failed(GithubReport& report, const http::HttpResult& r, std::string_view step) {
  report.error = std::string(step) + ": " + http::describe_failure(r);
  report.permanent = r && permanent(r->status);
}

// Sends `req` and says whether GitHub made what it asked for (201); otherwise `report` says why.
boost::asio::awaitable<bool> made(http::HttpClient& http, http::OutboundRequest req, GithubReport& report, const char* step) {
  auto answer = co_await http.send(std::move(req));
  if (answer && answer->status == 201) co_return true;
  failed(report, answer, step);
  co_return false;
}

}  // namespace

GithubReport failed_report(const http::HttpResult& r, std::string_view step) {
  GithubReport report;
  failed(report, r, step);
  return report;
}

std::string_view github_state(std::string_view state) {
  if (state == "queued" || state == "pending_approval") return "queued";
  if (state == "running") return "in_progress";
  if (state == "succeeded") return "success";
  if (state == "failed" || state == "rolled_back") return "failure";
  if (state == "superseded" || state == "cancelled" || state == "rejected" || state == "expired") return "inactive";
  return "";
}

std::string_view commit_state(std::string_view state) {
  if (state == "queued" || state == "pending_approval" || state == "running" || state == "deploying_externally")
    return "pending";
  if (state == "succeeded") return "success";
  if (state == "failed" || state == "rolled_back") return "failure";
  if (state == "superseded" || state == "cancelled" || state == "rejected" || state == "expired") return "error";
  return "";
}

boost::asio::awaitable<GithubReport> report_commit_status(http::HttpClient& http, const std::string& api_url,
                                                          const std::string& ca_file, std::string token,
                                                          const CommitStatus& s, std::string_view user_agent) {
  GithubReport report;
  const json body = {{"state", s.state}, {"context", s.context}, {"description", s.description}, {"target_url", s.target_url}};
  auto request = post(ca_file, token, api_url + "/repos/" + s.repository + "/statuses/" + s.sha, body, user_agent);
  report.delivered = co_await made(http, std::move(request), report, "posting the commit status");
  co_return report;
}

boost::asio::awaitable<GithubReport> answer_protection_rule(http::HttpClient& http, const std::string& api_url,
                                                            const std::string& ca_file, std::string token,
                                                            const ProtectionReview& r, std::string_view user_agent) {
  GithubReport report;
  const json body = {{"environment_name", r.environment_name}, {"state", r.state}, {"comment", r.comment}};
  const std::string url = api_url + "/repos/" + r.repository + "/actions/runs/" + std::to_string(r.run_id) +
                          "/deployment_protection_rule";
  auto request = post(ca_file, token, url, body, user_agent);
  auto answer = co_await http.send(std::move(request));
  report.delivered = answer && answer->status == 204;
  if (!report.delivered) failed(report, answer, "answering the deployment protection rule");
  co_return report;
}

std::optional<std::int64_t> read_github_deployment_id(std::string_view body) {
  const auto id = json_read::integer(json_read::parse(body), "id", 0);
  if (id <= 0) return std::nullopt;
  return id;
}

boost::asio::awaitable<GithubReport> report_github_status(http::HttpClient& http,
                                                          const config::GithubDeploymentsConfig& github,
                                                          std::string token, const GithubStatus& s,
                                                          std::int64_t github_id,
                                                          std::string_view user_agent) {
  GithubReport report;
  report.github_id = github_id;
  const std::string api = github.api_url + "/repos/" + s.repository + "/deployments";
  if (github_id == 0) {
    // required_contexts: [] so GitHub does not hold the record back on commit statuses.
    const json body = {{"ref", s.ref},
                       {"environment", s.environment},
                       {"description", "shipgate deployment " + std::to_string(s.deployment) + ": " + s.version},
                       {"auto_merge", false},
                       {"required_contexts", json::array()},
                       {"payload", {{"shipgate_deployment", s.deployment}, {"version", s.version}}},
                       {"production_environment", s.production},
                       {"transient_environment", false}};
    auto create_request = post(github.tls.ca_file, token, api, body, user_agent);
    auto created = co_await http.send(std::move(create_request));
    if (!created || created->status != 201) {
      failed(report, created, "creating the GitHub deployment");
      co_return report;
    }
    const auto id = read_github_deployment_id(created->body);
    if (!id) {
      report.error = "GitHub answered 201 without a deployment id";
      co_return report;
    }
    report.github_id = *id;  // kept even if the status fails: a retry reuses it
  }
  json status = {{"state", s.state},
                 {"description", s.description},
                 {"environment", s.environment},
                 {"log_url", s.log_url},
                 {"auto_inactive", true}};
  if (!s.environment_url.empty()) status["environment_url"] = s.environment_url;
  auto status_request = post(github.tls.ca_file, token, api + "/" + std::to_string(report.github_id) + "/statuses", status, user_agent);
  report.delivered = co_await made(http, std::move(status_request), report, "posting the GitHub deployment status");
  co_return report;
}

}  // namespace shipgate::notify
