#include "deploy/kube_credentials.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/crypto.hpp"

namespace shipgate::deploy {

namespace {

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

// A named entry of a kubeconfig list (clusters, users, contexts): its inner map, or nullopt.
std::optional<YAML::Node> named(const YAML::Node& list, const std::string& name, const char* inner) {
  if (list.IsSequence())
    for (const auto& item : list)
      if (item["name"] && item["name"].Scalar() == name && item[inner].IsMap()) return item[inner];
  return std::nullopt;
}

// "<key>-data" (base64) or "<key>" (a file, relative to the kubeconfig's directory).
std::string material(const YAML::Node& node, const std::string& key, const std::string& dir, std::string& error) {
  if (node[key + "-data"]) {
    auto v = base64_decode(node[key + "-data"].Scalar());
    if (!v) error = key + "-data is not valid base64";
    return v.value_or("");
  }
  if (node[key]) {
    std::string path = node[key].Scalar();
    if (!path.empty() && path[0] != '/') path = dir + "/" + path;
    std::string content;
    if (!read_file(path, content)) error = "cannot read " + key + " file " + path;
    return content;
  }
  return {};
}

}  // namespace

std::string KubeCredentials::apply(http::OutboundRequest& req) const {
  req.ca_pem = ca_pem;
  req.ca_file = ca_file;
  req.client_cert_pem = client_cert_pem;
  req.client_key_pem = client_key_pem;
  std::string bearer = token;
  if (!token_file.empty()) {
    if (!read_file(token_file, bearer)) return "cannot read service account token " + token_file;
    bearer = trim(bearer);
  }
  if (!bearer.empty()) req.headers.emplace_back("Authorization", "Bearer " + bearer);
  return {};
}

std::string load_kube_credentials(const config::KubernetesTargetConfig& cfg, KubeCredentials& out) {
  if (cfg.kubeconfig.empty()) {
    const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
    const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
    if (!host || !port)
      return "no kubeconfig configured and KUBERNETES_SERVICE_HOST/PORT are not set (not running in a cluster?)";
    const std::string h = host;
    out.server = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + port;
    out.ca_file = cfg.service_account_dir + "/ca.crt";
    out.token_file = cfg.service_account_dir + "/token";
    std::string probe;
    if (!read_file(out.token_file, probe)) return "cannot read service account token " + out.token_file;
    if (!read_file(out.ca_file, probe)) return "cannot read service account CA " + out.ca_file;
    return {};
  }
  YAML::Node root;
  try {
    root = YAML::LoadFile(cfg.kubeconfig);
  } catch (const YAML::Exception& e) {
    return "cannot read kubeconfig " + cfg.kubeconfig + ": " + e.what();
  }
  const std::string context = cfg.context.empty() ? (root["current-context"] ? root["current-context"].Scalar() : "") : cfg.context;
  if (context.empty()) return "kubeconfig " + cfg.kubeconfig + " has no current-context; set context";
  const auto ctx = named(root["contexts"], context, "context");
  if (!ctx) return "kubeconfig " + cfg.kubeconfig + " has no context '" + context + "'";
  const std::string cluster_name = (*ctx)["cluster"] ? (*ctx)["cluster"].Scalar() : "";
  const std::string user_name = (*ctx)["user"] ? (*ctx)["user"].Scalar() : "";
  const auto found_cluster = named(root["clusters"], cluster_name, "cluster");
  if (!found_cluster || !(*found_cluster)["server"]) return "kubeconfig context '" + context + "' names no usable cluster";
  const YAML::Node cluster = *found_cluster;
  out.server = cluster["server"].Scalar();
  while (!out.server.empty() && out.server.back() == '/') out.server.pop_back();
  if (out.server.rfind("https://", 0) != 0) return "kubeconfig cluster server must be https:// (got " + out.server + ")";
  if (cluster["insecure-skip-tls-verify"] && cluster["insecure-skip-tls-verify"].as<bool>(false))
    return "kubeconfig cluster sets insecure-skip-tls-verify; shipgate always verifies the API server";
  const std::string dir = cfg.kubeconfig.find('/') == std::string::npos ? "." : cfg.kubeconfig.substr(0, cfg.kubeconfig.rfind('/'));
  std::string error;
  out.ca_pem = material(cluster, "certificate-authority", dir, error);
  if (!error.empty()) return error;
  const auto found_user = named(root["users"], user_name, "user");
  if (found_user) {
    const YAML::Node user = *found_user;
    if (user["token"]) out.token = user["token"].Scalar();
    else if (user["tokenFile"]) out.token_file = user["tokenFile"].Scalar();
    out.client_cert_pem = material(user, "client-certificate", dir, error);
    out.client_key_pem = material(user, "client-key", dir, error);
    if (!error.empty()) return error;
    if (user["exec"] || user["auth-provider"])
      return "kubeconfig user '" + user_name + "' uses an exec or auth-provider plugin; give shipgate a token or client certificate";
  }
  if (out.token.empty() && out.token_file.empty() && out.client_cert_pem.empty())
    return "kubeconfig user '" + user_name + "' has no token or client certificate";
  return {};
}

std::string prepare_kube_request(const config::KubernetesTargetConfig& cfg, const std::string& path, http::OutboundRequest& req) {
  KubeCredentials creds;
  if (auto error = load_kube_credentials(cfg, creds); !error.empty()) return error;
  req.url = creds.server + path;
  req.headers.emplace_back("Accept", "application/json");
  return creds.apply(req);
}

}  // namespace shipgate::deploy
