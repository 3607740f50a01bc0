#include "handlers/intake.hpp"

#include <spdlog/spdlog.h>

#include "common/text.hpp"
#include "handlers/signature.hpp"
#include "orchestration/gate_policy.hpp"

namespace shipgate::handlers {

using nlohmann::json;

namespace {

// Depth of [ and { outside strings; rejects hostile nesting before the recursive parser sees it.
bool depth_ok(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

}  // namespace

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string nested_str(const json& j, const char* outer, const char* inner) {
  auto it = j.find(outer);
  return it != j.end() && it->is_object() ? str(*it, inner) : std::string();
}

bool read_version_request(const json& body, orchestration::VersionRequest& out, std::string& error) {
  for (const char* key : {"environment", "version", "sha", "ref"}) {
    auto it = body.find(key);
    if (it != body.end() && !it->is_null() && !it->is_string()) {
      error = std::string(key) + " must be a string";
      return false;
    }
  }
  if (auto e = str(body, "environment"); !e.empty()) out.environment = e;
  out.version = str(body, "version");
  out.sha = to_lower(str(body, "sha"));
  out.ref = str(body, "ref");
  if (auto it = body.find("images"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) {
      error = "images must be an object of component -> image reference";
      return false;
    }
    for (auto img = it->begin(); img != it->end(); ++img) {
      if (!img->is_string()) {
        error = "images." + img.key() + " must be a string";
        return false;
      }
      out.images[img.key()] = img->get<std::string>();
    }
  }
  return true;
}

Response unavailable(std::string_view message) {
  auto r = error_response(503, "unavailable", message);
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

Response json_error(JsonCheck check) {
  switch (check) {
    case JsonCheck::too_deep:
      return error_response(400, "malformed", "JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    case JsonCheck::not_object: return error_response(400, "malformed", "body must be a JSON object");
    default: return error_response(400, "malformed", "body is not valid JSON");
  }
}

std::optional<json> parse_json(std::string_view text, Response& error) {
  if (!depth_ok(text, kMaxJsonDepth)) {
    error = json_error(JsonCheck::too_deep);
    return std::nullopt;
  }
  // nlohmann's parser stops at a NUL byte as if the text ended there, so "{}\0junk" would pass; a raw
  // NUL is invalid anywhere in JSON text.
  if (text.find('\0') != std::string_view::npos) {
    error = json_error(JsonCheck::malformed);
    return std::nullopt;
  }
  auto doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) {
    error = json_error(JsonCheck::malformed);
    return std::nullopt;
  }
  if (!doc.is_object()) {
    error = json_error(JsonCheck::not_object);
    return std::nullopt;
  }
  return doc;
}

bool verify_webhook(const config::Config& config, const Request& request,
                    const std::function<std::string()>& claimed_project, std::string& project, Response& error) {
  const std::string_view header = request.header("X-Hub-Signature-256");
  SignatureCheck status = signature_shape(header);
  if (status == SignatureCheck::valid) {
    const std::vector<std::string_view> globals(config.github.secrets.begin(), config.github.secrets.end());
    SignatureCheck ignored;
    if (verify_any(header, globals, request.body, ignored) >= 0) {
      project.clear();
      return true;
    }
    const auto* p = config.project(claimed_project());
    if (p && !p->secret.empty() && verify_signature(header, p->secret, request.body) == SignatureCheck::valid) {
      project = p->name;
      return true;
    }
    status = SignatureCheck::mismatch;
  }
  switch (status) {
    case SignatureCheck::missing:
      error = error_response(401, "bad_signature", "missing X-Hub-Signature-256 header");
      break;
    case SignatureCheck::malformed:
      error = error_response(401, "bad_signature", "X-Hub-Signature-256 must be sha256= followed by 64 hex digits");
      break;
    default:
      error = error_response(401, "bad_signature", "signature does not match any configured secret");
  }
  return false;
}

boost::asio::awaitable<Response> accept_plan(const App& app, const Request& request, std::string delivery_key,
                                             std::string source, orchestration::Plan plan) {
  if (!plan.error.empty()) co_return error_response(400, "invalid", plan.error);
  if (plan.deployments.empty())
    co_return json_response(200, {{"message", plan.ignored}, {"ignored", true}, {"deployments", json::array()}});

  const auto config = app.config();
  for (auto& nd : plan.deployments) {
    nd.config_sha = config->source_sha256;  // it runs with this generation's targets, even after a reload
    const auto* project = config->project(nd.project);
    const auto* env = project ? project->environment(nd.environment) : nullptr;
    if (env && nd.priority == 0 && nd.trigger != "rollback" && nd.trigger != "override")
      orchestration::apply_approval_policy(nd, *env, app.clock->now());
  }
  orchestration::IngestRequest ingest;
  ingest.delivery_key = delivery_key;
  ingest.mark_bad = std::move(plan.mark_bad);
  ingest.audit = std::move(plan.audit);
  ingest.source = std::move(source);
  ingest.deployments = std::move(plan.deployments);
  ingest.respond = [key = delivery_key](const std::vector<orchestration::IngestedDeployment>& created) {
    json list = json::array();
    for (const auto& d : created) {
      if (!d.skipped.empty()) {
        list.push_back({{"project", d.project}, {"environment", d.environment}, {"version", d.version},
                        {"skipped", d.skipped}});
        continue;
      }
      json item = {{"id", d.id}, {"project", d.project}, {"environment", d.environment},
                   {"state", orchestration::to_string(d.state)}, {"version", d.version}};
      if (d.reused) item["existing"] = true;
      if (!d.superseded.empty()) item["superseded"] = d.superseded;
      list.push_back(std::move(item));
    }
    return orchestration::StoredResponse{202, json{{"delivery", key}, {"deployments", list}}.dump()};
  };
  auto result = co_await app.store->ingest(std::move(ingest));
  if (!result) {
    spdlog::error("[{}] {}: not accepted: {}", request.request_id, delivery_key, result.error().message());
    if (result.error() == orchestration::StoreErrc::overloaded) {
      auto r = error_response(503, "overloaded", "too many writes waiting for the store; nothing was accepted, retry shortly");
      r.headers.emplace_back("Retry-After", "1");
      co_return r;
    }
    co_return unavailable("could not store the request (" + result.error().message() + "); nothing was accepted");
  }
  Response r;
  r.status = result->response.status;
  r.body = result->response.body;
  if (result->duplicate) {
    r.headers.emplace_back("X-Shipgate-Duplicate", "true");
    spdlog::info("[{}] {}: repeated delivery, answered as before", request.request_id, delivery_key);
    co_return r;
  }
  for (const auto& d : result->deployments) {
    if (!d.skipped.empty()) {
      spdlog::warn("[{}] {}/{} version {} not deployed: {}", request.request_id, d.project, d.environment, d.version, d.skipped);
      continue;
    }
    spdlog::info("[{}] deployment {} {} {}/{} version {}", request.request_id, d.id, d.reused ? "exists" : "created",
                 d.project, d.environment, d.version);
    if (d.state == orchestration::State::queued) app.dispatcher->notify(d.project, d.environment);
  }
  co_return r;
}

}  // namespace shipgate::handlers
