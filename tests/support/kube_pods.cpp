// The Kubernetes stand-in's ReplicaSets, pods, pod logs and events: derived from each Deployment's
// revisions and its on-demand fault (kube_standin.hpp says what is modelled).
#include <cstdio>
#include <map>

#include "common/text.hpp"
#include "tests/support/kube_standin.hpp"

namespace shipgate::testing {

using nlohmann::json;

namespace {

constexpr const char* kRevision = "deployment.kubernetes.io/revision";

json list(const char* kind, json items) {
  return {{"kind", kind}, {"apiVersion", "v1"}, {"metadata", {{"resourceVersion", "1"}}}, {"items", std::move(items)}};
}

}  // namespace

// "a=1,b=2" (percent-encoded in the query) as equality terms; a term without '=' is kept unmatched.
std::map<std::string, std::string> KubeStandin::selector_terms(const std::string& query, const std::string& name) {
  std::string decoded;
  form_decode(query_value(query, name), decoded);
  std::map<std::string, std::string> terms;
  std::size_t at = 0;
  while (at < decoded.size()) {
    const auto end = std::min(decoded.find(',', at), decoded.size());
    const std::string term = decoded.substr(at, end - at);
    const auto eq = term.find('=');
    terms[term.substr(0, eq)] = eq == std::string::npos ? "\x01" : term.substr(eq + 1);
    at = end + 1;
  }
  return terms;
}

bool KubeStandin::selects(const std::map<std::string, std::string>& terms, const json& labels) {
  for (const auto& [key, value] : terms)
    if (key != "pod-template-hash" && labels.value(key, std::string("\x02")) != value) return false;
  return true;
}

std::string KubeStandin::template_hash(const std::string& name, int revision) {
  char hash[16];
  std::snprintf(hash, sizeof hash, "%08x", static_cast<unsigned>(std::hash<std::string>{}(name) * 31 + revision) & 0xffffffffu);
  return hash;
}

StandinReply KubeStandin::replica_sets(const std::string& ns, const std::string& query) const {
  const auto terms = selector_terms(query, "labelSelector");
  json items = json::array();
  for (const auto& [key, e] : deployments_) {
    const json& labels = e.obj["spec"]["selector"]["matchLabels"];
    if (key.rfind(ns + "/", 0) != 0 || !selects(terms, labels)) continue;
    const std::string name = e.obj["metadata"]["name"];
    for (int rev = 1; rev <= e.revision; ++rev) {
      json rs_labels = labels;
      rs_labels["pod-template-hash"] = template_hash(name, rev);
      items.push_back({{"metadata", {{"name", name + "-" + template_hash(name, rev)}, {"namespace", ns},
                                     {"labels", rs_labels}, {"annotations", {{kRevision, std::to_string(rev)}}}}},
                       {"spec", {{"replicas", rev == e.revision ? e.obj["spec"].value("replicas", 1) : 0}}}});
    }
  }
  return {200, list("ReplicaSetList", items).dump()};
}

const KubeStandin::Entry* KubeStandin::owner_of(const std::string& ns, const std::string& hash, int& revision) const {
  for (const auto& [key, e] : deployments_) {
    if (key.rfind(ns + "/", 0) != 0) continue;
    for (int rev = 1; rev <= e.revision; ++rev)
      if (template_hash(e.obj["metadata"]["name"], rev) == hash) {
        revision = rev;
        return &e;
      }
  }
  return nullptr;
}

std::string KubeStandin::pod_name(const Entry& e, int revision, int index) {
  const std::string deployment = e.obj["metadata"]["name"];
  return deployment + "-" + template_hash(deployment, revision) + "-p" + std::to_string(index);
}

json KubeStandin::pod_object(const Entry& e, int revision, int index) {
  const std::string deployment = e.obj["metadata"]["name"];
  const std::string name = pod_name(e, revision, index);
  const bool failing = e.fault && e.fault_revision == revision;
  json statuses = json::array();
  for (const auto& c : e.obj["spec"]["template"]["spec"]["containers"]) {
    json s = {{"name", c["name"]}, {"image", c["image"]}, {"ready", true}, {"restartCount", 0},
              {"state", {{"running", {{"startedAt", "2026-12-07T10:00:00Z"}}}}}};
    if (failing && c["name"] == e.fault->container) {
      s["ready"] = false;
      if (e.fault->reason == "CrashLoopBackOff") {
        s["restartCount"] = 4;
        s["state"] = {{"waiting", {{"reason", "CrashLoopBackOff"},
                                   {"message", "back-off 1m20s restarting failed container=" + e.fault->container + " pod=" + name}}}};
        s["lastState"] = {{"terminated", {{"reason", "Error"}, {"exitCode", e.fault->exit_code}}}};
      } else {
        s["state"] = {{"waiting", {{"reason", e.fault->reason},
                                   {"message", "Back-off pulling image \"" + c["image"].get<std::string>() + "\""}}}};
      }
    }
    statuses.push_back(s);
  }
  json labels = e.obj["spec"]["selector"]["matchLabels"];
  labels["pod-template-hash"] = template_hash(deployment, revision);
  return {{"metadata", {{"name", name}, {"labels", labels}}},
          {"status", {{"phase", "Running"}, {"containerStatuses", statuses}}}};
}

StandinReply KubeStandin::core(const std::string& path, const std::string& query) const {
  const std::string rest = path.substr(std::string("/api/v1/namespaces/").size());
  const auto slash = rest.find('/');
  const std::string ns = rest.substr(0, slash);
  const std::string what = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (what == "pods") return pods(ns, query);
  if (what == "events") return events(ns, query);
  if (what.rfind("pods/", 0) == 0 && what.ends_with("/log")) return pod_log(ns, what.substr(5, what.size() - 9), query);
  return status(404, "NotFound", "the server could not find the requested resource");
}

StandinReply KubeStandin::pods(const std::string& ns, const std::string& query) const {
  const auto terms = selector_terms(query, "labelSelector");
  if (terms.contains("job-name")) return job_pods(ns, terms.at("job-name"));
  json items = json::array();
  int revision = 0;
  const auto hash = terms.find("pod-template-hash");
  const Entry* e = hash == terms.end() ? nullptr : owner_of(ns, hash->second, revision);
  if (e && selects(terms, e->obj["spec"]["selector"]["matchLabels"]))
    for (int i = 0; i < e->obj["spec"].value("replicas", 1); ++i) items.push_back(pod_object(*e, revision, i));
  return {200, list("PodList", items).dump()};
}

StandinReply KubeStandin::pod_log(const std::string& ns, const std::string& pod, const std::string& query) const {
  if (auto reply = job_log(ns, pod, query)) return *reply;
  const auto dash = pod.rfind("-p");
  const auto hash_at = pod.rfind('-', dash == std::string::npos || dash == 0 ? 0 : dash - 1);
  int revision = 0;
  const Entry* e = dash == std::string::npos || hash_at == std::string::npos
                       ? nullptr
                       : owner_of(ns, pod.substr(hash_at + 1, dash - hash_at - 1), revision);
  if (!e) return status(404, "NotFound", "pods \"" + pod + "\" not found");
  const std::string container = query_value(query, "container");
  const bool failing = e->fault && e->fault_revision == revision && e->fault->container == container;
  if (failing && e->fault->reason != "CrashLoopBackOff")
    return status(400, "BadRequest", "container \"" + container + "\" in pod \"" + pod +
                                         "\" is waiting to start: trying and failing to pull image");
  StandinReply reply{200, "", "text/plain"};
  if (!failing || query_value(query, "previous") != "true") return reply;  // the new container said nothing yet
  const std::string tail = query_value(query, "tailLines");
  std::vector<std::string> lines;
  for (std::size_t at = 0; at < e->fault->log.size();) {
    const auto end = std::min(e->fault->log.find('\n', at), e->fault->log.size());
    lines.push_back(e->fault->log.substr(at, end - at));
    at = end + 1;
  }
  const std::size_t keep = tail.empty() ? lines.size() : std::min<std::size_t>(lines.size(), std::stoul(tail));
  for (std::size_t i = lines.size() - keep; i < lines.size(); ++i) reply.body += lines[i] + "\n";
  return reply;
}

StandinReply KubeStandin::events(const std::string& ns, const std::string& query) const {
  const auto terms = selector_terms(query, "fieldSelector");
  const auto named = terms.find("involvedObject.name");
  json items = json::array();
  for (const auto& [key, e] : deployments_) {
    if (key.rfind(ns + "/", 0) != 0 || !e.fault) continue;
    const std::string name = pod_name(e, e.fault_revision, 0);
    if (named != terms.end() && named->second != name) continue;
    const json object = {{"kind", "Pod"}, {"namespace", ns}, {"name", name}};
    items.push_back({{"type", "Normal"}, {"reason", "Pulling"}, {"message", "Pulling image"}, {"involvedObject", object}});
    items.push_back({{"type", "Warning"}, {"reason", e.fault->event_reason}, {"message", e.fault->event_message},
                     {"involvedObject", object}});
  }
  return {200, list("EventList", items).dump()};
}

}  // namespace shipgate::testing
