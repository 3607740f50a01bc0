#include "handlers/intake.hpp"

#include <spdlog/spdlog.h>

#include "common/logging.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/text.hpp"
#include "handlers/signature.hpp"
#include "domain/gate_policy.hpp"

namespace shipgate::handlers {

using nlohmann::json;

bool read_version_request(const boost::json::object& body, orchestration::VersionRequest& out, std::string& error) {
  for (const char* key : {"environment", "version", "sha", "ref"}) {
    const auto* v = body.if_contains(key);
    if (v && !v->is_null() && !v->is_string()) {
      error = std::string(key) + " must be a string";
      return false;
    }
  }
  if (auto e = str(body, "environment"); !e.empty()) out.environment = e;
  out.version = str(body, "version");
  out.sha = to_lower(str(body, "sha"));
  out.ref = str(body, "ref");
  if (const auto* images = body.if_contains("images"); images && !images->is_null()) {
    if (!images->is_object()) {
      error = "images must be an object of component -> image reference";
      return false;
    }
    for (const auto& [component, image] : images->get_object()) {
      const std::string name(component.data(), component.size());
      if (!image.is_string()) {
        error = "images." + name + " must be a string";
        return false;
      }
      out.images[name] = std::string(image.get_string().data(), image.get_string().size());
    }
  }
  return true;
}

Response unavailable(std::string_view message) {
  auto r = error_response(503, "unavailable", message);
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

namespace {

// Bodies are hashed and read in slices of this size, with a yield between slices: a 25 MB body must not
// hold a server thread (and every health check queued behind it) for tens of milliseconds.
constexpr std::size_t kSlice = 256 * 1024;

boost::asio::awaitable<void> yield_to_others() {
  co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
}

// The index of the first secret whose HMAC of `body` `header` presents (already checked for shape), or -1,
// hashing a slice at a time.
boost::asio::awaitable<int> first_matching(std::string_view header, const std::vector<std::string_view>& secrets,
                                           std::string_view body) {
  SecretsMac macs(secrets);
  for (std::size_t at = 0; at < body.size(); at += kSlice) {
    macs.update(body.substr(at, kSlice));
    if (at + kSlice < body.size()) co_await yield_to_others();
  }
  co_return macs.first_match(header);
}

}  // namespace

boost::asio::awaitable<std::string> read_claimed_project(const config::Config& config, std::string_view text,
                                                         ClaimBy by) {
  PushFields fields;
  PushFieldsReader reader(fields);
  for (std::size_t at = 0; at <= text.size(); at += kSlice) {
    const bool last = at + kSlice >= text.size();
    if (!reader.write(text.substr(at, kSlice), last)) co_return std::string();
    if (last) break;
    co_await yield_to_others();
  }
  if (reader.result() != JsonCheck::ok) co_return std::string();
  const auto* p = by == ClaimBy::repository ? config.project_by_repository(fields.repository) : config.project(fields.project);
  co_return p ? p->name : std::string();
}

boost::asio::awaitable<bool> verify_webhook(const config::Config& config, const Request& request,
                                            const ClaimedProject& claimed_project, std::string& project,
                                            Response& error) {
  const std::string_view header = request.header("X-Hub-Signature-256");
  SignatureCheck status = signature_shape(header);
  if (status == SignatureCheck::valid) {
    const std::vector<std::string_view> globals(config.github.secrets.begin(), config.github.secrets.end());
    if (co_await first_matching(header, globals, request.body) >= 0) {
      project.clear();
      co_return true;
    }
    if (config.any_project_secret()) {
      const std::string claimed = co_await claimed_project();
      const auto* p = config.project(claimed);
      const std::vector<std::string_view> own = {p ? std::string_view(p->secret) : std::string_view()};
      if (p && !p->secret.empty() && co_await first_matching(header, own, request.body) == 0) {
        project = p->name;
        co_return true;
      }
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
  co_return false;
}

namespace {

// The 202 a delivery gets (and a redelivery gets again): what it created, reused or skipped.
orchestration::StoredResponse accepted_answer(const std::string& key,
                                              const std::vector<orchestration::IngestedDeployment>& created) {
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
}

}  // namespace

boost::asio::awaitable<Response> accept_plan(const App& app, const Request& request, std::string delivery_key,
                                             std::string source, orchestration::Plan plan) {
  if (!plan.error.empty()) {
    if (!plan.invalid.empty() && app.metrics) app.metrics->rejected_input(plan.invalid);
    co_return error_response(400, "invalid", plan.error);
  }
  if (plan.deployments.empty())
    co_return json_response(200, {{"message", plan.ignored}, {"ignored", true}, {"deployments", json::array()}});

  orchestration::adopt_config(*app.config(), plan.deployments, app.clock->now());
  orchestration::IngestRequest ingest;
  ingest.delivery_key = delivery_key;
  ingest.mark_bad = std::move(plan.mark_bad);
  ingest.audit = std::move(plan.audit);
  ingest.source = std::move(source);
  ingest.deployments = std::move(plan.deployments);
  ingest.respond = [key = delivery_key](const std::vector<orchestration::IngestedDeployment>& created) {
    return accepted_answer(key, created);
  };
  auto result = co_await app.store->ingest(std::move(ingest));
  if (!result) {
    log_with(spdlog::level::err, {.request_id = request.request_id}, "{}: not accepted: {}", delivery_key, result.error().message());
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
    r.duplicate = true;
    log_with(spdlog::level::info, {.request_id = request.request_id}, "{}: repeated delivery, answered as before", delivery_key);
    co_return r;
  }
  for (const auto& d : result->deployments) {
    if (!d.skipped.empty()) {
      log_with(spdlog::level::warn, {.request_id = request.request_id}, "{}/{} version {} not deployed: {}", d.project, d.environment, d.version, d.skipped);
      continue;
    }
    log_with(spdlog::level::info, {.request_id = request.request_id, .deployment = d.id}, "deployment {} {} {}/{} version {}", d.id, d.reused ? "exists" : "created", d.project, d.environment, d.version);
    if (d.state == orchestration::State::queued) app.dispatcher->notify(d.project, d.environment);
  }
  co_return r;
}

}  // namespace shipgate::handlers
