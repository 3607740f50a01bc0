// A stand-in for GitHub's REST deployments API (POST /repos/{owner}/{repo}/deployments and
// .../deployments/{id}/statuses), as GitHub documents it: Bearer or token authorization (401 "Bad
// credentials" otherwise), 422 for a missing ref or an unknown status state, 404 for an unknown
// deployment, 201 with the created object. It records every deployment and its statuses in order.
// As GitHub does for a GitHub App, it takes JWTs (RS256, checked with the app's public key, `iss` the
// app id, issued at most 60 s ahead and living at most 10 minutes) for GET /repos/{o}/{r}/installation
// and POST /app/installations/{id}/access_tokens, and the tokens it issues for the deployments API.
// GitHub Actions jobs wait on a custom deployment protection rule (await_review) until the app answers
// POST /repos/{o}/{r}/actions/runs/{run_id}/deployment_protection_rule with {environment_name, state:
// approved|rejected, comment}: an installation token only (401 otherwise), 422 for a state outside the
// two or a run and environment not waiting, 204 once answered.
#pragma once
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/http.hpp"

namespace shipgate::testing {

class GithubStandin {
 public:
  struct Deployment {
    std::int64_t id = 0;
    std::string repository;
    std::string ref;
    std::string environment;
    bool production = false;
    nlohmann::json payload;
    std::vector<std::string> states;  // statuses in the order they arrived
    std::vector<std::string> descriptions;
    std::vector<std::string> environment_urls;
  };
  struct CommitStatus {
    std::string repository, sha, state, context, description, target_url;
  };

  explicit GithubStandin(std::string token);
  std::string url() const { return server_.url(); }
  std::vector<Deployment> deployments() const;
  std::vector<CommitStatus> commit_statuses() const;  // in the order they arrived
  // Pull requests: `number` of `repository` was merged as `merge_sha` (GET .../commits/{sha}/pulls finds it).
  void add_merged_pull(const std::string& repository, std::int64_t number, const std::string& merge_sha);
  struct Comment {
    std::int64_t id = 0;
    std::string body;
    int edits = 0;
  };
  std::vector<Comment> comments(const std::string& repository, std::int64_t number) const;
  int pull_lookups(const std::string& sha) const;  // GET .../commits/{sha}/pulls calls
  // Answer the next `n` requests with this status (500: a GitHub outage).
  void fail_next(int n, int status = 500);
  std::size_t requests() const { return server_.requests().size(); }
  // Act for a GitHub App installed (as `installation`) on every repository; each token lives `token_life`.
  void enable_app(std::string app_id, std::string public_key_pem, std::int64_t installation,
                  std::chrono::seconds token_life);
  int tokens_issued() const;
  // Every installation token issued from now on is `token` (a server outside the stand-in can then
  // check it, as the platform repository's HTTPS server does).
  void issue_token(std::string token);
  // A run of `repository` waits on the protection rule for `environment`; the webhook GitHub then sends
  // (deployment_protection_rule, action requested) as GitHub documents it, its callback URL on this server.
  nlohmann::json await_review(const std::string& repository, std::int64_t run_id, const std::string& environment,
                              std::int64_t deployment_id, const std::string& sha, const std::string& creator);
  // The deployment_status webhook GitHub sends when the run reports on its deployment.
  static nlohmann::json deployment_status_event(const std::string& repository, std::int64_t deployment_id,
                                                const std::string& environment, const std::string& state);
  struct Review {
    std::string repository;
    std::int64_t run_id = 0;
    std::string environment_name, state, comment, authorization;
  };
  std::vector<Review> reviews() const;  // the answers taken, in order
  std::vector<std::string> refusals() const;  // why each refused JWT or token was refused

 private:
  StandinReply handle(const RecordedRequest& r);
  StandinReply handle_app(const RecordedRequest& r);
  StandinReply handle_pulls(const RecordedRequest& r);
  StandinReply handle_review(const std::string& repository, std::int64_t run_id, const RecordedRequest& r);
  bool jwt_ok(const std::string& authorization);
  bool token_ok(const std::string& authorization);

  std::string token_;
  mutable std::mutex mutex_;
  std::vector<Deployment> deployments_;
  std::vector<CommitStatus> commit_statuses_;
  std::map<std::string, std::vector<std::pair<std::int64_t, std::string>>> merged_;  // repository -> (number, sha)
  std::map<std::string, std::vector<Comment>> comments_;  // "repository#number" -> comments
  std::int64_t next_comment_ = 5000;
  std::map<std::string, int> pull_lookups_;
  int fail_next_ = 0;
  int fail_status_ = 500;
  std::string app_id_, app_public_key_;
  std::int64_t installation_ = 0;
  std::chrono::seconds token_life_{3600};
  std::string fixed_token_;
  std::map<std::string, std::chrono::system_clock::time_point> issued_;  // token -> expiry
  std::vector<std::string> refusals_;
  std::map<std::string, bool> waiting_;  // "repository#run#environment" -> still waiting
  std::vector<Review> reviews_;
  StandinServer server_;
};

}  // namespace shipgate::testing
