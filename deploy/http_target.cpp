#include "deploy/http_target.hpp"

#include "common/crypto.hpp"
#include "common/text.hpp"

namespace shipgate::deploy {
namespace {

class HttpTarget final : public DeployTarget {
 public:
  HttpTarget(config::HttpTargetConfig cfg, std::shared_ptr<http::HttpClient> http)
      : cfg_(std::move(cfg)), http_(std::move(http)) {}

  std::string describe() const override { return "http " + cfg_.method + " " + url_origin(cfg_.url); }

  boost::asio::awaitable<TargetOutcome> deploy(const DeployContext& ctx) override {
    std::string missing;
    // Values are percent-encoded where they land in the URL: a version can never add a path or a query.
    const auto url = config::expand_template(cfg_.url, ctx.vars, &missing, config::Escape::url_component);
    const auto body = cfg_.body.is_null() ? std::optional<nlohmann::json>(nlohmann::json::object())
                                          : config::expand_json_template(cfg_.body, ctx.vars, &missing);
    if (!url || !body) co_return TargetOutcome{false, "template placeholder {" + missing + "} has no value"};

    http::OutboundRequest req;
    req.method = cfg_.method;
    req.url = *url;
    req.timeout = cfg_.timeout;
    req.ca_file = cfg_.tls.ca_file;
    if (cfg_.method != "GET") {
      req.body = body->dump();
      req.headers.emplace_back("Content-Type", "application/json");
    }
    for (const auto& [k, v] : cfg_.headers) {
      auto expanded = config::expand_template(v, ctx.vars, &missing);
      if (!expanded) co_return TargetOutcome{false, "template placeholder {" + missing + "} has no value"};
      req.headers.emplace_back(k, *expanded);
    }
    // The marker doubles as an idempotency key: a resumed deployment sends the same one again.
    req.headers.emplace_back("Idempotency-Key", ctx.marker);
    req.headers.emplace_back("X-Shipgate-Deployment", std::to_string(ctx.deployment_id));
    if (!cfg_.secret.empty())
      req.headers.emplace_back("X-Shipgate-Signature-256", "sha256=" + hmac_sha256_hex(cfg_.secret, req.body));

    const auto res = co_await http_->send(std::move(req));
    TargetOutcome out;
    if (res) out.details["status"] = res->status;
    if (res && res->status >= 200 && res->status < 300) {
      out.ok = true;
      out.message = "HTTP " + std::to_string(res->status);
    } else {
      out.message = "http target " + url_origin(cfg_.url) + " failed: " + http::describe_failure(res);
    }
    co_return out;
  }

 private:
  config::HttpTargetConfig cfg_;
  std::shared_ptr<http::HttpClient> http_;
};

}  // namespace

std::unique_ptr<DeployTarget> make_http_target(const config::HttpTargetConfig& cfg, std::shared_ptr<http::HttpClient> http) {
  return std::make_unique<HttpTarget>(cfg, std::move(http));
}

}  // namespace shipgate::deploy
