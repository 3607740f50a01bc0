// Where the Kubernetes API is and how to prove who we are: a kubeconfig context, or the in-cluster
// service account (token re-read on every use, since it rotates).
#pragma once
#include <string>

#include "config/config.hpp"
#include "http/http_client.hpp"

namespace shipgate::deploy {

struct KubeCredentials {
  std::string server;  // https://host:port, no trailing slash
  std::string ca_pem;
  std::string ca_file;
  std::string token;
  std::string token_file;  // in-cluster: read at each request
  std::string client_cert_pem;
  std::string client_key_pem;

  // Fills TLS material and the Authorization header. Returns an error message, empty on success.
  std::string apply(http::OutboundRequest& req) const;
};

// Returns an error message, empty on success.
std::string load_kube_credentials(const config::KubernetesTargetConfig& cfg, KubeCredentials& out);

// A request to the API server's `path` (JSON accepted), with the target's credentials loaded now (a
// rotated token is read again). Returns an error message, empty on success.
std::string prepare_kube_request(const config::KubernetesTargetConfig& cfg, const std::string& path, http::OutboundRequest& req);

}  // namespace shipgate::deploy
