// A stand-in for GitHub's REST deployments API (POST /repos/{owner}/{repo}/deployments and
// .../deployments/{id}/statuses), as GitHub documents it: Bearer or token authorization (401 "Bad
// credentials" otherwise), 422 for a missing ref or an unknown status state, 404 for an unknown
// deployment, 201 with the created object. It records every deployment and its statuses in order.
#pragma once
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
  };

  explicit GithubStandin(std::string token);
  std::string url() const { return server_.url(); }
  std::vector<Deployment> deployments() const;
  // Answer the next `n` requests with this status (500: a GitHub outage).
  void fail_next(int n, int status = 500);
  std::size_t requests() const { return server_.requests().size(); }

 private:
  StandinReply handle(const RecordedRequest& r);

  std::string token_;
  mutable std::mutex mutex_;
  std::vector<Deployment> deployments_;
  int fail_next_ = 0;
  int fail_status_ = 500;
  StandinServer server_;
};

}  // namespace shipgate::testing
