#include "deploy/kube_api.hpp"

#include "common/json_read.hpp"
#include "deploy/kube_credentials.hpp"

namespace shipgate::deploy {

namespace asio = boost::asio;

const std::string& KubeReply::body() const {
  static const std::string none;
  return credentials_error.empty() && result ? result->body : none;
}

asio::awaitable<KubeReply> KubeApi::send(std::string method, std::string path, std::string body, std::string content_type) {
  http::OutboundRequest req;
  req.method = std::move(method);
  req.timeout = std::chrono::seconds(30);
  if (!body.empty()) {
    req.headers.emplace_back("Content-Type", std::move(content_type));
    req.body = std::move(body);
  }
  KubeReply reply{make_error_code(boost::system::errc::permission_denied), prepare_kube_request(cfg_, path, req)};
  if (!reply.credentials_error.empty()) co_return reply;
  reply.result = co_await http_->send(std::move(req));
  co_return reply;
}

asio::awaitable<http::HttpResult> KubeApi::get(std::string path) {
  auto reply = co_await send("GET", std::move(path));
  co_return std::move(reply.result);
}

std::string kube_refusal(const KubeReply& reply, std::string_view verb, std::string_view resource, std::string_view not_found,
                         bool quiet) {
  const std::string what = std::string(verb) + " " + std::string(resource);
  if (!reply.credentials_error.empty()) return "kubernetes credentials: " + reply.credentials_error;
  if (!reply.result) return "cannot " + what + ": " + reply.result.error().message();
  const std::string detail = quiet ? "" : json_read::text(json_read::parse(reply.result->body), "message").substr(0, 500);
  const std::string said = detail.empty() ? "" : ": " + detail;
  switch (reply.result->status) {
    case 401: return "the Kubernetes API rejected shipgate's credentials (401) on " + what;
    case 403: return "RBAC forbids " + std::string(verb) + " on " + std::string(resource) + said;
    case 404: return std::string(not_found);
    case 422: return std::string(resource) + " is invalid" + (quiet ? " (422)" : said);
    default: return what + " failed: " + (quiet ? "HTTP " + std::to_string(reply.result->status) : http::describe_failure(reply.result));
  }
}

}  // namespace shipgate::deploy
