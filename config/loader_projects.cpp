#include "config/loader_internal.hpp"

#include <cctype>
#include <cstdlib>
#include <set>
#include <unordered_map>

#include "common/text.hpp"
#include "config/template.hpp"
#include "config/time_zone.hpp"
#include "config/units.hpp"

namespace shipgate::config::detail {

void Loader::load_dokploy(const YAML::Node& t, const std::string& path, TargetConfig& out) {
  check_keys(t, path, {"type", "url", "api_key", "application_id", "compose_id", "deploy_url",
                       "poll_interval", "timeout", "ca_file"});
  DokployTargetConfig d;
  auto get = [&](const char* key, std::string& field) {
    if (t[key])
      if (auto v = nonempty_string(t[key], join(path, key))) field = *v;
  };
  get("url", d.url);
  get("api_key", d.api_key);
  get("application_id", d.application_id);
  get("compose_id", d.compose_id);
  get("deploy_url", d.deploy_url);
  get("ca_file", d.tls.ca_file);
  if (t["poll_interval"])
    if (auto v = duration(t["poll_interval"], path + ".poll_interval")) d.poll_interval = *v;
  if (t["timeout"])
    if (auto v = duration(t["timeout"], path + ".timeout")) d.timeout = *v;
  if (!d.deploy_url.empty()) {
    check_url(d.deploy_url, path + ".deploy_url");
    if (t["url"] || t["api_key"] || t["application_id"] || t["compose_id"])
      error(path, "deploy_url mode takes no url, api_key, application_id or compose_id");
  } else {
    if (!t["url"]) error(path + ".url", "is required (or use deploy_url)");
    else if (!d.url.empty()) check_url(d.url, path + ".url");
    if (!t["api_key"]) error(path + ".api_key", "is required in API mode");
    if (bool(t["application_id"]) == bool(t["compose_id"]))
      error(path, "needs exactly one of application_id or compose_id");
    while (!d.url.empty() && d.url.back() == '/') d.url.pop_back();
  }
  out.spec = std::move(d);
}

void Loader::load_http(const YAML::Node& t, const std::string& path, const Project& project, TargetConfig& out) {
  check_keys(t, path, {"type", "url", "method", "headers", "body", "secret", "timeout", "ca_file"});
  HttpTargetConfig h;
  if (!t["url"]) error(path + ".url", "is required");
  else if (auto v = nonempty_string(t["url"], path + ".url")) {
    check_url(*v, path + ".url");
    check_template(*v, path + ".url", &project);
    h.url = *v;
  }
  if (t["method"])
    if (auto v = nonempty_string(t["method"], path + ".method")) {
      if (*v != "POST" && *v != "PUT" && *v != "PATCH" && *v != "GET")
        error(path + ".method", "must be POST, PUT, PATCH or GET");
      h.method = *v;
    }
  if (const auto hs = t["headers"]) {
    if (is_map(hs, path + ".headers"))
      for (const auto& kv : hs)
        if (auto v = string(kv.second, path + ".headers." + kv.first.Scalar())) {
          check_template(*v, path + ".headers." + kv.first.Scalar(), &project);
          h.headers[kv.first.Scalar()] = *v;
        }
  }
  if (t["body"]) {
    h.body = to_json(t["body"], path + ".body");
    check_template_json(h.body, path + ".body", &project);
  }
  if (t["secret"])
    if (auto v = nonempty_string(t["secret"], path + ".secret")) h.secret = *v;
  if (t["timeout"])
    if (auto v = duration(t["timeout"], path + ".timeout")) h.timeout = *v;
  if (t["ca_file"])
    if (auto v = nonempty_string(t["ca_file"], path + ".ca_file")) h.tls.ca_file = *v;
  out.spec = std::move(h);
}

void Loader::load_kubernetes(const YAML::Node& t, const std::string& path, const Project& project, TargetConfig& out) {
  check_keys(t, path, {"type", "namespace", "deployments", "kubeconfig", "context", "service_account_dir",
                       "rollout_timeout", "poll_interval"});
  KubernetesTargetConfig k;
  if (!t["namespace"]) error(path + ".namespace", "is required");
  else if (auto v = nonempty_string(t["namespace"], path + ".namespace")) k.namespace_ = *v;
  if (!t["deployments"]) {
    error(path + ".deployments", "is required (component: deployment name)");
  } else if (is_map(t["deployments"], path + ".deployments")) {
    check_duplicates(t["deployments"], path + ".deployments");
    for (const auto& kv : t["deployments"]) {
      const std::string component = kv.first.Scalar();
      const std::string p = path + ".deployments." + component;
      if (!project.component(component)) error(p, "project " + project.name + " has no component '" + component + "'");
      KubernetesWorkload w{component, {}, component};
      if (kv.second.IsMap()) {
        check_keys(kv.second, p, {"deployment", "container"});
        if (!kv.second["deployment"]) error(p + ".deployment", "is required");
        else if (auto v = nonempty_string(kv.second["deployment"], p + ".deployment")) w.deployment = *v;
        if (kv.second["container"])
          if (auto v = nonempty_string(kv.second["container"], p + ".container")) w.container = *v;
      } else if (auto v = nonempty_string(kv.second, p)) {
        w.deployment = *v;
      }
      k.workloads.push_back(std::move(w));
    }
    if (k.workloads.empty()) error(path + ".deployments", "needs at least one component");
  }
  if (t["kubeconfig"])
    if (auto v = nonempty_string(t["kubeconfig"], path + ".kubeconfig")) k.kubeconfig = *v;
  if (t["context"])
    if (auto v = nonempty_string(t["context"], path + ".context")) k.context = *v;
  if (t["context"] && !t["kubeconfig"]) error(path + ".context", "needs kubeconfig");
  if (t["service_account_dir"])
    if (auto v = nonempty_string(t["service_account_dir"], path + ".service_account_dir")) k.service_account_dir = *v;
  if (t["rollout_timeout"])
    if (auto v = duration(t["rollout_timeout"], path + ".rollout_timeout")) k.rollout_timeout = *v;
  if (t["poll_interval"])
    if (auto v = duration(t["poll_interval"], path + ".poll_interval")) k.poll_interval = *v;
  out.spec = std::move(k);
}

void Loader::load_command(const YAML::Node& t, const std::string& path, const Project& project, TargetConfig& out) {
  check_keys(t, path, {"type", "argv", "timeout", "workdir", "env"});
  CommandTargetConfig c;
  if (!t["argv"]) error(path + ".argv", "is required (the program and its arguments)");
  else c.argv = string_list(t["argv"], path + ".argv");
  if (t["argv"] && c.argv.empty()) error(path + ".argv", "needs at least the program");
  for (std::size_t i = 0; i < c.argv.size(); ++i) check_template(c.argv[i], path + ".argv[" + std::to_string(i) + "]", &project);
  if (t["timeout"])
    if (auto v = duration(t["timeout"], path + ".timeout")) c.timeout = *v;
  if (t["workdir"])
    if (auto v = nonempty_string(t["workdir"], path + ".workdir")) c.workdir = *v;
  if (const auto env = t["env"]) {
    if (is_map(env, path + ".env"))
      for (const auto& kv : env)
        if (auto v = string(kv.second, path + ".env." + kv.first.Scalar())) c.env[kv.first.Scalar()] = *v;
  }
  out.spec = std::move(c);
}

void Loader::load_smoke(const YAML::Node& n, const std::string& path, std::vector<SmokeCheck>& out) {
  if (!n.IsSequence()) {
    error(path, "must be a list of checks");
    return;
  }
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string p = path + "[" + std::to_string(i) + "]";
    if (!is_map(n[i], p)) continue;
    check_keys(n[i], p, {"url", "expect", "body_contains", "attempts", "interval", "timeout", "ca_file"});
    SmokeCheck c;
    if (!n[i]["url"]) error(p + ".url", "is required");
    else if (auto v = nonempty_string(n[i]["url"], p + ".url")) {
      check_url(*v, p + ".url");
      c.url = *v;
    }
    if (n[i]["expect"])
      if (auto v = integer(n[i]["expect"], p + ".expect", 100, 599)) c.expect = static_cast<int>(*v);
    if (n[i]["body_contains"])
      if (auto v = string(n[i]["body_contains"], p + ".body_contains")) c.body_contains = *v;
    if (n[i]["attempts"])
      if (auto v = integer(n[i]["attempts"], p + ".attempts", 1, 1000)) c.attempts = static_cast<int>(*v);
    if (n[i]["interval"])
      if (auto v = duration(n[i]["interval"], p + ".interval")) c.interval = *v;
    if (n[i]["timeout"])
      if (auto v = duration(n[i]["timeout"], p + ".timeout")) c.timeout = *v;
    if (n[i]["ca_file"])
      if (auto v = nonempty_string(n[i]["ca_file"], p + ".ca_file")) c.tls.ca_file = *v;
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
    const YAML::Node t = n[i];
    if (!is_map(t, p)) continue;
    TargetConfig target;
    if (!t["type"]) {
      error(p + ".type", "is required (dokploy, http, kubernetes or command)");
      continue;
    }
    auto type = string(t["type"], p + ".type");
    if (!type) continue;
    target.type = *type;
    if (*type == "dokploy") load_dokploy(t, p, target);
    else if (*type == "http") load_http(t, p, project, target);
    else if (*type == "kubernetes") load_kubernetes(t, p, project, target);
    else if (*type == "command") load_command(t, p, project, target);
    else {
      error(p + ".type", "unknown target type '" + *type + "' (dokploy, http, kubernetes, command)");
      continue;
    }
    out.push_back(std::move(target));
  }
}

void Loader::load_approval(const YAML::Node& n, const std::string& path, ApprovalConfig& a) {
  if (!is_map(n, path)) return;
  check_keys(n, path, {"required", "reviewers", "expire_after", "allow_self_approval"});
  if (n["required"])
    if (auto v = integer(n["required"], path + ".required", 1, 100)) a.required = static_cast<int>(*v);
  if (n["reviewers"]) a.reviewers = string_list(n["reviewers"], path + ".reviewers");
  if (n["expire_after"])
    if (auto v = duration(n["expire_after"], path + ".expire_after")) a.expire_after = *v;
  if (n["allow_self_approval"])
    if (auto v = boolean(n["allow_self_approval"], path + ".allow_self_approval")) a.allow_self_approval = *v;
}

void Loader::load_windows(const YAML::Node& n, const std::string& path, std::vector<DeployWindow>& out) {
  if (!n.IsSequence()) {
    error(path, "must be a list of windows");
    return;
  }
  static const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string p = path + "[" + std::to_string(i) + "]";
    if (!is_map(n[i], p)) continue;
    check_keys(n[i], p, {"days", "from", "to", "timezone"});
    DeployWindow w;
    if (!n[i]["days"]) {
      for (int d = 0; d < 7; ++d) w.days.insert(d);
    } else {
      const auto days = string_list(n[i]["days"], p + ".days");
      for (std::size_t j = 0; j < days.size(); ++j) {
        int found = -1;
        for (int d = 0; d < 7; ++d)
          if (to_lower(days[j]) == kDays[d]) found = d;
        if (found < 0) error(p + ".days[" + std::to_string(j) + "]", "must be one of mon, tue, wed, thu, fri, sat, sun");
        else w.days.insert(found);
      }
    }
    auto minute = [&](const char* key) -> int {
      if (!n[i][key]) {
        error(p + "." + key, "is required (HH:MM)");
        return -1;
      }
      auto v = string(n[i][key], p + "." + key);
      if (!v) return -1;
      int h = -1, m = -1;
      char extra = 0;
      if (std::sscanf(v->c_str(), "%d:%d%c", &h, &m, &extra) != 2 || h < 0 || h > 24 || m < 0 || m > 59 ||
          (h == 24 && m != 0)) {
        error(p + "." + key, "must be a time of day HH:MM, e.g. 09:00");
        return -1;
      }
      return h * 60 + m;
    };
    w.from_minute = minute("from");
    w.to_minute = minute("to");
    if (w.from_minute >= 0 && w.from_minute == w.to_minute) error(p, "from and to must differ");
    if (!n[i]["timezone"]) {
      error(p + ".timezone", "is required (an IANA name such as Europe/Berlin or UTC)");
    } else if (auto tz = nonempty_string(n[i]["timezone"], p + ".timezone")) {
      if (!valid_time_zone(*tz)) error(p + ".timezone", "unknown time zone '" + *tz + "'");
      w.timezone = *tz;
    }
    out.push_back(std::move(w));
  }
}

void Loader::load_freezes(const YAML::Node& n, const std::string& path, std::vector<Freeze>& out) {
  if (!n.IsSequence()) {
    error(path, "must be a list of freezes");
    return;
  }
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string p = path + "[" + std::to_string(i) + "]";
    if (!is_map(n[i], p)) continue;
    check_keys(n[i], p, {"from", "to", "reason"});
    Freeze f;
    for (auto [key, field] : {std::pair<const char*, std::int64_t*>{"from", &f.from_ms}, {"to", &f.to_ms}}) {
      if (!n[i][key]) {
        error(p + "." + key, "is required (RFC 3339 time, e.g. 2026-12-20T00:00:00Z)");
        continue;
      }
      if (auto v = string(n[i][key], p + "." + key)) {
        if (auto t = parse_rfc3339(*v)) *field = *t;
        else error(p + "." + key, "must be an RFC 3339 time with offset, e.g. 2026-12-20T00:00:00Z");
      }
    }
    if (f.from_ms && f.to_ms && f.to_ms <= f.from_ms) error(p + ".to", "must be after from");
    if (n[i]["reason"])
      if (auto v = string(n[i]["reason"], p + ".reason")) f.reason = *v;
    out.push_back(std::move(f));
  }
}

void Loader::load_environment(const YAML::Node& n, const std::string& path, Project& project, Environment& env) {
  if (!is_map(n, path)) return;
  check_keys(n, path, {"deploy_on", "branch", "tags", "tag", "promote_from", "approval", "confirm", "windows",
                       "freezes", "targets", "smoke", "rollback_on_failure"});
  if (n["deploy_on"]) {
    const auto list = string_list(n["deploy_on"], path + ".deploy_on");
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (auto t = parse_trigger(list[i])) env.deploy_on.insert(*t);
      else error(path + ".deploy_on[" + std::to_string(i) + "]",
                 "unknown trigger '" + list[i] + "' (push, dispatch, build)");
    }
  }
  if (n["branch"])
    if (auto v = nonempty_string(n["branch"], path + ".branch")) env.branch = *v;
  if (n["tags"])
    if (auto v = nonempty_string(n["tags"], path + ".tags")) env.tags = *v;
  env.tag_template = "{sha}";
  if (n["tag"])
    if (auto v = nonempty_string(n["tag"], path + ".tag")) {
      check_template(*v, path + ".tag", nullptr);
      env.tag_template = *v;
    }
  if (n["promote_from"])
    if (auto v = nonempty_string(n["promote_from"], path + ".promote_from")) env.promote_from = *v;
  if (n["approval"]) {
    ApprovalConfig a;
    load_approval(n["approval"], path + ".approval", a);
    env.approval = a;
  }
  if (n["confirm"])
    if (auto v = nonempty_string(n["confirm"], path + ".confirm")) env.confirm = *v;
  if (n["windows"]) load_windows(n["windows"], path + ".windows", env.windows);
  if (n["smoke"]) load_smoke(n["smoke"], path + ".smoke", env.smoke);
  if (n["rollback_on_failure"])
    if (auto v = boolean(n["rollback_on_failure"], path + ".rollback_on_failure")) env.rollback_on_failure = *v;
  if (n["freezes"]) load_freezes(n["freezes"], path + ".freezes", env.freezes);
  if (!n["targets"]) error(path + ".targets", "is required");
  else load_targets(n["targets"], path + ".targets", project, env.targets);
}

void Loader::load_project(const YAML::Node& n, const std::string& path, Project& p) {
  if (!is_map(n, path)) return;
  check_keys(n, path, {"repository", "secret", "branch", "config_paths", "components", "environments",
                       "github_deployments", "trust_build_actor"});
  if (n["trust_build_actor"])
    if (auto v = boolean(n["trust_build_actor"], path + ".trust_build_actor")) p.trust_build_actor = *v;
  if (n["github_deployments"]) load_github_deployments(n["github_deployments"], path + ".github_deployments", p.github_deployments);
  if (!n["repository"]) error(path + ".repository", "is required (owner/name)");
  else if (auto v = nonempty_string(n["repository"], path + ".repository")) {
    const auto slash = v->find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == v->size() || v->find('/', slash + 1) != std::string::npos)
      error(path + ".repository", "must be owner/name");
    p.repository = *v;
  }
  if (n["secret"])
    if (auto v = nonempty_string(n["secret"], path + ".secret")) p.secret = *v;
  if (n["branch"])
    if (auto v = nonempty_string(n["branch"], path + ".branch")) p.branch = *v;
  if (n["config_paths"]) p.config_paths = string_list(n["config_paths"], path + ".config_paths");
  if (const auto cs = n["components"]) {
    if (is_map(cs, path + ".components")) {
      check_duplicates(cs, path + ".components");
      for (const auto& kv : cs) {
        const std::string cname = kv.first.Scalar();
        const std::string cpath = join(path + ".components", cname);
        if (!valid_name(cname)) error(cpath, "component names use lowercase letters, digits, '-' and '_'");
        if (!is_map(kv.second, cpath)) continue;
        check_keys(kv.second, cpath, {"image", "allow_repositories"});
        Component c{cname, {}, {}};
        if (kv.second["allow_repositories"])
          c.allow_repositories = string_list(kv.second["allow_repositories"], cpath + ".allow_repositories");
        if (!kv.second["image"]) error(cpath + ".image", "is required");
        else if (auto v = nonempty_string(kv.second["image"], cpath + ".image")) {
          const auto last_slash = v->rfind('/');
          const auto colon = v->find(':', last_slash == std::string::npos ? 0 : last_slash);
          if (colon != std::string::npos || v->find('@') != std::string::npos)
            error(cpath + ".image", "must not carry a tag or digest; the environment's tag template adds it");
          c.image = *v;
        }
        p.components.push_back(std::move(c));
      }
    }
  }
  if (!n["environments"]) {
    error(path + ".environments", "is required");
    return;
  }
  const auto envs = n["environments"];
  if (!is_map(envs, path + ".environments")) return;
  check_duplicates(envs, path + ".environments");
  for (const auto& kv : envs) {
    const std::string ename = kv.first.Scalar();
    const std::string epath = join(path + ".environments", ename);
    if (!valid_name(ename)) error(epath, "environment names use lowercase letters, digits, '-' and '_'");
    Environment e;
    e.name = ename;
    load_environment(kv.second, epath, p, e);
    p.environments.push_back(std::move(e));
  }
  // Cross-references inside the project.
  for (const auto& e : p.environments) {
    const std::string epath = join(path + ".environments", e.name);
    if (!e.promote_from.empty()) {
      if (e.promote_from == e.name) error(epath + ".promote_from", "cannot promote from itself");
      else if (!p.environment(e.promote_from))
        error(epath + ".promote_from", "unknown environment '" + e.promote_from + "'");
    }
  }
}

void Loader::load_github_deployments(const YAML::Node& n, const std::string& path, std::optional<GithubDeploymentsConfig>& out) {
  if (!is_map(n, path)) return;
  check_keys(n, path, {"token", "api_url", "ca_file"});
  GithubDeploymentsConfig g;
  if (!n["token"]) error(path + ".token", "is required (a token that may write deployments)");
  else if (auto v = nonempty_string(n["token"], path + ".token")) g.token = *v;
  if (n["api_url"])
    if (auto v = nonempty_string(n["api_url"], path + ".api_url")) {
      check_url(*v, path + ".api_url");
      g.api_url = *v;
      while (!g.api_url.empty() && g.api_url.back() == '/') g.api_url.pop_back();
    }
  if (n["ca_file"])
    if (auto v = nonempty_string(n["ca_file"], path + ".ca_file")) g.tls.ca_file = *v;
  out = std::move(g);
}

}  // namespace shipgate::config::detail
