// The Kubernetes stand-in's server-side apply, and GET, LIST and DELETE of every kind besides the
// Deployment controller's own (kube_standin.cpp) and the pods' (kube_pods.cpp).
#include "tests/support/kube_standin.hpp"

namespace shipgate::testing {

using nlohmann::json;

namespace {

const std::set<std::string>& generic_plurals() {
  static const std::set<std::string> plurals = {
      "namespaces", "serviceaccounts", "roles", "rolebindings", "clusterroles", "clusterrolebindings", "configmaps", "secrets",
      "persistentvolumeclaims", "services", "statefulsets", "daemonsets", "horizontalpodautoscalers", "poddisruptionbudgets",
      "jobs", "cronjobs", "ingresses", "networkpolicies", "httproutes"};
  return plurals;
}

std::string last_segment(const std::string& path) { return path.substr(path.rfind('/') + 1); }
std::string parent(const std::string& path) { return path.substr(0, path.rfind('/')); }

// Leaves of an applied object as ".a.b" -> value; lists are one leaf; identity fields are nobody's.
void flatten(const json& value, const std::string& at, json& out) {
  if (value.is_object() && !value.empty()) {
    for (auto it = value.begin(); it != value.end(); ++it) flatten(it.value(), at + "." + it.key(), out);
    return;
  }
  if (at != ".apiVersion" && at != ".kind" && at != ".metadata.name" && at != ".metadata.namespace") out[at] = value;
}

json list_of(const std::string& kind, json items) {
  return {{"kind", kind + "List"}, {"apiVersion", "v1"}, {"metadata", {{"resourceVersion", "1"}}}, {"items", std::move(items)}};
}

// A StatefulSet or DaemonSet as its controller reports it once every pod runs the newest spec.
void rolled_out(json& obj) {
  auto& st = obj["status"];
  const auto generation = obj["metadata"].value("generation", 1);
  st["observedGeneration"] = generation;
  if (obj.value("kind", "") == "StatefulSet") {
    const int n = obj["spec"].value("replicas", 1);
    st.update({{"replicas", n}, {"readyReplicas", n}, {"updatedReplicas", n}, {"currentRevision", "r" + std::to_string(generation)},
               {"updateRevision", "r" + std::to_string(generation)}});
  } else if (obj.value("kind", "") == "DaemonSet") {
    st.update({{"desiredNumberScheduled", 1}, {"updatedNumberScheduled", 1}, {"numberAvailable", 1}});
  }
}

}  // namespace

json KubeStandin::take_fields(const std::string& path, const std::string& manager, const json& fields, bool force,
                              const std::string& api_version) {
  json causes = json::array();
  for (auto& [other, owned] : owners_[path]) {
    if (other == manager) continue;
    for (auto f = fields.begin(); f != fields.end(); ++f) {
      const auto it = owned.find(f.key());
      if (it == owned.end() || *it == f.value()) continue;
      if (force) owned.erase(it);
      else causes.push_back({{"reason", "FieldManagerConflict"}, {"message", "conflict with \"" + other + "\" using " + api_version},
                             {"field", f.key()}});
    }
  }
  return causes;
}

StandinReply KubeStandin::apply(const std::string& path, const std::string& query, const std::string& body) {
  const std::string manager = query_value(query, "fieldManager");
  if (manager.empty()) return status(400, "BadRequest", "PATCH /apply requires fieldManager");
  const std::string plural = last_segment(parent(path));
  if (denied_.count("patch")) return status(403, "Forbidden", plural + " is forbidden: cannot patch resource \"" + plural + "\"");
  json obj = json::parse(body, nullptr, false);
  if (!obj.is_object() || !obj["metadata"].is_object()) return status(400, "BadRequest", "the body is not an object");
  if (obj["metadata"].value("name", "") != last_segment(path))
    return status(400, "BadRequest", "the name of the object does not match the name on the URL");
  json fields = json::object();
  flatten(obj, "", fields);
  const std::string api_version = obj.value("apiVersion", "");
  const json causes = take_fields(path, manager, fields, query_value(query, "force") == "true", api_version);
  if (!causes.empty()) {
    std::string message = "Apply failed with " + std::to_string(causes.size()) + " conflict" + (causes.size() == 1 ? "" : "s") + ":";
    for (const auto& c : causes) message += " " + c["message"].get<std::string>() + ": " + c["field"].get<std::string>() + ";";
    auto reply = status(409, "Conflict", message.substr(0, message.size() - 1));
    auto doc = json::parse(reply.body);
    doc["details"] = {{"causes", causes}};
    reply.body = doc.dump();
    return reply;
  }
  owners_[path][manager] = fields;
  bool created = false;
  if (plural == "deployments") {
    const std::string ns = last_segment(parent(parent(path)));
    apply_deployment(ns, last_segment(path), obj, created);
    return {created ? 201 : 200, deployments_.at(ns + "/" + last_segment(path)).obj.dump()};
  }
  auto [it, inserted] = objects_.try_emplace(path, json::object());
  created = inserted;
  const json before = it->second;
  it->second.merge_patch(obj);  // JSON merge: a null in the body would remove, as apply's "unset" does not; good enough here
  const int generation = created ? 0 : before["metadata"].value("generation", 1);
  it->second["metadata"]["generation"] = created || before.value("spec", json()) != it->second.value("spec", json()) ? generation + 1 : generation;
  rolled_out(it->second);
  it->second["metadata"]["resourceVersion"] = std::to_string(++version_);
  if (created && plural == "jobs") job_created(path);
  return {created ? 201 : 200, it->second.dump()};
}

void KubeStandin::apply_deployment(const std::string& ns, const std::string& name, const json& body, bool& created) {
  auto found = deployments_.find(ns + "/" + name);
  created = found == deployments_.end();
  if (created) {
    Entry e;
    e.obj = body;
    e.obj["metadata"]["generation"] = 1;
    e.obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "1";
    e.obj["status"] = json::object();
    auto& slot = deployments_[ns + "/" + name];
    slot = std::move(e);
    changed(slot, "ADDED");
    return;
  }
  Entry& e = found->second;
  json merged = e.obj;
  merged.merge_patch(body);
  const bool template_changed = merged["spec"]["template"] != e.obj["spec"]["template"];
  const json replicas = merged["spec"].value("replicas", json(1));
  e.obj["metadata"] = merged["metadata"];
  e.obj["spec"]["template"] = merged["spec"]["template"];
  bool scaled = false;
  if (replicas != e.obj["spec"].value("replicas", json(1)) && replicas.is_number_integer()) {
    scale(e, replicas.get<int>());
    scaled = true;
  }
  if (template_changed) new_revision(e);
  if (template_changed || scaled) changed(e, "MODIFIED");
}

StandinReply KubeStandin::json_patch(const std::string& path, const std::string& body) {
  if (last_segment(parent(path)) == "deployments") return deployment_json_patch(path, body);
  auto it = objects_.find(path);
  if (it == objects_.end()) return status(404, "NotFound", last_segment(parent(path)) + " \"" + last_segment(path) + "\" not found");
  if (denied_.count("patch")) return status(403, "Forbidden", "cannot patch " + path);
  const json ops = json::parse(body, nullptr, false);
  try {
    json patched = it->second.patch(ops);  // RFC 6902; a failed "test" throws
    it->second = std::move(patched);
  } catch (const json::exception& e) {
    return status(422, "Invalid", std::string("the server rejected our request due to an error in our request: ") + e.what());
  }
  it->second["metadata"]["resourceVersion"] = std::to_string(++version_);
  return {200, it->second.dump()};
}

StandinReply KubeStandin::deployment_json_patch(const std::string& path, const std::string& body) {
  auto it = deployments_.find(last_segment(parent(parent(path))) + "/" + last_segment(path));
  if (it == deployments_.end()) return status(404, "NotFound", "deployments.apps \"" + last_segment(path) + "\" not found");
  if (denied_.count("patch")) return status(403, "Forbidden", "cannot patch " + path);
  Entry& e = it->second;
  json patched;
  try {
    patched = e.obj.patch(json::parse(body, nullptr, false));
  } catch (const json::exception& ex) {
    return status(422, "Invalid", std::string("the server rejected our request due to an error in our request: ") + ex.what());
  }
  const bool template_changed = patched["spec"]["template"] != e.obj["spec"]["template"];
  const json replicas = patched["spec"].value("replicas", json(1));
  e.obj["metadata"] = patched["metadata"];
  e.obj["spec"]["template"] = patched["spec"]["template"];
  if (replicas != e.obj["spec"].value("replicas", json(1)) && replicas.is_number_integer()) scale(e, replicas.get<int>());
  if (template_changed) new_revision(e);
  changed(e, "MODIFIED");
  return {200, e.obj.dump()};
}

std::optional<StandinReply> KubeStandin::generic_get(const std::string& path, const std::string& query) {
  if (auto it = objects_.find(path); it != objects_.end()) {
    if (last_segment(parent(path)) == "jobs") job_read(path, it->second);
    return StandinReply{200, it->second.dump()};
  }
  const std::string plural = last_segment(path);
  if (!generic_plurals().contains(plural)) {
    if (generic_plurals().contains(last_segment(parent(path))))
      return status(404, "NotFound", last_segment(parent(path)) + " \"" + last_segment(path) + "\" not found");
    return std::nullopt;
  }
  if (denied_.count("list")) return status(403, "Forbidden", plural + " is forbidden: cannot list resource \"" + plural + "\"");
  const auto terms = selector_terms(query, "labelSelector");
  json items = json::array();
  for (const auto& [at, obj] : objects_)
    if (parent(at) == path && selects(terms, obj["metadata"].value("labels", json::object()))) items.push_back(obj);
  return StandinReply{200, list_of(plural, std::move(items)).dump()};
}

StandinReply KubeStandin::remove(const std::string& path) {
  if (denied_.count("delete")) return status(403, "Forbidden", "cannot delete " + path);
  owners_.erase(path);
  if (objects_.erase(path) == 1) return {200, json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Success"}}.dump()};
  const std::string prefix = "/apis/apps/v1/namespaces/";
  if (path.rfind(prefix, 0) == 0 && last_segment(parent(path)) == "deployments") {
    const std::string key = last_segment(parent(parent(path))) + "/" + last_segment(path);
    if (auto it = deployments_.find(key); it != deployments_.end()) {
      changed(it->second, "DELETED");
      deployments_.erase(it);
      return {200, json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Success"}}.dump()};
    }
  }
  return status(404, "NotFound", last_segment(parent(path)) + " \"" + last_segment(path) + "\" not found");
}

json KubeStandin::stored(const std::string& path) {
  std::lock_guard l(m_);
  if (auto it = objects_.find(path); it != objects_.end()) return it->second;
  if (last_segment(parent(path)) == "deployments")
    if (auto it = deployments_.find(last_segment(parent(parent(path))) + "/" + last_segment(path)); it != deployments_.end())
      return it->second.obj;
  return nullptr;
}

void KubeStandin::apply_as(const std::string& manager, const std::string& path, const json& body) {
  std::lock_guard l(m_);
  (void)apply(path, "fieldManager=" + manager + "&force=true", body.dump());
}

}  // namespace shipgate::testing
