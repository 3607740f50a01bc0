#include "notify/github_pull_comment.hpp"

#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/json_read.hpp"

namespace shipgate::notify {

using nlohmann::json;

namespace {

constexpr int kPerPage = 100;
constexpr int kMaxPages = 10;

std::string marker_of(const std::string& project) { return "<!-- shipgate:" + project + " -->"; }

std::string outcome(const std::string& state) {
  if (state == "succeeded") return "succeeded";
  if (state == "pending_approval") return "waiting for approval";
  if (state == "rolled_back") return "failed, rolled back";
  return state;
}

// A table cell: a `|` would end it early, a line break would end the row.
std::string cell(std::string text) {
  std::string out;
  for (const char c : text) {
    if (c == '|') out += "\\|";
    else if (c != '\n' && c != '\r') out += c;
  }
  return out;
}

// The environment a row of shipgate's table is about: its first cell ("" for other lines).
std::string row_environment(const std::string& line) {
  if (line.rfind("| ", 0) != 0 || line.rfind("| environment ", 0) == 0) return "";
  const auto end = line.find(" |", 2);
  return end == std::string::npos ? "" : line.substr(2, end - 2);
}

http::OutboundRequest request(const std::string& method, std::string url, const std::string& ca_file,
                              const std::string& token, const std::string& user_agent) {
  http::OutboundRequest req;
  req.method = method;
  req.url = std::move(url);
  req.timeout = std::chrono::seconds(15);
  req.ca_file = ca_file;
  req.headers = {{"Authorization", "Bearer " + token},
                 {"Accept", "application/vnd.github+json"},
                 {"X-GitHub-Api-Version", "2022-11-28"},
                 {"User-Agent", user_agent}};
  return req;
}

}  // namespace

std::string pull_comment_body(std::string_view existing, const PullComment& c) {
  const std::string row = "| " + c.environment + " | " + outcome(c.state) + " | " + cell(c.version) + " | [deployment " +
                          std::to_string(c.deployment) + "](" + cell(c.link) + ") |";
  std::vector<std::string> rows;
  bool replaced = false;
  std::istringstream in{std::string(existing)};
  for (std::string line; std::getline(in, line);) {
    const auto env = row_environment(line);
    if (env.empty()) continue;
    rows.push_back(env == c.environment ? row : line);
    replaced = replaced || env == c.environment;
  }
  if (!replaced) rows.push_back(row);
  std::string body = marker_of(c.project) + "\n**shipgate** deploys `" + c.project + "` at " + c.sha.substr(0, 7) +
                     ", the commit this pull request was merged as:\n\n| environment | outcome | version | |\n|---|---|---|---|\n";
  for (const auto& r : rows) body += r + "\n";
  return body;
}

std::optional<std::int64_t> read_merged_pull(std::string_view body, std::string_view sha) {
  const auto pulls = json_read::parse(body);
  if (!pulls.is_array()) return std::nullopt;
  std::optional<std::int64_t> any;
  for (const auto& p : pulls) {
    const auto number = json_read::integer(p, "number", 0);
    if (number <= 0 || json_read::text(p, "merged_at").empty()) continue;
    if (json_read::text(p, "merge_commit_sha") == sha) return number;
    if (!any) any = number;
  }
  return any;
}

std::optional<std::pair<std::int64_t, std::string>> find_marked_comment(std::string_view body, std::string_view marker) {
  const auto comments = json_read::parse(body);
  if (!comments.is_array()) return std::nullopt;
  for (const auto& c : comments) {
    const auto text = json_read::text(c, "body");
    const auto id = json_read::integer(c, "id", 0);
    if (id > 0 && text.find(marker) != std::string::npos) return std::make_pair(id, text);
  }
  return std::nullopt;
}

boost::asio::awaitable<GithubReport> report_pull_comment(http::HttpClient& http, const std::string& api_url,
                                                         const std::string& ca_file, std::string token,
                                                         const PullComment& c, std::string user_agent) {
  GithubReport report;
  const std::string repo = api_url + "/repos/" + c.repository;
  auto pulls = co_await http.send(request("GET", repo + "/commits/" + c.sha + "/pulls", ca_file, token, user_agent));
  if (!pulls || pulls->status != 200) co_return failed_report(pulls, "finding the commit's pull request");
  const auto number = read_merged_pull(pulls->body, c.sha);
  if (!number) {
    report.delivered = true;  // no merged pull request: nothing to comment on
    co_return report;
  }
  const std::string issue = repo + "/issues/" + std::to_string(*number) + "/comments";
  std::optional<std::pair<std::int64_t, std::string>> mine;
  for (int page = 1; page <= kMaxPages && !mine; ++page) {
    const std::string url = issue + "?per_page=" + std::to_string(kPerPage) + "&page=" + std::to_string(page);
    auto listed = co_await http.send(request("GET", url, ca_file, token, user_agent));
    if (!listed || listed->status != 200) co_return failed_report(listed, "reading the pull request's comments");
    mine = find_marked_comment(listed->body, marker_of(c.project));
    const auto count = json_read::parse(listed->body);
    if (!count.is_array() || count.size() < static_cast<std::size_t>(kPerPage)) break;
  }
  auto write = mine ? request("PATCH", repo + "/issues/comments/" + std::to_string(mine->first), ca_file, token, user_agent)
                    : request("POST", issue, ca_file, token, user_agent);
  write.headers.emplace_back("Content-Type", "application/json");
  write.body = json{{"body", pull_comment_body(mine ? mine->second : "", c)}}.dump();
  auto written = co_await http.send(std::move(write));
  const int want = mine ? 200 : 201;
  if (!written || written->status != want) co_return failed_report(written, "writing the pull request comment");
  report.delivered = true;
  co_return report;
}

}  // namespace shipgate::notify
