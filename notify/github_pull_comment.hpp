// One comment on the pull request a deployed commit was merged from, edited as each environment's
// deployment ends, never a second one: shipgate finds it again by the marker it carries
// (<!-- shipgate:<project> -->) among the pull request's comments.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "http/http_client.hpp"
#include "notify/github_deployments.hpp"

namespace shipgate::notify {

struct PullComment {
  std::string repository;   // owner/name
  std::string project;
  std::string sha;
  std::string environment;
  std::string state;        // the deployment's state: succeeded, failed, ...
  std::string version;
  std::int64_t deployment = 0;
  std::string link;         // the deployment's page
};

// The comment's text with this environment's row set, keeping the other environments' rows of
// `existing` (the comment as it is, or "" for a new one).
std::string pull_comment_body(std::string_view existing, const PullComment& c);

// From GitHub's pull requests of a commit: the one that merged `sha` (its merge commit), else any merged one.
std::optional<std::int64_t> read_merged_pull(std::string_view body, std::string_view sha);

// From one page of a pull request's comments: the id and text of the one carrying `marker`.
std::optional<std::pair<std::int64_t, std::string>> find_marked_comment(std::string_view body, std::string_view marker);

// Finds the pull request, then edits shipgate's comment on it or makes it. Delivered, with nothing
// done, when the commit came from no merged pull request.
boost::asio::awaitable<GithubReport> report_pull_comment(http::HttpClient& http, const std::string& api_url,
                                                         const std::string& ca_file, std::string token,
                                                         const PullComment& comment, std::string user_agent);

}  // namespace shipgate::notify
