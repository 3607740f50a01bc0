#include "tests/support/dokploy_standin.hpp"

#include <chrono>

namespace shipgate::testing {

using nlohmann::json;

namespace {
StandinReply message(int status, const std::string& text, const std::string& code = {}) {
  json body = {{"message", text}};
  if (!code.empty()) body["code"] = code;
  return {status, body.dump()};
}

std::string now_iso() {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count());
}
}  // namespace

DokployStandin::DokployStandin(std::string api_key, std::uint16_t port)
    : api_key_(std::move(api_key)),
      server_(
          [this](const RecordedRequest& r) {
            auto reply = handle(r);
            Observer observer;
            {
              std::lock_guard lock(observer_mutex_);
              observer = observer_;
            }
            if (observer) observer(r, reply);
            return reply;
          },
          port) {}

void DokployStandin::observe(Observer observer) {
  std::lock_guard lock(observer_mutex_);
  observer_ = std::move(observer);
}

void DokployStandin::add_app(const std::string& id, App app) {
  std::lock_guard lock(mutex_);
  apps_[id] = app;
}

void DokployStandin::add_deploy_token(const std::string& token, const std::string& branch) {
  std::lock_guard lock(mutex_);
  tokens_[token] = branch;
}

DokployStandin::App DokployStandin::app(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = apps_.find(id);
  return it == apps_.end() ? App{} : it->second;
}

std::vector<std::string> DokployStandin::deployed_images(const std::string& id) {
  std::lock_guard lock(mutex_);
  return deployed_images_[id];
}

json DokployStandin::jobs(const std::string& app_id) {
  std::lock_guard lock(mutex_);
  auto it = jobs_.find(app_id);
  return it == jobs_.end() ? json::array() : it->second;
}

StandinReply DokployStandin::handle(const RecordedRequest& r) {
  const auto q = r.target.find('?');
  const std::string path = r.target.substr(0, q);
  const std::string query = q == std::string::npos ? std::string() : r.target.substr(q + 1);
  if (path.rfind("/api/deploy/", 0) == 0) {
    // Deploy-URL mode: no API key; the token in the path is the only protection.
    std::string token = path.substr(std::string("/api/deploy/").size());
    if (token.rfind("compose/", 0) == 0) token = token.substr(8);
    std::lock_guard lock(mutex_);
    auto it = tokens_.find(token);
    if (it == tokens_.end()) return message(404, "Application not found");
    if (r.header("X-GitHub-Event") == "ping") return message(200, "Ping received");
    auto body = json::parse(r.body, nullptr, false);
    std::string ref = body.is_object() ? body.value("ref", "") : "";
    const std::string branch = ref.rfind("refs/heads/", 0) == 0 ? ref.substr(11) : ref;
    if (branch != it->second) return message(301, "Branch Not Match");
    return message(200, "Application deployed successfully");
  }
  if (path == "/release") return message(200, "release hook received");  // generic http target demo
  if (r.header("x-api-key") != api_key_) return message(401, "Unauthorized");
  if (r.method == "POST") {
    if (r.header("Content-Type").rfind("application/json", 0) != 0)
      return message(415, "Unsupported content type", "UNSUPPORTED_MEDIA_TYPE");
    if (path == "/api/application.deploy" || path == "/api/application.redeploy") return deploy("applicationId", r);
    if (path == "/api/compose.deploy" || path == "/api/compose.redeploy") return deploy("composeId", r);
    if (path == "/api/application.saveDockerProvider" || path == "/api/application.saveEnvironment" ||
        path == "/api/compose.saveEnvironment")
      return save(path, r);
    if (path == "/api/compose.update") return update_compose(r);
    return message(404, "Not found", "NOT_FOUND");
  }
  if (r.method == "GET" && path == "/api/application.one") return one(query_value(query, "applicationId"), false);
  if (r.method == "GET" && path == "/api/compose.one") return one(query_value(query, "composeId"), true);
  if (r.method == "GET" && path == "/api/deployment.all") return list(query_value(query, "applicationId"));
  if (r.method == "GET" && path == "/api/deployment.allByCompose") return list(query_value(query, "composeId"));
  return message(404, "Not found", "NOT_FOUND");
}

StandinReply DokployStandin::deploy(const std::string& id_field, const RecordedRequest& r) {
  auto body = json::parse(r.body, nullptr, false);
  if (!body.is_object() || !body.contains(id_field) || !body[id_field].is_string())
    return message(400, "Invalid input: " + id_field + " is required", "BAD_REQUEST");
  const std::string id = body[id_field].get<std::string>();
  std::lock_guard lock(mutex_);
  auto app = apps_.find(id);
  if (app == apps_.end() && accept_any_) app = apps_.emplace(id, App{}).first;
  if (app == apps_.end() || app->second.compose != (id_field == "composeId"))
    return message(404, id_field == "composeId" ? "Compose not found" : "Application not found", "NOT_FOUND");
  const std::string deployment_id = "dpl_" + std::to_string(next_id_++);
  json row = {{"deploymentId", deployment_id},
              {"title", body.value("title", "Manual deployment")},
              {"description", body.value("description", "")},
              {"status", "running"},
              {"createdAt", now_iso()},
              {"finishedAt", nullptr},
              {"errorMessage", nullptr},
              {id_field, id}};
  auto& list = jobs_[id];
  if (!list.is_array()) list = json::array();
  list.insert(list.begin(), row);
  deployed_images_[id].push_back(app->second.docker_image);
  ticks_left_[deployment_id] = app->second.ticks;
  return {200, ""};
}

StandinReply DokployStandin::one(const std::string& id, bool compose) {
  std::lock_guard lock(mutex_);
  auto app = apps_.find(id);
  if (app == apps_.end() && accept_any_ && !compose) app = apps_.emplace(id, App{}).first;
  if (app == apps_.end() || app->second.compose != compose)
    return message(404, compose ? "Compose not found" : "Application not found", "NOT_FOUND");
  const App& a = app->second;
  if (compose)
    return {200, json{{"composeId", id}, {"name", id}, {"env", a.env}, {"sourceType", a.compose_file.empty() ? "github" : "raw"},
                      {"composeFile", a.compose_file}}.dump()};
  return {200, json{{"applicationId", id}, {"name", id}, {"sourceType", a.source_type},
                    {"dockerImage", a.docker_image.empty() ? json(nullptr) : json(a.docker_image)},
                    {"username", a.username}, {"password", "registry-password"}, {"registryUrl", "ghcr.io"},
                    {"env", a.env}, {"buildArgs", "NODE_ENV=production"}, {"buildSecrets", nullptr},
                    {"createEnvFile", true}, {"applicationStatus", "done"}}.dump()};
}

// Dokploy's input schemas for these calls make every field they replace required (null allowed).
StandinReply DokployStandin::save(const std::string& path, const RecordedRequest& r) {
  auto body = json::parse(r.body, nullptr, false);
  const bool compose = path == "/api/compose.saveEnvironment";
  const char* id_field = compose ? "composeId" : "applicationId";
  std::vector<const char*> required = {id_field};
  if (path == "/api/application.saveDockerProvider") required = {id_field, "dockerImage", "username", "password", "registryUrl"};
  if (path == "/api/application.saveEnvironment") required = {id_field, "env", "buildArgs", "buildSecrets", "createEnvFile"};
  if (path == "/api/compose.saveEnvironment") required = {id_field, "env"};
  if (!body.is_object()) return message(400, "Invalid input", "BAD_REQUEST");
  for (const char* key : required)
    if (!body.contains(key)) return message(400, std::string("Invalid input: ") + key + " is required", "BAD_REQUEST");
  if (!body[id_field].is_string()) return message(400, std::string("Invalid input: ") + id_field, "BAD_REQUEST");
  std::lock_guard lock(mutex_);
  auto app = apps_.find(body[id_field].get<std::string>());
  if (app == apps_.end() || app->second.compose != compose)
    return message(404, compose ? "Compose not found" : "Application not found", "NOT_FOUND");
  if (path == "/api/application.saveDockerProvider") {
    if (!body["dockerImage"].is_string()) return message(400, "Invalid input: dockerImage", "BAD_REQUEST");
    app->second.docker_image = body["dockerImage"].get<std::string>();
    app->second.source_type = "docker";
    app->second.username = body["username"].is_string() ? body["username"].get<std::string>() : "";
  } else {
    if (!body["env"].is_string()) return message(400, "Invalid input: env", "BAD_REQUEST");
    app->second.env = body["env"].get<std::string>();
  }
  return {200, "true"};
}

// compose.update: composeId is required, every other field optional (composeFile a string).
StandinReply DokployStandin::update_compose(const RecordedRequest& r) {
  auto body = json::parse(r.body, nullptr, false);
  if (!body.is_object() || !body.contains("composeId") || !body["composeId"].is_string())
    return message(400, "Invalid input: composeId is required", "BAD_REQUEST");
  if (body.contains("composeFile") && !body["composeFile"].is_string())
    return message(400, "Invalid input: composeFile", "BAD_REQUEST");
  std::lock_guard lock(mutex_);
  auto app = apps_.find(body["composeId"].get<std::string>());
  if (app == apps_.end() || !app->second.compose) return message(404, "Compose not found", "NOT_FOUND");
  if (body.contains("composeFile")) app->second.compose_file = body["composeFile"].get<std::string>();
  return {200, "true"};
}

StandinReply DokployStandin::list(const std::string& app_id) {
  std::lock_guard lock(mutex_);
  auto app = apps_.find(app_id);
  if (app == apps_.end()) return message(404, "Application not found", "NOT_FOUND");
  auto& list = jobs_[app_id];
  if (!list.is_array()) list = json::array();
  for (auto& row : list) {
    if (row["status"] != "running") continue;
    int& left = ticks_left_[row["deploymentId"].get<std::string>()];
    if (left > 0 || app->second.outcome == "never") {
      --left;
      continue;
    }
    row["status"] = app->second.outcome;
    row["finishedAt"] = now_iso();
    if (app->second.outcome == "error") row["errorMessage"] = app->second.error_message;
  }
  return {200, list.dump()};
}

}  // namespace shipgate::testing
