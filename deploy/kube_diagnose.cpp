#include "deploy/kube_diagnose.hpp"

#include "common/json_read.hpp"
#include "common/text.hpp"
#include "deploy/rollout_diagnosis.hpp"

namespace shipgate::deploy {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

constexpr const char* kRevision = "deployment.kubernetes.io/revision";
constexpr std::size_t kLogLines = 20;

// Label values, names and container names as a selector or a path may carry them.
bool selector_safe(const std::string& s) { return is_plain_name(s, 253); }

// A label key: a name, optionally behind a DNS prefix ("app.kubernetes.io/name").
bool key_safe(const std::string& key) {
  const auto slash = key.find('/');
  if (slash == std::string::npos) return selector_safe(key);
  return selector_safe(key.substr(0, slash)) && selector_safe(key.substr(slash + 1));
}

// The JSON of a 200 answer, or null.
asio::awaitable<json> get_json(const KubeGet& get, const std::string& path) {
  auto r = co_await get(path);
  if (!r || r->status != 200) co_return json();
  co_return json_read::parse(r->body);
}

// The revision the Deployment controller wrote on a Deployment or ReplicaSet; "" when there is none.
std::string revision_of(const json& object) {
  const json* annotations = json_read::path(object, {"metadata", "annotations"});
  return annotations ? json_read::text(*annotations, kRevision) : std::string();
}

// The pod-template-hash of the Deployment's ReplicaSet of its current revision.
std::string current_template_hash(const json& deployment, const json& replica_sets) {
  const std::string revision = revision_of(deployment);
  if (revision.empty()) return {};
  for (const auto& rs : json_read::array(replica_sets, "items")) {
    if (revision_of(rs) != revision) continue;
    const json* labels = json_read::path(rs, {"metadata", "labels"});
    const std::string hash = labels ? json_read::text(*labels, "pod-template-hash") : std::string();
    if (selector_safe(hash)) return hash;
  }
  return {};
}

}  // namespace

std::string match_labels_selector(const json& deployment) {
  const json* labels = json_read::path(deployment, {"spec", "selector", "matchLabels"});
  if (!labels || !labels->is_object() || labels->empty()) return {};
  std::string selector;
  for (auto it = labels->begin(); it != labels->end(); ++it) {
    if (!it.value().is_string() || !key_safe(it.key()) || !selector_safe(it.value().get<std::string>())) return {};
    selector += (selector.empty() ? "" : ",") + it.key() + "=" + it.value().get<std::string>();
  }
  return selector;
}

asio::awaitable<std::optional<RolloutReport>> diagnose_rollout(KubeGet get, std::string ns, json deployment) {
  // Paths are named before each co_await: GCC 12 mishandles class-type temporaries in co_await expressions.
  const std::string selector = match_labels_selector(deployment);
  if (selector.empty() || !selector_safe(ns)) co_return std::nullopt;
  const std::string base = "/namespaces/" + ns;
  const std::string replica_sets_path = "/apis/apps/v1" + base + "/replicasets?labelSelector=" + percent_encode(selector);
  const json replica_sets = co_await get_json(get, replica_sets_path);
  const std::string hash = current_template_hash(deployment, replica_sets);
  if (hash.empty()) co_return std::nullopt;
  const std::string pods_path =
      "/api/v1" + base + "/pods?labelSelector=" + percent_encode(selector + ",pod-template-hash=" + hash);
  const json pods = co_await get_json(get, pods_path);
  const auto trouble = find_trouble(pods);
  if (!trouble || !selector_safe(trouble->pod)) co_return std::nullopt;
  std::vector<std::string> log_tail;
  if (selector_safe(trouble->container)) {
    std::string log_path = "/api/v1" + base + "/pods/" + trouble->pod + "/log?container=" + trouble->container +
                           "&tailLines=" + std::to_string(kLogLines);
    if (trouble->read_previous_log) log_path += "&previous=true";
    auto log = co_await get(log_path);
    if (log && log->status == 200) log_tail = last_lines(log->body, kLogLines);
  }
  const std::string events_path =
      "/api/v1" + base + "/events?fieldSelector=" + percent_encode("involvedObject.name=" + trouble->pod);
  const json events = co_await get_json(get, events_path);
  const auto warnings = warning_events(events);
  co_return RolloutReport{trouble_line(*trouble, log_tail, warnings), trouble_details(*trouble, log_tail, warnings)};
}

}  // namespace shipgate::deploy
