// Keeps a namespace's Deployments in view the way Kubernetes clients do (an informer): LIST, then WATCH
// from the list's resourceVersion as a stream of events; when a watch ends it resumes from the last
// version seen, and it lists again every `relist` or when the API server says that version is gone
// (410 Expired). Failures are reported and retried with a growing pause; it runs until `stopped`.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "http/http_client.hpp"

namespace shipgate::deploy {

struct WatchHandlers {
  std::function<void(const std::vector<nlohmann::json>& deployments)> listed;  // the whole namespace
  std::function<void(std::string_view type, const nlohmann::json& deployment)> event;  // ADDED, MODIFIED, DELETED
  std::function<void(const std::string& why)> trouble;  // a list or watch failed (it is retried)
  std::function<bool()> stopped;
};

// metadata.name of an object from the API server; empty when it has none (or not as a string).
std::string object_name(const nlohmann::json& object);

boost::asio::awaitable<void> watch_deployments(http::HttpClient& http, const config::KubernetesTargetConfig& cfg, Millis relist,
                                               WatchHandlers handlers);

// The namespace's Deployments as the API server has them now (one LIST), by name, with the list's
// resourceVersion; `error` says why not.
struct DeploymentList {
  std::string error;
  std::string version;
  std::vector<nlohmann::json> items;
};
boost::asio::awaitable<DeploymentList> list_deployments(http::HttpClient& http, const config::KubernetesTargetConfig& cfg);

// Splits a watch stream into events: whole lines are parsed as they complete, the rest is kept.
class WatchStream {
 public:
  struct Event {
    std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
    nlohmann::json object;
  };
  // Returns the events the bytes completed; a line that is not a JSON event is skipped.
  std::vector<Event> feed(std::string_view bytes);

 private:
  std::string pending_;
};

}  // namespace shipgate::deploy
