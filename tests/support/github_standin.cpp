#include "tests/support/github_standin.hpp"

#include <regex>

namespace shipgate::testing {

using nlohmann::json;

namespace {

StandinReply github_error(int status, const std::string& message) {
  return {status, json{{"message", message}, {"documentation_url", "https://docs.github.com/rest"}}.dump()};
}

}  // namespace

GithubStandin::GithubStandin(std::string token)
    : token_(std::move(token)), server_([this](const RecordedRequest& r) { return handle(r); }) {}

std::vector<GithubStandin::Deployment> GithubStandin::deployments() const {
  std::lock_guard lock(mutex_);
  return deployments_;
}

void GithubStandin::fail_next(int n, int status) {
  std::lock_guard lock(mutex_);
  fail_next_ = n;
  fail_status_ = status;
}

StandinReply GithubStandin::handle(const RecordedRequest& r) {
  std::lock_guard lock(mutex_);
  if (fail_next_ > 0) {
    --fail_next_;
    return github_error(fail_status_, "Server Error");
  }
  const std::string auth = r.header("Authorization");
  if (auth != "Bearer " + token_ && auth != "token " + token_) return github_error(401, "Bad credentials");
  static const std::regex create(R"(^/repos/([^/]+/[^/]+)/deployments$)");
  static const std::regex status(R"(^/repos/([^/]+/[^/]+)/deployments/([0-9]+)/statuses$)");
  std::smatch m;
  if (r.method != "POST") return github_error(404, "Not Found");
  const auto body = json::parse(r.body, nullptr, false);
  if (!body.is_object()) return github_error(400, "Problems parsing JSON");
  if (std::regex_match(r.target, m, create)) {
    if (!body.contains("ref") || !body["ref"].is_string() || body["ref"].get<std::string>().empty())
      return github_error(422, "Invalid request. \"ref\" wasn't supplied.");
    Deployment d;
    d.id = 1000 + static_cast<std::int64_t>(deployments_.size());
    d.repository = m[1];
    d.ref = body["ref"];
    d.environment = body.value("environment", "production");
    d.production = body.value("production_environment", d.environment == "production");
    d.payload = body.value("payload", json::object());
    deployments_.push_back(d);
    return {201, json{{"id", d.id}, {"sha", d.ref}, {"ref", d.ref}, {"environment", d.environment},
                      {"production_environment", d.production}, {"payload", d.payload}}.dump()};
  }
  if (std::regex_match(r.target, m, status)) {
    const std::int64_t id = std::stoll(m[2]);
    for (auto& d : deployments_) {
      if (d.id != id || d.repository != m[1].str()) continue;
      static const std::vector<std::string> states = {"error", "failure", "inactive", "in_progress", "queued", "pending", "success"};
      const std::string state = body.value("state", "");
      if (std::find(states.begin(), states.end(), state) == states.end())
        return github_error(422, "Validation Failed: state is not included in the list");
      d.states.push_back(state);
      d.descriptions.push_back(body.value("description", ""));
      return {201, json{{"id", static_cast<std::int64_t>(d.states.size())}, {"state", state},
                        {"environment", body.value("environment", d.environment)}}.dump()};
    }
    return github_error(404, "Not Found");
  }
  return github_error(404, "Not Found");
}

}  // namespace shipgate::testing
