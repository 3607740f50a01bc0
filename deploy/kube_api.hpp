// One Kubernetes target's way to the API server: each call with the target's credentials (loaded at
// the call, so a rotated token is read again) and a 30 s timeout, and what a refusal means in words.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "config/targets.hpp"
#include "http/http_client.hpp"

namespace shipgate::deploy {

struct KubeReply {
  http::HttpResult result;
  std::string credentials_error;  // the call was never sent: the credentials could not be loaded
  int status() const { return credentials_error.empty() && result ? result->status : 0; }
  const std::string& body() const;
};

class KubeApi {
 public:
  KubeApi(const config::KubernetesTargetConfig& cfg, std::shared_ptr<http::HttpClient> http) : cfg_(cfg), http_(std::move(http)) {}

  boost::asio::awaitable<KubeReply> send(std::string method, std::string path, std::string body = {},
                                         std::string content_type = {});
  boost::asio::awaitable<http::HttpResult> get(std::string path);

  const config::KubernetesTargetConfig& config() const { return cfg_; }

 private:
  const config::KubernetesTargetConfig& cfg_;
  std::shared_ptr<http::HttpClient> http_;
};

// Why a call failed, in terms of the verb and the resource ("deployments/api in namespace web"); a 404
// is `not_found`. With `quiet` the API's own message is left out (a Secret's errors may quote it).
std::string kube_refusal(const KubeReply& reply, std::string_view verb, std::string_view resource, std::string_view not_found,
                         bool quiet = false);

}  // namespace shipgate::deploy
