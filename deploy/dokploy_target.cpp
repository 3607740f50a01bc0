// Dokploy, in two modes (docs/protocols.md section 2):
//  - API mode: POST application.deploy / compose.deploy with x-api-key and a marker in the title and
//    description, then poll deployment.all / deployment.allByCompose for the row carrying the marker
//    until it is done (success) or error/cancelled (failure).
//  - Deploy-URL mode: POST a GitHub-style push payload to the per-application URL; only a 2xx is a
//    success (Dokploy answers 301 "Branch Not Match" and similar with a message).
#include "deploy/dokploy_target.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace shipgate::deploy {
namespace {

namespace asio = boost::asio;
using nlohmann::json;

std::string message_of(const HttpResult& r) {
  if (r) {
    auto body = json::parse(r->body, nullptr, false);
    if (body.is_object() && body.contains("message") && body["message"].is_string())
      return "HTTP " + std::to_string(r->status) + ": " + body["message"].get<std::string>();
  }
  return describe_failure(r);
}

class DokployTarget final : public DeployTarget {
 public:
  DokployTarget(config::DokployTargetConfig cfg, std::shared_ptr<HttpClient> http)
      : cfg_(std::move(cfg)), http_(std::move(http)) {}

  std::string describe() const override {
    if (!cfg_.deploy_url.empty()) return "dokploy deploy-url";
    return "dokploy " + cfg_.url + (compose() ? " compose " + cfg_.compose_id : " application " + cfg_.application_id);
  }

  asio::awaitable<TargetOutcome> deploy(const DeployContext& ctx) override {
    if (!cfg_.deploy_url.empty()) co_return co_await deploy_url(ctx);
    const auto deadline = std::chrono::steady_clock::now() + cfg_.timeout;
    json body = {{compose() ? "composeId" : "applicationId", compose() ? cfg_.compose_id : cfg_.application_id},
                 {"title", title(ctx)},
                 {"description", description(ctx)}};
    auto request = api_request("POST", compose() ? "/api/compose.deploy" : "/api/application.deploy", body.dump());
    auto res = co_await http_->send(std::move(request));
    if (!res || res->status != 200)
      co_return TargetOutcome{false, "dokploy deploy refused: " + message_of(res)};
    co_return co_await watch(ctx, deadline);
  }

  asio::awaitable<TargetOutcome> resume(const DeployContext& ctx) override {
    if (!cfg_.deploy_url.empty()) co_return co_await deploy(ctx);
    // If Dokploy already has our job, keep watching it instead of deploying a second time.
    auto rows = co_await list_rows();
    if (rows && find_row(*rows, ctx)) {
      const auto deadline = std::chrono::steady_clock::now() + cfg_.timeout;
      co_return co_await watch(ctx, deadline);
    }
    co_return co_await deploy(ctx);
  }

 private:
  bool compose() const { return !cfg_.compose_id.empty(); }

  static std::string title(const DeployContext& ctx) {
    return "shipgate #" + std::to_string(ctx.deployment_id) + " " + ctx.project + "/" + ctx.environment + " " + ctx.version;
  }
  // The marker ends with ';' so deployment 4 never matches deployment 42's row.
  static std::string marker_text(const DeployContext& ctx) { return "shipgate-deployment=" + ctx.marker + ";"; }
  static std::string description(const DeployContext& ctx) {
    return marker_text(ctx) + " version=" + ctx.version + "; sha=" + ctx.sha;
  }

  OutboundRequest api_request(std::string method, std::string path, std::string body = {}) const {
    OutboundRequest req;
    req.method = std::move(method);
    req.url = cfg_.url + path;
    req.headers.emplace_back("x-api-key", cfg_.api_key);
    req.headers.emplace_back("Accept", "application/json");
    if (!body.empty()) {
      req.headers.emplace_back("Content-Type", "application/json");
      req.body = std::move(body);
    }
    req.timeout = std::min(cfg_.timeout, Millis(30'000));
    req.ca_file = cfg_.tls.ca_file;
    return req;
  }

  asio::awaitable<boost::system::result<json>> list_rows() {
    const std::string path = compose() ? "/api/deployment.allByCompose?composeId=" + cfg_.compose_id
                                       : "/api/deployment.all?applicationId=" + cfg_.application_id;
    auto request = api_request("GET", path);
    auto res = co_await http_->send(std::move(request));
    if (!res) co_return res.error();
    if (res->status != 200) {
      last_error_ = message_of(res);
      co_return make_error_code(boost::system::errc::protocol_error);
    }
    auto rows = json::parse(res->body, nullptr, false);
    if (!rows.is_array()) {
      last_error_ = "deployment list is not a JSON array";
      co_return make_error_code(boost::system::errc::bad_message);
    }
    co_return rows;
  }

  static const json* find_row(const json& rows, const DeployContext& ctx) {
    const std::string marker = marker_text(ctx);
    for (const auto& row : rows) {
      if (!row.is_object()) continue;
      for (const char* field : {"description", "title"}) {
        auto it = row.find(field);
        if (it != row.end() && it->is_string() && it->get_ref<const std::string&>().find(marker) != std::string::npos)
          return &row;
      }
    }
    return nullptr;
  }

  asio::awaitable<TargetOutcome> watch(const DeployContext& ctx, std::chrono::steady_clock::time_point deadline) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    // A job row normally appears at once; give it a bounded grace before calling it lost.
    const auto appear_deadline = std::chrono::steady_clock::now() + std::min(cfg_.timeout, Millis(120'000));
    std::string last_status;
    for (;;) {
      auto rows = co_await list_rows();
      if (!rows && rows.error() == boost::system::errc::protocol_error)
        co_return TargetOutcome{false, "dokploy status check refused: " + last_error_};
      if (rows) {
        if (const json* row = find_row(*rows, ctx)) {
          last_status = row->value("status", "");
          TargetOutcome out;
          out.details = {{"dokploy_deployment_id", row->value("deploymentId", "")}, {"status", last_status}};
          if (last_status == "done") {
            out.ok = true;
            out.message = "dokploy deployment done";
            co_return out;
          }
          if (last_status == "error" || last_status == "cancelled") {
            const auto it = row->find("errorMessage");
            const std::string why = it != row->end() && it->is_string() ? it->get<std::string>() : "";
            out.message = "dokploy deployment " + last_status + (why.empty() ? "" : ": " + why);
            co_return out;
          }
        } else if (std::chrono::steady_clock::now() > appear_deadline) {
          co_return TargetOutcome{false, "dokploy accepted the deploy but shows no job with marker " + marker_text(ctx)};
        }
      }
      if (std::chrono::steady_clock::now() + cfg_.poll_interval > deadline)
        co_return TargetOutcome{false, "dokploy deployment still '" + (last_status.empty() ? "unknown" : last_status) +
                                           "' after " + std::to_string(cfg_.timeout.count() / 1000) + "s"};
      timer.expires_after(cfg_.poll_interval);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

  asio::awaitable<TargetOutcome> deploy_url(const DeployContext& ctx) {
    const std::string branch = ctx.branch.empty() ? "main" : ctx.branch;
    json commit = {{"id", ctx.sha}, {"message", title(ctx)}, {"added", json::array()},
                   {"modified", json::array()}, {"removed", json::array()}};
    json payload = {{"ref", "refs/heads/" + branch},
                    {"after", ctx.sha},
                    {"head_commit", commit},
                    {"commits", json::array({commit})},
                    {"repository", {{"full_name", ctx.repository}}}};
    OutboundRequest req;
    req.method = "POST";
    req.url = cfg_.deploy_url;
    req.headers = {{"Content-Type", "application/json"}, {"X-GitHub-Event", "push"}};
    req.body = payload.dump();
    req.timeout = std::min(cfg_.timeout, Millis(60'000));
    req.ca_file = cfg_.tls.ca_file;
    auto res = co_await http_->send(std::move(req));
    TargetOutcome out;
    if (res) out.details["status"] = res->status;
    out.ok = res && res->status >= 200 && res->status < 300;
    out.message = out.ok ? "dokploy accepted the deploy" : "dokploy deploy URL refused: " + message_of(res);
    co_return out;
  }

  config::DokployTargetConfig cfg_;
  std::shared_ptr<HttpClient> http_;
  std::string last_error_;
};

}  // namespace

std::unique_ptr<DeployTarget> make_dokploy_target(const config::DokployTargetConfig& cfg,
                                                  std::shared_ptr<HttpClient> http) {
  return std::make_unique<DokployTarget>(cfg, std::move(http));
}

}  // namespace shipgate::deploy
