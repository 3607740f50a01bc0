#include "config/loader_internal.hpp"

#include <cctype>
#include <cstdlib>
#include <set>
#include <tuple>
#include <unordered_map>

#include "common/text.hpp"
#include "config/template.hpp"
#include "config/time_zone.hpp"
#include "config/units.hpp"

namespace shipgate::config::detail {

void Loader::load_dokploy(Section& t, const Project& project, TargetConfig& out) {
  DokployTargetConfig d;
  const std::string& path = t.path();
  t.nonempty("component", d.component);
  if (!d.component.empty() && !project.component(d.component))
    error(t.at("component"), "project " + project.name + " has no component '" + d.component + "'");
  if (const auto env = t["env"]) {
    if (is_map(env, t.at("env"))) {
      check_duplicates(env, t.at("env"));
      for (const auto& kv : env) {
        const std::string key = kv.first.Scalar();
        const std::string p = t.at("env") + "." + key;
        bool name_ok = !key.empty() && !std::isdigit(static_cast<unsigned char>(key[0]));
        for (char c : key) name_ok = name_ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
        if (!name_ok) error(p, "environment names use letters, digits and '_' and do not start with a digit");
        if (auto v = string(kv.second, p)) {
          check_template(*v, p, &project);
          d.env[key] = *v;
        }
      }
    }
  }
  t.boolean("pin_version", d.pin_version);
  for (auto [key, name, text] : {std::tuple{"compose_file", &d.compose_file, &d.compose_file_text},
                                 std::tuple{"env_file", &d.env_file, &d.env_file_text}}) {
    t.nonempty(key, *name);
    if (!name->empty()) read_file(config_relative(*name), t.at(key), *text);
  }
  if (!d.env_file_text.empty() && d.env_file_text.find('\0') != std::string::npos)
    error(t.at("env_file"), "is not a text of KEY=value lines");
  t.nonempty("url", d.url);
  t.nonempty("api_key", d.api_key);
  t.nonempty("application_id", d.application_id);
  t.nonempty("compose_id", d.compose_id);
  t.nonempty("deploy_url", d.deploy_url);
  t.nonempty("ca_file", d.tls.ca_file);
  t.duration("poll_interval", d.poll_interval);
  t.duration("timeout", d.timeout);
  const bool url = bool(t["url"]), api_key = bool(t["api_key"]), application = bool(t["application_id"]),
             compose = bool(t["compose_id"]);
  if (!d.deploy_url.empty()) {
    check_url(d.deploy_url, t.at("deploy_url"));
    if (url || api_key || application || compose)
      error(path, "deploy_url mode takes no url, api_key, application_id or compose_id");
    if (!d.component.empty() || !d.env.empty() || !d.compose_file.empty() || !d.env_file.empty())
      error(path, "deploy_url mode cannot set an image, a compose file or an environment; use API mode (url, api_key)");
  } else {
    if (!url) error(t.at("url"), "is required (or use deploy_url)");
    else if (!d.url.empty()) check_url(d.url, t.at("url"));
    if (!api_key) error(t.at("api_key"), "is required in API mode");
    if (application == compose) error(path, "needs exactly one of application_id or compose_id");
    while (!d.url.empty() && d.url.back() == '/') d.url.pop_back();
    // The version must reach Dokploy: an application through its image, a compose stack through env.
    if (d.pin_version && application && d.component.empty()) {
      if (project.components.size() == 1) d.component = project.components.front().name;
      else
        error(t.at("component"), "names the component whose image this application runs (the project has " +
                                     std::to_string(project.components.size()) +
                                     " components), or set pin_version: false to deploy what Dokploy is configured with");
    }
    if (!d.compose_file.empty() && !compose) error(t.at("compose_file"), "belongs to a compose stack (compose_id)");
    if (d.pin_version && compose && d.env.empty())
      error(t.at("env"), "a compose stack gets the version through its environment: set keys such as "
                         "{ VERSION: \"{version}\" }, or set pin_version: false");
  }
  out.spec = std::move(d);
}

void Loader::load_http(Section& t, const Project& project, TargetConfig& out) {
  HttpTargetConfig h;
  load_request(t, project, {"POST", "PUT", "PATCH", "GET"}, h.url, h.method, h.headers, h.body);
  t.nonempty("secret", h.secret);
  t.duration("timeout", h.timeout);
  t.nonempty("ca_file", h.tls.ca_file);
  out.spec = std::move(h);
}

void Loader::load_request(Section& s, const Project& project, std::initializer_list<std::string_view> methods,
                          std::string& url, std::string& method, std::map<std::string, std::string>& headers,
                          nlohmann::json& body) {
  if (s.require("url")) s.nonempty("url", url);
  if (!url.empty()) {
    check_url(url, s.at("url"));
    check_template(url, s.at("url"), &project);
  }
  if (const auto m = s.text("method")) {
    std::string list;
    bool known = false;
    for (auto allowed : methods) {
      known = known || *m == allowed;
      list += (list.empty() ? "" : ", ") + std::string(allowed);
    }
    if (!known) error(s.at("method"), "must be one of " + list);
    else method = *m;
  }
  if (const auto hs = s["headers"]) {
    if (is_map(hs, s.at("headers")))
      for (const auto& kv : hs) {
        const std::string p = s.at("headers") + "." + kv.first.Scalar();
        if (auto v = string(kv.second, p)) {
          check_template(*v, p, &project);
          headers[kv.first.Scalar()] = *v;
        }
      }
  }
  if (const auto b = s["body"]) {
    body = to_json(b, s.at("body"));
    check_template_json(body, s.at("body"), &project);
  }
}

void Loader::load_kubernetes(Section& t, const Project& project, TargetConfig& out) {
  KubernetesTargetConfig k;
  if (t.require("namespace")) t.nonempty("namespace", k.namespace_);
  const auto deployments = t["deployments"];
  const std::string dpath = t.at("deployments");
  t.nonempty("manifests", k.manifests);
  t.boolean("prune", k.prune);
  t.boolean("force", k.force);
  if (!k.manifests.empty()) load_manifests(t.at("manifests"), project, k);
  if ((k.prune || k.force) && k.manifests.empty()) error(t.at(k.prune ? "prune" : "force"), "applies to manifests only");
  if (deployments && t["manifests"]) {
    error(dpath, "a target either applies manifests or sets images on existing Deployments, not both");
  } else if (!deployments && !t["manifests"]) {
    error(dpath, "is required (component: deployment name), unless the target applies manifests");
  } else if (deployments && is_map(deployments, dpath)) {
    check_duplicates(deployments, dpath);
    for (const auto& kv : deployments) {
      const std::string component = kv.first.Scalar();
      const std::string p = dpath + "." + component;
      if (!project.component(component)) error(p, "project " + project.name + " has no component '" + component + "'");
      KubernetesWorkload w{component, {}, component};
      if (kv.second.IsMap()) {
        Section workload(*this, kv.second, p);
        if (workload.require("deployment")) workload.nonempty("deployment", w.deployment);
        workload.nonempty("container", w.container);
        if (workload["replicas"]) {
          int n = -1;
          workload.integer("replicas", n, 0, 10000);
          if (n >= 0) w.replicas = n;
        }
      } else if (auto v = nonempty_string(kv.second, p)) {
        w.deployment = *v;
      }
      k.workloads.push_back(std::move(w));
    }
    if (k.workloads.empty()) error(dpath, "needs at least one component");
  }
  t.nonempty("kubeconfig", k.kubeconfig);
  t.nonempty("context", k.context);
  if (t["context"] && !t["kubeconfig"]) error(t.at("context"), "needs kubeconfig");
  t.nonempty("service_account_dir", k.service_account_dir);
  t.duration("rollout_timeout", k.rollout_timeout);
  t.duration("poll_interval", k.poll_interval);
  load_blue_green(t, k);
  if (const auto drift = t["drift"]; drift && is_map(drift, t.at("drift"))) {
    Section d(*this, drift, t.at("drift"));
    DriftConfig c;
    d.boolean("self_heal", c.self_heal);
    d.duration("relist", c.relist);
    d.integer("max_heals", c.max_heals, 1, 1000);
    d.duration("heal_window", c.heal_window);
    if (c.relist < std::chrono::seconds(1)) error(d.at("relist"), "must be at least 1s");
    if (c.heal_window.count() <= 0) error(d.at("heal_window"), "must be greater than 0");
    k.drift = c;
  }
  out.spec = std::move(k);
}

void Loader::load_command(Section& t, const Project& project, TargetConfig& out) {
  CommandTargetConfig c;
  if (t.require("argv", "the program and its arguments")) {
    t.list("argv", c.argv);
    if (c.argv.empty()) error(t.at("argv"), "needs at least the program");
  }
  for (std::size_t i = 0; i < c.argv.size(); ++i)
    check_template(c.argv[i], t.at("argv") + "[" + std::to_string(i) + "]", &project);
  t.duration("timeout", c.timeout);
  t.nonempty("workdir", c.workdir);
  if (const auto env = t["env"]) {
    if (is_map(env, t.at("env")))
      for (const auto& kv : env)
        if (auto v = string(kv.second, t.at("env") + "." + kv.first.Scalar())) c.env[kv.first.Scalar()] = *v;
  }
  out.spec = std::move(c);
}

void Loader::load_smoke(const YAML::Node& n, const std::string& path, const Project& project,
                        std::vector<SmokeCheck>& out) {
  if (!n.IsSequence()) {
    error(path, "must be a list of checks");
    return;
  }
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string p = path + "[" + std::to_string(i) + "]";
    if (!is_map(n[i], p)) continue;
    Section check(*this, n[i], p);
    SmokeCheck c;
    load_request(check, project, {"GET", "POST", "PUT", "HEAD"}, c.url, c.method, c.headers, c.body);
    if (!c.body.is_null() && (c.method == "GET" || c.method == "HEAD"))
      error(check.at("body"), "needs method POST or PUT");
    check.integer("expect", c.expect, 100, 599);
    check.string("body_contains", c.body_contains);
    if (!c.body_contains.empty()) check_template(c.body_contains, check.at("body_contains"), &project);
    check.integer("attempts", c.attempts, 1, 1000);
    check.duration("interval", c.interval);
    check.duration("timeout", c.timeout);
    check.nonempty("ca_file", c.tls.ca_file);
    out.push_back(std::move(c));
  }
}

void Loader::load_targets(const YAML::Node& n, const std::string& path, const Project& project,
                  std::vector<TargetConfig>& out) {
  if (!n.IsSequence()) {
    error(path, "must be a list of targets");
    return;
  }
  if (n.size() == 0) error(path, "needs at least one target");
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string p = path + "[" + std::to_string(i) + "]";
    if (!is_map(n[i], p)) continue;
    Section t(*this, n[i], p);
    TargetConfig target;
    if (!t.require("type", "dokploy, http, kubernetes or command")) {
      t.abandon();  // its other keys depend on the type
      continue;
    }
    const auto type = t.text("type");
    if (!type) {
      t.abandon();
      continue;
    }
    target.type = *type;
    if (*type == "dokploy") load_dokploy(t, project, target);
    else if (*type == "http") load_http(t, project, target);
    else if (*type == "kubernetes") load_kubernetes(t, project, target);
    else if (*type == "command") load_command(t, project, target);
    else {
      error(t.at("type"), "unknown target type '" + *type + "' (dokploy, http, kubernetes, command)");
      t.abandon();
      continue;
    }
    out.push_back(std::move(target));
  }
}

void Loader::load_environment(const YAML::Node& n, const std::string& path, Project& project, Environment& env) {
  if (!is_map(n, path)) return;
  Section e(*this, n, path);
  std::vector<std::string> deploy_on;
  e.list("deploy_on", deploy_on);
  for (std::size_t i = 0; i < deploy_on.size(); ++i) {
    if (auto t = parse_trigger(deploy_on[i]); t && is_deploy_on_trigger(*t)) env.deploy_on.insert(*t);
    else error(e.at("deploy_on") + "[" + std::to_string(i) + "]",
               "unknown trigger '" + deploy_on[i] + "' (push, dispatch, build, release)");
  }
  e.nonempty("branch", env.branch);
  e.nonempty("url", env.url);
  e.nonempty("github_environment", env.github_environment);
  if (env.github_environment.empty()) env.github_environment = env.name;
  else if (!is_plain_text(env.github_environment, 255))
    error(e.at("github_environment"), "is a GitHub environment name: up to 255 characters, none a control character");
  if (const auto watch = e["watch"]) load_watch(watch, e.at("watch"), project, env);
  if (!env.url.empty()) check_url(env.url, e.at("url"));
  e.nonempty("tags", env.tags);
  std::string tag;
  e.nonempty("tag", tag);
  if (!tag.empty()) check_template(tag, e.at("tag"), nullptr);
  env.tag_template = tag.empty() ? "{sha}" : tag;
  e.nonempty("promote_from", env.promote_from);
  if (const auto promote = e["promote"]; promote && is_map(promote, e.at("promote"))) {
    Section p(*this, promote, e.at("promote"));
    if (auto images = p.text("images")) {
      if (*images == "retag") env.promote_images = Environment::PromoteImages::retag;
      else if (*images != "copy") error(p.at("images"), "must be copy (the images the environment before tested) or retag");
    }
  }
  e.duration("wait_for_images", env.wait_for_images);
  e.boolean("pin_digests", env.pin_digests);
  if (const auto approval = e["approval"]) {
    ApprovalConfig a;
    load_approval(approval, e.at("approval"), a);
    env.approval = a;
  }
  e.nonempty("confirm", env.confirm);
  if (const auto windows = e["windows"]) load_windows(windows, e.at("windows"), env.windows);
  if (const auto smoke = e["smoke"]) load_smoke(smoke, e.at("smoke"), project, env.smoke);
  e.boolean("rollback_on_failure", env.rollback_on_failure);
  if (const auto freezes = e["freezes"]) load_freezes(freezes, e.at("freezes"), env.freezes);
  if (const auto schedules = e["schedules"]) load_schedules(schedules, e.at("schedules"), env.schedules);
  if (const auto analysis = e["analysis"]) load_analysis(analysis, e.at("analysis"), env.analysis);
  if (e.require("targets")) load_targets(e["targets"], e.at("targets"), project, env.targets);
  if (e["before"]) load_before(e["before"], e.at("before"), project, env);
  check_preview_url(e.at("smoke"), env);
  if (const auto canary = e["canary"]) load_canary(canary, e.at("canary"), env);
}

void Loader::load_project(const YAML::Node& n, const std::string& path, Project& p) {
  if (!is_map(n, path)) return;
  Section project(*this, n, path);
  project.boolean("trust_build_actor", p.trust_build_actor);
  if (const auto github = project["github_deployments"])
    load_github_deployments(github, project.at("github_deployments"), p.github_deployments);
  if (const auto report = project["report"]; report && is_map(report, project.at("report"))) {
    Section r(*this, report, project.at("report"));
    r.boolean("commit_status", p.report_commit_status);
    r.boolean("pull_request", p.report_pull_request);
  }
  if (project.require("repository", "owner/name")) project.nonempty("repository", p.repository);
  if (!p.repository.empty()) {
    const auto slash = p.repository.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == p.repository.size() ||
        p.repository.find('/', slash + 1) != std::string::npos)
      error(project.at("repository"), "must be owner/name");
  }
  project.nonempty("secret", p.secret);
  project.nonempty("branch", p.branch);
  project.list("config_paths", p.config_paths);
  if (const auto cs = project["components"]) load_components(cs, project.at("components"), p);
  if (!project.require("environments")) return;
  const auto envs = project["environments"];
  if (!is_map(envs, project.at("environments"))) return;
  check_duplicates(envs, project.at("environments"));
  for (const auto& kv : envs) {
    const std::string ename = kv.first.Scalar();
    const std::string epath = join(project.at("environments"), ename);
    if (!valid_name(ename)) error(epath, "environment names use lowercase letters, digits, '-' and '_'");
    Environment e;
    e.name = ename;
    load_environment(kv.second, epath, p, e);
    p.environments.push_back(std::move(e));
  }
  // Cross-references inside the project.
  for (const auto& e : p.environments) {
    const std::string epath = join(project.at("environments"), e.name);
    if (e.promote_images == Environment::PromoteImages::retag && e.promote_from.empty())
      error(epath + ".promote.images", "retag applies to promoted versions: set promote_from");
    if (!e.promote_from.empty()) {
      if (e.promote_from == e.name) error(epath + ".promote_from", "cannot promote from itself");
      else if (!p.environment(e.promote_from))
        error(epath + ".promote_from", "unknown environment '" + e.promote_from + "'");
    }
  }
}

void Loader::load_components(const YAML::Node& cs, const std::string& path, Project& p) {
  if (!is_map(cs, path)) return;
  check_duplicates(cs, path);
  for (const auto& kv : cs) {
    const std::string cname = kv.first.Scalar();
    const std::string cpath = join(path, cname);
    if (!valid_name(cname)) error(cpath, "component names use lowercase letters, digits, '-' and '_'");
    if (!is_map(kv.second, cpath)) continue;
    Section component(*this, kv.second, cpath);
    Component c{cname, {}, {}};
    component.list("allow_repositories", c.allow_repositories);
    if (component.require("image")) component.nonempty("image", c.image);
    const auto last_slash = c.image.rfind('/');
    const auto colon = c.image.find(':', last_slash == std::string::npos ? 0 : last_slash);
    if (colon != std::string::npos || c.image.find('@') != std::string::npos)
      error(component.at("image"), "must not carry a tag or digest; the environment's tag template adds it");
    p.components.push_back(std::move(c));
  }
}

void Loader::load_github_deployments(const YAML::Node& n, const std::string& path, std::optional<GithubDeploymentsConfig>& out) {
  if (!is_map(n, path)) return;
  Section github(*this, n, path);
  GithubDeploymentsConfig g;
  github.nonempty("token", g.token);  // required unless github_app gives one (checked with the whole config)
  load_github_api(github, g.api_url, g.tls);
  out = std::move(g);
}

}  // namespace shipgate::config::detail
