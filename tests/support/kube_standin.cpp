#include "tests/support/kube_standin.hpp"

namespace shipgate::testing {

using nlohmann::json;

KubeStandin::KubeStandin(std::string token, const std::string& cert_file, const std::string& key_file)
    : token_(std::move(token)), server_([this](const RecordedRequest& r) { return handle(r); }, 0, cert_file, key_file) {}

void KubeStandin::add_deployment(const std::string& ns, const std::string& name,
                                 const std::vector<std::pair<std::string, std::string>>& containers, int replicas) {
  json cs = json::array();
  for (const auto& [c, image] : containers)
    cs.push_back({{"name", c}, {"image", image}, {"ports", {{{"containerPort", 8080}}}}});
  Entry e;
  e.obj = {{"apiVersion", "apps/v1"},
           {"kind", "Deployment"},
           {"metadata", {{"name", name}, {"namespace", ns}, {"generation", 1},
                         {"annotations", {{"deployment.kubernetes.io/revision", "1"}}}}},
           {"spec", {{"replicas", replicas}, {"progressDeadlineSeconds", 600},
                     {"selector", {{"matchLabels", {{"app", name}}}}},
                     {"template", {{"metadata", {{"labels", {{"app", name}}}}}, {"spec", {{"containers", cs}}}}}}},
           {"status", {{"observedGeneration", 1}, {"replicas", replicas}, {"updatedReplicas", replicas},
                       {"availableReplicas", replicas}, {"readyReplicas", replicas}}}};
  std::lock_guard l(m_);
  auto& slot = deployments_[ns + "/" + name];
  slot = e;
  changed(slot, "ADDED");
}

void KubeStandin::changed(Entry& e, const std::string& type) {
  e.obj["metadata"]["resourceVersion"] = std::to_string(++version_);
  changes_.push_back({version_, type, e.obj["metadata"].value("namespace", ""), e.obj});
}

void KubeStandin::compact() {
  std::lock_guard l(m_);
  changes_.clear();
  oldest_kept_ = version_;
}

void KubeStandin::hang_next_rollout(const std::string& ns, const std::string& name, int ticks) {
  std::lock_guard l(m_);
  deployments_.at(ns + "/" + name).next_hang = ticks;
}

void KubeStandin::fail_next_rollout(const std::string& ns, const std::string& name, PodFault fault, int ticks) {
  std::lock_guard l(m_);
  auto& e = deployments_.at(ns + "/" + name);
  e.next_hang = ticks;
  e.next_fault = std::move(fault);
}

void KubeStandin::never_available(const std::string& ns, const std::string& name) {
  std::lock_guard l(m_);
  deployments_.at(ns + "/" + name).never_available = true;
}

std::string KubeStandin::image(const std::string& ns, const std::string& name, const std::string& container) {
  std::lock_guard l(m_);
  for (const auto& c : deployments_.at(ns + "/" + name).obj["spec"]["template"]["spec"]["containers"])
    if (c["name"] == container) return c["image"];
  return {};
}

json KubeStandin::object(const std::string& ns, const std::string& name) {
  std::lock_guard l(m_);
  return deployments_.at(ns + "/" + name).obj;
}

StandinReply KubeStandin::status(int code, const std::string& reason, const std::string& message) {
  return {code, json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"}, {"message", message},
                     {"reason", reason}, {"code", code}}.dump()};
}

// One controller step toward the template; counters that reach zero are omitted, as the API does.
void KubeStandin::tick(Entry& e) {
  auto& meta = e.obj["metadata"];
  auto& st = e.obj["status"];
  const int replicas = e.obj["spec"].value("replicas", 1);
  auto get = [&](const char* k) { return st.value(k, 0); };
  auto set = [&](const char* k, int v) {
    if (v == 0) st.erase(k);
    else st[k] = v;
  };
  if (meta.value("generation", 1) > get("observedGeneration")) {
    st["observedGeneration"] = meta["generation"];
    return;
  }
  if (e.hang_ticks >= 0) {
    if (e.hang_ticks-- == 0)
      st["conditions"] = json::array({{{"type", "Progressing"}, {"status", "False"}, {"reason", "ProgressDeadlineExceeded"},
                                       {"message", "ReplicaSet has timed out progressing."}}});
    return;
  }
  int updated = get("updatedReplicas");
  if (updated < replicas) {
    set("updatedReplicas", ++updated);
    e.old_replicas = std::max(0, e.old_replicas - 1);
  } else if (e.old_replicas > 0) {
    --e.old_replicas;
  }
  if (!e.never_available && e.new_available < updated) ++e.new_available;
  set("replicas", updated + e.old_replicas);
  set("availableReplicas", e.old_replicas + e.new_available);  // old pods count as available
}


void KubeStandin::scale(Entry& e, int n) {
  e.obj["spec"]["replicas"] = n;
  e.obj["metadata"]["generation"] = e.obj["metadata"].value("generation", 1) + 1;
  for (const char* k : {"replicas", "updatedReplicas", "availableReplicas", "readyReplicas"}) e.obj["status"][k] = n;
  e.new_available = n;
  e.obj["status"]["observedGeneration"] = e.obj["metadata"]["generation"];
}

void KubeStandin::new_revision(Entry& e) {
  e.obj["metadata"]["generation"] = e.obj["metadata"].value("generation", 1) + 1;
  e.old_replicas = e.obj["status"].value("updatedReplicas", 0);
  e.new_available = 0;
  e.obj["status"].erase("updatedReplicas");
  e.obj["status"].erase("conditions");
  e.obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = std::to_string(++e.revision);
  e.hang_ticks = e.next_hang;
  e.next_hang = -1;
  if (e.next_fault) {
    e.fault = std::move(e.next_fault);
    e.fault_revision = e.revision;
    e.next_fault.reset();
  }
}

StandinReply KubeStandin::collection(const std::string& ns, const std::string& query) {
  const std::string watch = query_value(query, "watch");
  if (watch != "1" && watch != "true") {
    json items = json::array();
    const auto terms = selector_terms(query, "labelSelector");
    for (const auto& [key, e] : deployments_)
      if (key.rfind(ns + "/", 0) == 0 && selects(terms, e.obj["metadata"].value("labels", json::object()))) items.push_back(e.obj);
    return {200, json{{"kind", "DeploymentList"}, {"apiVersion", "apps/v1"},
                      {"metadata", {{"resourceVersion", std::to_string(version_)}}}, {"items", items}}.dump()};
  }
  const std::string from_text = query_value(query, "resourceVersion");
  const std::int64_t from = from_text.empty() ? version_ : std::stoll(from_text);
  StandinReply reply{200, "", "application/json"};
  if (from < oldest_kept_) {
    reply.body = json{{"type", "ERROR"},
                      {"object", {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"}, {"reason", "Expired"},
                                  {"code", 410}, {"message", "too old resource version: " + from_text + " (" + std::to_string(oldest_kept_) + ")"}}}}
                     .dump() + "\n";
    reply.stream = [] { return std::optional<std::string>(); };
    return reply;
  }
  const std::string seconds = query_value(query, "timeoutSeconds");
  const auto until = std::chrono::steady_clock::now() +
                     std::min(watch_limit_, std::chrono::seconds(seconds.empty() ? 1800 : std::stoll(seconds)));
  auto cursor = std::make_shared<std::int64_t>(from);
  reply.stream = [this, ns, cursor, until]() -> std::optional<std::string> {
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::lock_guard l(m_);
    std::string out;
    for (const auto& c : changes_)
      if (c.version > *cursor && c.ns == ns) {
        out += json{{"type", c.type}, {"object", c.object}}.dump() + "\n";
        *cursor = c.version;
      }
    return out;
  };
  return reply;
}

StandinReply KubeStandin::handle(const RecordedRequest& r) {
  std::lock_guard l(m_);
  if (r.header("Authorization") != "Bearer " + token_) return status(401, "Unauthorized", "Unauthorized");
  const std::string prefix = "/apis/apps/v1/namespaces/";
  const std::string path = r.target.substr(0, r.target.find('?'));
  const std::string query = r.target.find('?') == std::string::npos ? "" : r.target.substr(r.target.find('?') + 1);
  if (r.method == "PATCH" && r.header("Content-Type") == "application/apply-patch+yaml") return apply(path, query, r.body);
  if (r.method == "DELETE") return remove(path);
  if (r.method == "PATCH" && r.header("Content-Type") == "application/json-patch+json") return json_patch(path, r.body);
  if (r.method == "PATCH" && r.header("Content-Type") == "application/strategic-merge-patch+json" && objects_.contains(path)) {
    if (denied_.count("patch")) return status(403, "Forbidden", "cannot patch " + path);
    objects_[path].merge_patch(json::parse(r.body, nullptr, false));  // maps merge as strategic merge does; lists are replaced
    objects_[path]["metadata"]["resourceVersion"] = std::to_string(++version_);
    return {200, objects_[path].dump()};
  }
  if (r.method == "GET")
    if (auto reply = generic_get(path, query)) return *reply;
  if (path.rfind("/api/v1/namespaces/", 0) == 0 && r.method == "GET") return core(path, query);
  if (path.rfind(prefix, 0) != 0) return status(404, "NotFound", "the server could not find the requested resource");
  const std::string rest = path.substr(prefix.size());
  if (rest.ends_with("/replicasets") && r.method == "GET") return replica_sets(rest.substr(0, rest.size() - 12), query);
  if (rest.size() > 12 && rest.ends_with("/deployments") && r.method == "GET") {
    const std::string ns = rest.substr(0, rest.size() - 12);
    const std::string w = query_value(query, "watch");
    const std::string verb = w == "1" || w == "true" ? "watch" : "list";
    if (verb == "list") ++gets_;
    if (denied_.count(verb))
      return status(403, "Forbidden", "deployments.apps is forbidden: User \"system:serviceaccount:shipgate:shipgate\" cannot " + verb +
                                          " resource \"deployments\" in API group \"apps\" in the namespace \"" + ns + "\"");
    return collection(ns, query);
  }
  const auto slash = rest.find("/deployments/");
  if (slash == std::string::npos) return status(404, "NotFound", "the server could not find the requested resource");
  const std::string ns = rest.substr(0, slash), name = rest.substr(slash + 13);
  const std::string verb = r.method == "GET" ? "get" : r.method == "PATCH" ? "patch" : "";
  if (verb.empty()) return status(405, "MethodNotAllowed", "method not allowed");
  if (denied_.count(verb))
    return status(403, "Forbidden", "deployments.apps \"" + name + "\" is forbidden: User \"system:serviceaccount:shipgate:shipgate\" cannot " +
                                        verb + " resource \"deployments\" in API group \"apps\" in the namespace \"" + ns + "\"");
  auto it = deployments_.find(ns + "/" + name);
  if (it == deployments_.end()) return status(404, "NotFound", "deployments.apps \"" + name + "\" not found");
  Entry& e = it->second;
  if (verb == "get") {
    ++gets_;
    const json before = e.obj["status"];
    tick(e);
    if (e.obj["status"] != before) changed(e, "MODIFIED");
    return {200, e.obj.dump()};
  }
  if (r.header("Content-Type") != "application/strategic-merge-patch+json")
    return status(415, "UnsupportedMediaType", "the body of the request was in an unknown format");
  return strategic_patch(e, r.body);
}

StandinReply KubeStandin::strategic_patch(Entry& e, const std::string& body) {
  auto patch = json::parse(body, nullptr, false);
  const auto containers = patch.is_object() ? patch.value("/spec/template/spec/containers"_json_pointer, json::array()) : json();
  const auto replicas = patch.is_object() ? patch.value("/spec/replicas"_json_pointer, json()) : json();
  if (!containers.is_array() || (!replicas.is_null() && !replicas.is_number_integer()))
    return status(422, "Invalid", "patch has no containers list or a replicas count that is not a number");
  auto& current = e.obj["spec"]["template"]["spec"]["containers"];
  bool changed = false, scaled = false;
  // Scaling changes no template: no new rollout, the controller only adds or removes pods.
  if (replicas.is_number_integer() && replicas != e.obj["spec"]["replicas"]) {
    scale(e, replicas.get<int>());
    scaled = true;
  }
  for (const auto& c : containers) {
    bool merged = false;
    for (auto& existing : current)
      if (existing["name"] == c["name"]) {
        for (auto f = c.begin(); f != c.end(); ++f) {
          changed = changed || existing[f.key()] != f.value();
          existing[f.key()] = f.value();
        }
        merged = true;
      }
    if (!merged) {
      current.push_back(c);  // strategic merge adds an unknown name
      changed = true;
    }
  }
  bool annotated = false;  // annotations merge by key; a null removes one
  if (patch.is_object() && patch.contains("metadata") && patch["metadata"].is_object() && patch["metadata"].contains("annotations")) {
    json& current_annotations = e.obj["metadata"]["annotations"];
    const json before = current_annotations;
    current_annotations.merge_patch(patch["metadata"]["annotations"]);
    annotated = current_annotations != before;
  }
  if (changed) new_revision(e);
  if (changed || scaled || annotated) this->changed(e, "MODIFIED");
  return {200, e.obj.dump()};
}

}  // namespace shipgate::testing
