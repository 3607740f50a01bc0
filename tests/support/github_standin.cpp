#include "tests/support/github_standin.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <regex>

#include "common/crypto.hpp"
#include "common/time_format.hpp"

namespace shipgate::testing {

using nlohmann::json;

namespace {

StandinReply github_error(int status, const std::string& message) {
  return {status, json{{"message", message}, {"documentation_url", "https://docs.github.com/rest"}}.dump()};
}

// base64url (no padding) as JWTs write it, decoded; nothing when malformed.
std::optional<std::string> base64url_decode(std::string text) {
  for (auto& c : text) {
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
    else if (c == '+' || c == '/' || c == '=') return std::nullopt;
  }
  while (text.size() % 4 != 0) text.push_back('=');
  return base64_decode(text);
}

bool rs256_valid(const std::string& public_key_pem, const std::string& signed_part, const std::string& signature) {
  BIO* bio = BIO_new_mem_buf(public_key_pem.data(), static_cast<int>(public_key_pem.size()));
  EVP_PKEY* key = bio ? PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (!key) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
                  EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                                   reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

}  // namespace

void GithubStandin::enable_app(std::string app_id, std::string public_key_pem, std::int64_t installation,
                               std::chrono::seconds token_life) {
  std::lock_guard lock(mutex_);
  app_id_ = std::move(app_id);
  app_public_key_ = std::move(public_key_pem);
  installation_ = installation;
  token_life_ = token_life;
}

int GithubStandin::tokens_issued() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(issued_.size());
}

void GithubStandin::issue_token(std::string token) {
  std::lock_guard lock(mutex_);
  fixed_token_ = std::move(token);
}

std::vector<std::string> GithubStandin::refusals() const {
  std::lock_guard lock(mutex_);
  return refusals_;
}

// GitHub's rules for an app's JWT: RS256 over header.claims with the app's key, `iss` the app id,
// `iat` not in the future (60 s of clock drift allowed), `exp` after now and at most 10 minutes after `iat`.
bool GithubStandin::jwt_ok(const std::string& authorization) {
  const auto refuse = [&](const std::string& why) { return refusals_.push_back("JWT: " + why), false; };
  if (authorization.rfind("Bearer ", 0) != 0) return refuse("not a Bearer credential");
  const std::string jwt = authorization.substr(7);
  const auto dot1 = jwt.find('.'), dot2 = jwt.rfind('.');
  if (dot1 == std::string::npos || dot1 == dot2) return refuse("not three parts");
  const auto header = base64url_decode(jwt.substr(0, dot1));
  const auto claims = base64url_decode(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
  const auto signature = base64url_decode(jwt.substr(dot2 + 1));
  if (!header || !claims || !signature) return refuse("not base64url");
  const auto h = json::parse(*header, nullptr, false);
  const auto c = json::parse(*claims, nullptr, false);
  if (!h.is_object() || h.value("alg", "") != "RS256") return refuse("alg is not RS256");
  if (!rs256_valid(app_public_key_, jwt.substr(0, dot2), *signature)) return refuse("the signature does not verify");
  if (!c.is_object() || !c.contains("iat") || !c.contains("exp") || !c["iat"].is_number_integer() || !c["exp"].is_number_integer())
    return refuse("iat and exp must be integers");
  const auto iss = c.contains("iss") ? (c["iss"].is_string() ? c["iss"].get<std::string>() : c["iss"].dump()) : "";
  if (iss != app_id_) return refuse("iss is not the app id");
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto iat = c["iat"].get<std::int64_t>(), exp = c["exp"].get<std::int64_t>();
  if (iat > now + 60) return refuse("iat is in the future");
  if (exp <= now) return refuse("expired");
  if (exp - iat > 600) return refuse("lives longer than 10 minutes");
  return true;
}

bool GithubStandin::token_ok(const std::string& authorization) {
  if (authorization == "Bearer " + token_ || authorization == "token " + token_) return true;
  const std::string token = authorization.substr(authorization.find(' ') + 1);
  const auto it = issued_.find(token);
  if (it == issued_.end()) return refusals_.push_back("token: not one issued"), false;
  if (it->second <= std::chrono::system_clock::now()) return refusals_.push_back("token: expired"), false;
  return true;
}

StandinReply GithubStandin::handle_app(const RecordedRequest& r) {
  if (!jwt_ok(r.header("Authorization")))
    return github_error(401, "A JSON web token could not be decoded");
  static const std::regex installation(R"(^/repos/([^/]+/[^/]+)/installation$)");
  static const std::regex tokens(R"(^/app/installations/([0-9]+)/access_tokens$)");
  std::smatch m;
  if (r.method == "GET" && std::regex_match(r.target, m, installation))
    return {200, json{{"id", installation_}, {"app_id", std::stoll(app_id_)}, {"target_type", "Organization"}}.dump()};
  if (r.method == "POST" && std::regex_match(r.target, m, tokens)) {
    if (std::stoll(m[1]) != installation_) return github_error(404, "Not Found");
    const std::string token = fixed_token_.empty() ? "ghs_standin" + std::to_string(issued_.size() + 1) + random_hex(8) : fixed_token_;
    const auto expires = std::chrono::system_clock::now() + token_life_;
    issued_[token] = expires;
    return {201, json{{"token", token}, {"expires_at", format_rfc3339_ms(std::chrono::duration_cast<std::chrono::milliseconds>(expires.time_since_epoch()).count())},
                      {"permissions", {{"deployments", "write"}, {"statuses", "write"}}}}.dump()};
  }
  return github_error(404, "Not Found");
}

GithubStandin::GithubStandin(std::string token)
    : token_(std::move(token)), server_([this](const RecordedRequest& r) { return handle(r); }) {}

std::vector<GithubStandin::Deployment> GithubStandin::deployments() const {
  std::lock_guard lock(mutex_);
  return deployments_;
}

std::vector<GithubStandin::CommitStatus> GithubStandin::commit_statuses() const {
  std::lock_guard lock(mutex_);
  return commit_statuses_;
}

void GithubStandin::add_merged_pull(const std::string& repository, std::int64_t number, const std::string& merge_sha) {
  std::lock_guard lock(mutex_);
  merged_[repository].emplace_back(number, merge_sha);
}

std::vector<GithubStandin::Comment> GithubStandin::comments(const std::string& repository, std::int64_t number) const {
  std::lock_guard lock(mutex_);
  const auto it = comments_.find(repository + "#" + std::to_string(number));
  return it == comments_.end() ? std::vector<Comment>{} : it->second;
}

// GET .../commits/{sha}/pulls, GET and POST .../issues/{n}/comments (paged by per_page and page), PATCH
// .../issues/comments/{id}: as GitHub answers them, with only the fields shipgate reads and a few more.
StandinReply GithubStandin::handle_pulls(const RecordedRequest& r) {
  static const std::regex pulls(R"(^/repos/([^/]+/[^/]+)/commits/([0-9a-f]{40})/pulls$)");
  static const std::regex list(R"(^/repos/([^/]+/[^/]+)/issues/([0-9]+)/comments(\?per_page=([0-9]+)&page=([0-9]+))?$)");
  static const std::regex edit(R"(^/repos/([^/]+/[^/]+)/issues/comments/([0-9]+)$)");
  std::smatch m;
  if (r.method == "GET" && std::regex_match(r.target, m, pulls)) {
    ++pull_lookups_[m[2]];
    json out = json::array();
    for (const auto& [number, sha] : merged_[m[1]])
      if (sha == m[2].str())
        out.push_back({{"number", number}, {"state", "closed"}, {"merged_at", "2026-12-07T10:00:00Z"}, {"merge_commit_sha", sha}});
    return {200, out.dump()};
  }
  const auto body = json::parse(r.body.empty() ? "{}" : r.body, nullptr, false);
  if (std::regex_match(r.target, m, list)) {
    auto& thread = comments_[m[1].str() + "#" + m[2].str()];
    if (r.method == "POST") {
      if (!body.is_object() || !body.contains("body") || !body["body"].is_string()) return github_error(422, "Validation Failed");
      thread.push_back({next_comment_++, body["body"], 0});
      return {201, json{{"id", thread.back().id}, {"body", thread.back().body}}.dump()};
    }
    const std::size_t per_page = m[4].matched ? std::stoul(m[4]) : 30, page = m[5].matched ? std::stoul(m[5]) : 1;
    json out = json::array();
    for (std::size_t i = (page - 1) * per_page; i < thread.size() && i < page * per_page; ++i)
      out.push_back({{"id", thread[i].id}, {"body", thread[i].body}, {"user", {{"login", "shipgate[bot]"}}}});
    return {200, out.dump()};
  }
  if (r.method == "PATCH" && std::regex_match(r.target, m, edit)) {
    for (auto& [key, thread] : comments_)
      for (auto& comment : thread)
        if (comment.id == std::stoll(m[2]) && key.rfind(m[1].str() + "#", 0) == 0) {
          comment.body = body.value("body", comment.body);
          ++comment.edits;
          return {200, json{{"id", comment.id}, {"body", comment.body}}.dump()};
        }
  }
  return github_error(404, "Not Found");
}

json GithubStandin::await_review(const std::string& repository, std::int64_t run_id, const std::string& environment,
                                 std::int64_t deployment_id, const std::string& sha, const std::string& creator) {
  {
    std::lock_guard lock(mutex_);
    waiting_[repository + "#" + std::to_string(run_id) + "#" + environment] = true;
  }
  const std::string run_url = url() + "/repos/" + repository + "/actions/runs/" + std::to_string(run_id);
  return {{"action", "requested"},
          {"environment", environment},
          {"event", "push"},
          {"sha", sha},
          {"ref", "refs/heads/main"},
          {"deployment_callback_url", run_url + "/deployment_protection_rule"},
          {"deployment", {{"id", deployment_id}, {"sha", sha}, {"ref", "main"}, {"task", "deploy"},
                          {"environment", environment}, {"original_environment", environment},
                          {"creator", {{"login", creator}, {"type", "User"}}},
                          {"url", url() + "/repos/" + repository + "/deployments/" + std::to_string(deployment_id)}}},
          {"pull_requests", json::array()},
          {"repository", {{"full_name", repository}, {"name", repository.substr(repository.find('/') + 1)}}},
          {"installation", {{"id", installation_}}},
          {"sender", {{"login", creator}}}};
}

json GithubStandin::deployment_status_event(const std::string& repository, std::int64_t deployment_id,
                                            const std::string& environment, const std::string& state) {
  return {{"action", "created"},
          {"deployment_status", {{"id", deployment_id * 10 + 1}, {"state", state}, {"environment", environment},
                                 {"description", "Deployment " + state}, {"creator", {{"login", "github-actions[bot]"}}},
                                 {"log_url", "https://github.example/" + repository + "/actions/runs/1/job/2"}}},
          {"deployment", {{"id", deployment_id}, {"environment", environment}, {"task", "deploy"}}},
          {"repository", {{"full_name", repository}}},
          {"sender", {{"login", "github-actions[bot]"}}}};
}

std::vector<GithubStandin::Review> GithubStandin::reviews() const {
  std::lock_guard lock(mutex_);
  return reviews_;
}

// Only the app answers its protection rule, once per run and environment.
StandinReply GithubStandin::handle_review(const std::string& repository, std::int64_t run_id, const RecordedRequest& r) {
  const std::string authorization = r.header("Authorization");
  const std::string token = authorization.substr(authorization.find(' ') + 1);
  if (!issued_.count(token) || !token_ok(authorization)) return github_error(401, "Bad credentials");
  const auto body = json::parse(r.body, nullptr, false);
  if (!body.is_object() || !body.contains("environment_name") || !body["environment_name"].is_string())
    return github_error(422, "Invalid request. \"environment_name\" wasn't supplied.");
  const std::string state = body.value("state", "");
  if (state != "approved" && state != "rejected") return github_error(422, "Validation Failed: state is not included in the list");
  auto it = waiting_.find(repository + "#" + std::to_string(run_id) + "#" + body["environment_name"].get<std::string>());
  if (it == waiting_.end() || !it->second) return github_error(422, "No pending deployment requests to approve or reject");
  it->second = false;
  reviews_.push_back({repository, run_id, body["environment_name"], state, body.value("comment", ""), authorization});
  return {204, ""};
}

int GithubStandin::pull_lookups(const std::string& sha) const {
  std::lock_guard lock(mutex_);
  const auto it = pull_lookups_.find(sha);
  return it == pull_lookups_.end() ? 0 : it->second;
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
  const bool to_the_app = r.target.rfind("/app/", 0) == 0 ||
                          (r.target.size() > 13 && r.target.compare(r.target.size() - 13, 13, "/installation") == 0);
  if (!app_id_.empty() && to_the_app) return handle_app(r);
  if (!token_ok(r.header("Authorization"))) return github_error(401, "Bad credentials");
  static const std::regex review(R"(^/repos/([^/]+/[^/]+)/actions/runs/([0-9]+)/deployment_protection_rule$)");
  if (std::smatch run; r.method == "POST" && std::regex_match(r.target, run, review))
    return handle_review(run[1], std::stoll(run[2]), r);
  if (r.target.find("/pulls") != std::string::npos || r.target.find("/issues/") != std::string::npos) return handle_pulls(r);
  static const std::regex create(R"(^/repos/([^/]+/[^/]+)/deployments$)");
  static const std::regex status(R"(^/repos/([^/]+/[^/]+)/deployments/([0-9]+)/statuses$)");
  std::smatch m;
  if (r.method != "POST") return github_error(404, "Not Found");
  const auto body = json::parse(r.body, nullptr, false);
  if (!body.is_object()) return github_error(400, "Problems parsing JSON");
  static const std::regex commit(R"(^/repos/([^/]+/[^/]+)/statuses/([0-9a-f]{40})$)");
  if (std::regex_match(r.target, m, commit)) {
    // POST /repos/{owner}/{repo}/statuses/{sha}: state is one of error, failure, pending, success.
    static const std::vector<std::string> states = {"error", "failure", "pending", "success"};
    const std::string state = body.value("state", "");
    if (std::find(states.begin(), states.end(), state) == states.end())
      return github_error(422, "Validation Failed: state is not included in the list");
    commit_statuses_.push_back({m[1], m[2], state, body.value("context", "default"), body.value("description", ""),
                                body.value("target_url", "")});
    return {201, json{{"id", static_cast<std::int64_t>(commit_statuses_.size())}, {"state", state},
                      {"context", commit_statuses_.back().context}}.dump()};
  }
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
      d.environment_urls.push_back(body.value("environment_url", ""));
      return {201, json{{"id", static_cast<std::int64_t>(d.states.size())}, {"state", state},
                        {"environment", body.value("environment", d.environment)}}.dump()};
    }
    return github_error(404, "Not Found");
  }
  return github_error(404, "Not Found");
}

}  // namespace shipgate::testing
