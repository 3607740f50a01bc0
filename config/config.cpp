#include "config/config.hpp"

#include <algorithm>

#include "common/text.hpp"

namespace shipgate::config {

std::optional<Permission> parse_permission(std::string_view s) {
  if (s == "view") return Permission::view;
  if (s == "approve") return Permission::approve;
  if (s == "deploy") return Permission::deploy;
  if (s == "rollback") return Permission::rollback;
  if (s == "override") return Permission::override_;
  if (s == "reload") return Permission::reload;
  return std::nullopt;
}

std::string_view to_string(Permission p) {
  switch (p) {
    case Permission::view: return "view";
    case Permission::approve: return "approve";
    case Permission::deploy: return "deploy";
    case Permission::rollback: return "rollback";
    case Permission::override_: return "override";
    case Permission::reload: return "reload";
  }
  return "?";
}

bool Reviewer::may(Permission p, std::string_view project) const {
  if (!projects.empty()) {
    bool listed = false;
    for (const auto& name : projects) listed = listed || name == project;
    if (!listed) return false;
  }
  // Every reviewer may read; other permissions are granted explicitly.
  return p == Permission::view || can.count(p) > 0;
}

std::string_view to_string(Schedule::Action a) { return a == Schedule::Action::redeploy ? "redeploy" : "verify"; }

std::string Schedule::key() const { return cron + " " + timezone + " " + std::string(to_string(action)); }

TargetConfig Environment::canary_target() const {
  TargetConfig out = targets.at(canary->target);
  auto& k = std::get<KubernetesTargetConfig>(out.spec);
  k.workloads = {KubernetesWorkload{canary->component, canary->deployment, canary->container}};
  k.manifest_files.clear();
  k.canary = CanaryRouting{canary->main_deployment, canary->traffic};
  return out;
}

const Environment* Project::environment(std::string_view n) const {
  for (const auto& e : environments)
    if (e.name == n) return &e;
  return nullptr;
}

const Environment* Project::environment_for_github(std::string_view n) const {
  for (const auto& e : environments)
    if (to_lower(e.github_environment) == to_lower(n)) return &e;
  return nullptr;
}

const Component* Project::component(std::string_view n) const {
  for (const auto& c : components)
    if (c.name == n) return &c;
  return nullptr;
}

void Config::index() {
  by_name_.clear();
  by_repository_.clear();
  any_project_secret_ = false;
  for (std::size_t i = 0; i < projects.size(); ++i) {
    any_project_secret_ = any_project_secret_ || !projects[i].secret.empty();
    by_name_.emplace(projects[i].name, i);
    by_repository_.emplace(to_lower(projects[i].repository), i);  // the first one wins, as before
  }
}

const Project* Config::project(std::string_view n) const {
  if (!by_name_.empty() || projects.empty()) {
    auto it = by_name_.find(std::string(n));
    return it == by_name_.end() ? nullptr : &projects[it->second];
  }
  for (const auto& p : projects)  // not indexed (a Config built by hand)
    if (p.name == n) return &p;
  return nullptr;
}

const Project* Config::project_by_repository(std::string_view full_name) const {
  const std::string wanted = to_lower(full_name);
  if (!by_repository_.empty() || projects.empty()) {
    auto it = by_repository_.find(wanted);
    return it == by_repository_.end() ? nullptr : &projects[it->second];
  }
  for (const auto& p : projects)
    if (to_lower(p.repository) == wanted) return &p;
  return nullptr;
}

const Reviewer* Config::reviewer(std::string_view n) const {
  for (const auto& r : reviewers)
    if (r.name == n) return &r;
  return nullptr;
}

const RegistryConfig* Config::registry(const std::string& host) const {
  const auto it = registries.find(host);
  return it == registries.end() ? nullptr : &it->second;
}

bool Config::reports_events() const {
  if (!notify.empty() || github_app) return true;  // the app answers GitHub Actions jobs through the outbox
  for (const auto& p : projects)
    if (p.github_deployments || p.report_commit_status || p.report_pull_request) return true;
  return false;
}

std::vector<std::string> secret_values(const Config& c) {
  std::vector<std::string> out(c.github.secrets.begin(), c.github.secrets.end());
  for (const auto& n : c.notify) out.insert(out.end(), {n.url, n.secret});
  for (const auto& [host, r] : c.registries) out.push_back(r.password);
  for (const auto& p : c.projects) {
    out.push_back(p.secret);
    if (p.github_deployments) out.push_back(p.github_deployments->token);
    for (const auto& e : p.environments)
      for (const auto& t : e.targets) {
        if (const auto* d = std::get_if<DokployTargetConfig>(&t.spec)) out.insert(out.end(), {d->api_key, d->deploy_url});
        if (const auto* h = std::get_if<HttpTargetConfig>(&t.spec)) {
          out.push_back(h->secret);
          for (const auto& [name, value] : h->headers) out.push_back(value);
        }
      }
  }
  std::erase_if(out, [](const std::string& v) { return v.size() < 6; });
  // Longest first, so a secret that contains another is replaced whole.
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.size() != b.size() ? a.size() > b.size() : a < b; });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> unpinned_targets(const Config& c) {
  std::vector<std::string> out;
  for (const auto& p : c.projects)
    for (const auto& e : p.environments)
      for (std::size_t i = 0; i < e.targets.size(); ++i) {
        const auto* d = std::get_if<DokployTargetConfig>(&e.targets[i].spec);
        if (!d) continue;
        const std::string where = "projects." + p.name + ".environments." + e.name + ".targets[" + std::to_string(i) + "]";
        if (!d->deploy_url.empty())
          out.push_back(where + ": a Dokploy deploy URL only triggers a build of the application's configured "
                                "source; shipgate cannot make it run this deployment's version");
        else if (!d->pin_version)
          out.push_back(where + ": pin_version is false; Dokploy deploys what it is configured with, not "
                                "necessarily this deployment's version");
      }
  return out;
}

}  // namespace shipgate::config
