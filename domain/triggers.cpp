#include "domain/triggers.hpp"

#include <algorithm>

#include "common/text.hpp"
#include "config/template.hpp"
#include "domain/input_rules.hpp"

namespace shipgate::orchestration {

namespace {

// Refuses the plan for an input that broke a rule; true when it did.
bool refused(Plan& plan, const char* field, const std::optional<std::string>& why) {
  if (!why) return false;
  plan.error = *why;
  plan.invalid = field;
  plan.deployments.clear();
  return true;
}

NewDeployment make(const config::Project& p, const config::Environment& e, std::string version, std::string sha,
                   std::string ref, std::map<std::string, std::string> images, config::Trigger trigger,
                   std::string actor, std::string reason) {
  NewDeployment d;
  d.project = p.name;
  d.environment = e.name;
  d.version = std::move(version);
  d.sha = std::move(sha);
  d.ref = std::move(ref);
  d.images = std::move(images);
  // A push of a tag is recorded as a tag: the event is the same, what it deploys is a release.
  d.trigger = trigger == Trigger::push && d.ref.rfind("refs/tags/", 0) == 0 ? Trigger::tag : trigger;
  d.actor = std::move(actor);
  d.initial = e.approval ? State::pending_approval : State::queued;
  d.reason = std::move(reason);
  return d;
}

}  // namespace

std::optional<std::map<std::string, std::string>> resolve_images(const config::Project& project,
                                                                 const config::Environment& env,
                                                                 const std::string& version, const std::string& sha,
                                                                 const std::string& ref,
                                                                 const std::map<std::string, std::string>& explicit_images,
                                                                 std::string& error) {
  config::TemplateVars vars = {{"sha", sha},
                               {"short_sha", sha.substr(0, 7)},
                               {"version", version},
                               {"ref", ref},
                               {"tag", ref.rfind("refs/tags/", 0) == 0 ? ref.substr(10) : std::string()},
                               {"branch", ref.rfind("refs/heads/", 0) == 0 ? ref.substr(11) : std::string()},
                               {"project", project.name},
                               {"environment", env.name}};
  const auto used = config::parse_template(env.tag_template).names;
  std::map<std::string, std::string> out;
  for (const auto& c : project.components) {
    if (auto it = explicit_images.find(c.name); it != explicit_images.end()) {
      out[c.name] = it->second;
      continue;
    }
    for (const auto& name : used) {
      auto v = vars.find(name);
      if (v != vars.end() && v->second.empty()) {
        error = "environment " + env.name + " builds image tags from \"" + env.tag_template + "\" but {" + name +
                "} is unknown for this version; send it or give images explicitly";
        return std::nullopt;
      }
    }
    auto tag = config::expand_template(env.tag_template, vars, &error);
    if (!tag) return std::nullopt;
    if (auto why = check_image_tag(*tag)) {
      error = "environment " + env.name + " builds the image tag \"" + *tag + "\" from \"" + env.tag_template +
              "\": " + *why;
      return std::nullopt;
    }
    out[c.name] = c.image + ":" + *tag;
  }
  return out;
}

Plan plan_push(const config::Project& project, const PushEvent& ev) {
  Plan plan;
  if (ev.deleted || ev.after.find_first_not_of('0') == std::string::npos) {
    plan.ignored = "ref " + ev.ref + " was deleted";
    return plan;
  }
  if (refused(plan, "ref", check_ref(ev.ref))) return plan;
  const bool is_branch = ev.ref.rfind("refs/heads/", 0) == 0;
  const bool is_tag = ev.ref.rfind("refs/tags/", 0) == 0;
  if (!is_branch && !is_tag) {
    plan.ignored = "ref " + ev.ref + " is neither a branch nor a tag";
    return plan;
  }
  if (refused(plan, "sha", check_sha(ev.after))) {
    plan.error = "push payload's 'after': " + plan.error;
    return plan;
  }
  const std::string name = ev.ref.substr(is_branch ? 11 : 10);
  if (is_tag && refused(plan, "version", check_version(name))) return plan;
  for (const auto& env : project.environments) {
    if (!env.deploy_on.count(config::Trigger::push)) continue;
    std::string version;
    if (is_branch) {
      const std::string& branch = env.branch.empty() ? project.branch : env.branch;
      if (name != branch) continue;
      version = ev.after;
    } else {
      if (env.tags.empty() || !glob_match(env.tags, name)) continue;
      version = name;
    }
    std::string error;
    auto images = resolve_images(project, env, version, ev.after, ev.ref, {}, error);
    if (!images) {
      refused(plan, "image", error);
      return plan;
    }
    plan.deployments.push_back(make(project, env, version, ev.after, ev.ref, std::move(*images), config::Trigger::push,
                                    ev.actor, "push of " + ev.ref + " by " + (ev.actor.empty() ? "unknown" : ev.actor)));
    plan.deployments.back().committed_ms = ev.committed_ms;
  }
  if (plan.deployments.empty())
    plan.ignored = (is_branch ? "branch " : "tag ") + name + " does not deploy any environment of " + project.name;
  return plan;
}

Plan plan_actions_request(const config::Project& project, const ActionsRequest& req) {
  Plan plan;
  if (refused(plan, "sha", check_sha(req.sha))) return plan;
  if (!req.ref.empty() && refused(plan, "ref", check_version(req.ref))) return plan;
  const auto* env = project.environment_for_github(req.environment);
  if (!env) {
    plan.ignored = "no environment of " + project.name + " gates the GitHub environment '" + req.environment + "'";
    return plan;
  }
  std::string reason = "GitHub Actions run " + std::to_string(req.run_id) + " asks to deploy " + req.sha.substr(0, 12);
  if (!req.actor.empty()) reason += " (started by " + req.actor + (req.event.empty() ? "" : " on " + req.event) + ")";
  auto d = make(project, *env, req.sha, req.sha, req.ref, {}, Trigger::github_actions, req.actor, std::move(reason));
  d.result = {{"github", {{"run_id", req.run_id}, {"deployment_id", req.deployment_id}, {"environment", req.environment}}}};
  plan.deployments.push_back(std::move(d));
  return plan;
}

Plan plan_version_request(const config::Project& project, const VersionRequest& req, config::Trigger trigger) {
  Plan plan;
  if (!req.sha.empty() && refused(plan, "sha", check_sha(req.sha))) return plan;
  if (!req.version.empty() && refused(plan, "version", check_version(req.version))) return plan;
  if (!req.ref.empty() && refused(plan, "ref", check_ref(req.ref))) return plan;
  if (req.sha.empty() && req.version.empty()) {
    plan.error = "needs sha or version";
    return plan;
  }
  for (const auto& [component, image] : req.images) {
    const auto* c = project.component(component);
    if (!c) {
      plan.error = "images: project " + project.name + " has no component '" + component + "'";
      return plan;
    }
    if (refused(plan, "image", check_image_override(*c, image))) return plan;
  }
  if (req.environment && !project.environment(*req.environment)) {
    plan.error = "project " + project.name + " has no environment '" + *req.environment + "'";
    return plan;
  }
  const std::string version = req.version.empty() ? req.sha : req.version;
  for (const auto& env : project.environments) {
    if (req.environment && env.name != *req.environment) continue;
    if (!env.deploy_on.count(trigger)) continue;
    std::string error;
    auto images = resolve_images(project, env, version, req.sha, req.ref, req.images, error);
    if (!images) {
      refused(plan, "image", error);
      return plan;
    }
    plan.deployments.push_back(make(project, env, version, req.sha, req.ref, std::move(*images), trigger, req.actor,
                                    std::string(config::to_string(trigger)) + " of " + version +
                                        (req.actor.empty() ? "" : " by " + req.actor)));
    plan.deployments.back().committed_ms = req.committed_ms;
  }
  if (plan.deployments.empty())
    plan.ignored = req.environment ? "environment " + *req.environment + " does not deploy on " +
                                         std::string(config::to_string(trigger))
                                   : "no environment of " + project.name + " deploys on " +
                                         std::string(config::to_string(trigger));
  return plan;
}

}  // namespace shipgate::orchestration

namespace shipgate::orchestration {

std::vector<std::pair<std::string, std::string>> config_change_lanes(const config::Config& config) {
  std::vector<std::pair<std::string, std::string>> lanes;
  for (const auto& project : config.projects)
    if (!project.config_paths.empty() && !project.environments.empty())
      lanes.emplace_back(project.name, project.environments.front().name);
  return lanes;
}

ConfigChanges config_changes(const std::map<std::string, std::string>& before, const std::map<std::string, std::string>& after,
                             const std::map<std::string, std::string>& project_files,
                             const std::map<std::string, std::vector<std::string>>& referenced,
                             const std::vector<std::string>& changed_files, const config::Config& config) {
  ConfigChanges out;
  for (const auto& [name, paths] : referenced)
    for (const auto& f : changed_files)
      for (const auto& p : paths)
        if (f == p || f.rfind(p + "/", 0) == 0) {
          auto& files = out[name];
          if (std::find(files.begin(), files.end(), f) == files.end()) files.push_back(f);
        }
  for (const auto& [name, section] : after) {
    const auto old = before.find(name);
    if (old != before.end() && old->second == section) continue;
    auto& files = out[name];
    const auto file = project_files.find(name);
    if (file != project_files.end() && std::find(changed_files.begin(), changed_files.end(), file->second) != changed_files.end())
      files.push_back(file->second);
  }
  for (const auto& project : config.projects)
    for (const auto& f : changed_files)
      for (const auto& pattern : project.config_paths)
        if (glob_match(pattern, f)) {
          auto& files = out[project.name];
          if (std::find(files.begin(), files.end(), f) == files.end()) files.push_back(f);
        }
  return out;
}

std::map<std::string, std::vector<std::string>> referenced_files(const config::Config& config, const std::string& folder) {
  std::map<std::string, std::vector<std::string>> out;
  const auto in_repo = [&folder](std::string p) {
    while (p.rfind("./", 0) == 0) p.erase(0, 2);
    while (!p.empty() && p.back() == '/') p.pop_back();
    return folder.empty() ? p : folder + "/" + p;
  };
  for (const auto& project : config.projects)
    for (const auto& env : project.environments)
      for (const auto& t : env.targets) {
        auto& paths = out[project.name];
        if (const auto* d = std::get_if<config::DokployTargetConfig>(&t.spec)) {
          if (!d->compose_file.empty()) paths.push_back(in_repo(d->compose_file));
          if (!d->env_file.empty()) paths.push_back(in_repo(d->env_file));
        } else if (const auto* k = std::get_if<config::KubernetesTargetConfig>(&t.spec); k && !k->manifests.empty()) {
          paths.push_back(in_repo(k->manifests));
        }
      }
  return out;
}

std::vector<std::pair<std::string, std::string>> redeploy_lanes(const config::Config& config, const ConfigChanges& changes) {
  std::vector<std::pair<std::string, std::string>> lanes;
  for (const auto& [name, files] : changes)
    if (const auto* p = config.project(name); p && !p->environments.empty())
      lanes.emplace_back(p->name, p->environments.front().name);
  return lanes;
}

Plan plan_config_redeploys(const config::Config& config, const ConfigChanges& changes, const CurrentVersions& current,
                           const std::string& commit, const std::string& actor) {
  Plan plan;
  for (const auto& [name, files] : changes) {
    const auto* project = config.project(name);
    if (!project || project->environments.empty()) continue;
    const auto& env = project->environments.front();
    const auto found = current.find({project->name, env.name});
    if (found == current.end()) continue;  // nothing deployed there yet: nothing to redeploy
    NewDeployment d = same_version_as(found->second, project->name, env.name, Trigger::config_change);
    d.config_commit = commit;
    d.actor = actor;
    std::string list;
    for (const auto& f : files) list += (list.empty() ? "" : ", ") + f;
    d.reason = "config change " + commit.substr(0, 7) + (list.empty() ? "" : " (" + list + ")");
    plan.deployments.push_back(std::move(d));
  }
  if (plan.deployments.empty()) plan.ignored = "no changed project has a version deployed";
  return plan;
}

Plan plan_config_change(const config::Config& config, const PlatformPush& push, const CurrentVersions& current) {
  Plan plan;
  const std::string branch = "refs/heads/" + config.platform->branch;
  if (push.deleted) {
    plan.ignored = "platform ref " + push.ref + " was deleted";
    return plan;
  }
  if (push.ref != branch) {
    plan.ignored = "platform push to " + push.ref + ", not " + branch;
    return plan;
  }
  std::vector<std::string> untouched, nothing_current;
  for (const auto& project : config.projects) {
    if (project.config_paths.empty() || project.environments.empty()) continue;
    std::string matched;
    for (const auto& file : push.files) {
      for (const auto& pattern : project.config_paths)
        if (glob_match(pattern, file)) matched = file;
      if (!matched.empty()) break;
    }
    if (matched.empty() && !push.truncated) {
      untouched.push_back(project.name);
      continue;
    }
    const auto& env = project.environments.front();
    const auto found = current.find({project.name, env.name});
    if (found == current.end()) {
      nothing_current.push_back(project.name);
      continue;
    }
    const Deployment* now = &found->second;
    NewDeployment d = same_version_as(*now, project.name, env.name, Trigger::config_change);
    d.config_commit = push.after;
    d.actor = push.actor;
    d.reason = "config change " + push.after.substr(0, 7) + " in " + config.platform->repository + " (" +
               (push.truncated && matched.empty() ? "change list truncated by GitHub" : "touched " + matched) + ")";
    plan.deployments.push_back(std::move(d));
  }
  if (plan.deployments.empty()) {
    plan.ignored = "platform push touches no project's config_paths";
    if (!nothing_current.empty()) {
      plan.ignored = "touched projects have nothing deployed yet:";
      for (const auto& n : nothing_current) plan.ignored += " " + n;
    }
  }
  return plan;
}

}  // namespace shipgate::orchestration
