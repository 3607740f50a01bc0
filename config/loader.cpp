#include "config/loader.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "common/crypto.hpp"
#include "common/text.hpp"
#include "config/loader_internal.hpp"

// The top-level sections of the config and the checks across them; the entry points.
namespace shipgate::config::detail {

void Loader::load_server_tls(const YAML::Node& n, std::optional<ServerTlsConfig>& out) {
  const std::string path = "server.tls";
  if (!is_map(n, path)) return;
  check_keys(n, path, {"listen", "cert", "key", "client_ca"});
  ServerTlsConfig t;
  if (n["listen"]) address(n["listen"], path + ".listen", t.listen, t.host, t.port);
  if (!n["cert"]) error(path + ".cert", "is required (PEM certificate chain file)");
  else if (auto v = nonempty_string(n["cert"], path + ".cert")) t.cert = *v;
  if (!n["key"]) error(path + ".key", "is required (PEM private key file)");
  else if (auto v = nonempty_string(n["key"], path + ".key")) t.key = *v;
  if (n["client_ca"])
    if (auto v = nonempty_string(n["client_ca"], path + ".client_ca")) t.client_ca = *v;
  out = std::move(t);
}

void Loader::load_server(const YAML::Node& n, ServerConfig& s) {
  const std::string path = "server";
  if (!is_map(n, path)) return;
  check_keys(n, path, {"listen", "threads", "max_body", "max_api_body", "timeouts", "max_connections",
                       "max_connections_per_client", "max_body_memory", "max_inflight", "max_queued_writes",
                       "api_rate", "api_burst", "auth_failures_per_minute",
                       "shutdown_grace", "public_url", "tls"});
  if (n["tls"]) load_server_tls(n["tls"], s.tls);
  if (n["public_url"])
    if (auto v = nonempty_string(n["public_url"], "server.public_url")) {
      check_url(*v, "server.public_url");
      s.public_url = *v;
      while (!s.public_url.empty() && s.public_url.back() == '/') s.public_url.pop_back();
    }
  if (n["max_inflight"])
    if (auto v = integer(n["max_inflight"], "server.max_inflight", 1, 1'000'000)) s.max_inflight = static_cast<int>(*v);
  if (n["max_queued_writes"])
    if (auto v = integer(n["max_queued_writes"], "server.max_queued_writes", 1, 10'000'000))
      s.max_queued_writes = static_cast<std::size_t>(*v);
  if (n["api_rate"])
    if (auto v = integer(n["api_rate"], "server.api_rate", 1, 1'000'000)) s.api_rate = static_cast<double>(*v);
  if (n["api_burst"])
    if (auto v = integer(n["api_burst"], "server.api_burst", 1, 1'000'000)) s.api_burst = static_cast<int>(*v);
  if (n["auth_failures_per_minute"])
    if (auto v = integer(n["auth_failures_per_minute"], "server.auth_failures_per_minute", 1, 1'000'000))
      s.auth_failures_per_minute = static_cast<int>(*v);
  if (n["listen"]) address(n["listen"], "server.listen", s.listen, s.host, s.port);
  if (n["threads"])
    if (auto v = integer(n["threads"], "server.threads", 1, 256)) s.threads = static_cast<int>(*v);
  if (n["max_body"])
    if (auto v = size(n["max_body"], "server.max_body")) s.max_body = *v;
  if (n["max_api_body"])
    if (auto v = size(n["max_api_body"], "server.max_api_body")) s.max_api_body = *v;
  if (n["max_connections"])
    if (auto v = integer(n["max_connections"], "server.max_connections", 1, 1'000'000))
      s.max_connections = static_cast<int>(*v);
  if (n["max_connections_per_client"])
    if (auto v = integer(n["max_connections_per_client"], "server.max_connections_per_client", 1, 1'000'000))
      s.max_connections_per_client = static_cast<int>(*v);
  if (n["max_body_memory"]) {
    if (auto v = size(n["max_body_memory"], "server.max_body_memory")) s.max_body_memory = *v;
  } else {
    s.max_body_memory = std::max(s.max_body_memory, s.max_body);  // room for one body of the largest size
  }
  if (n["shutdown_grace"])
    if (auto v = duration(n["shutdown_grace"], "server.shutdown_grace")) s.shutdown_grace = *v;
  if (const auto t = n["timeouts"]) {
    if (is_map(t, "server.timeouts")) {
      check_keys(t, "server.timeouts", {"header", "body", "idle", "write"});
      struct Field { const char* key; Millis* out; };
      for (Field f : {Field{"header", &s.header_timeout}, Field{"body", &s.body_timeout},
                      Field{"idle", &s.idle_timeout}, Field{"write", &s.write_timeout}}) {
        if (!t[f.key]) continue;
        const std::string p = std::string("server.timeouts.") + f.key;
        if (auto v = duration(t[f.key], p)) {
          if (v->count() <= 0) error(p, "must be greater than 0");
          else *f.out = *v;
        }
      }
    }
  }
}

void Loader::check_server(const ServerConfig& s) {
  if (s.max_body_memory < s.max_body)
    error("server.max_body_memory", "must be at least server.max_body (" + std::to_string(s.max_body) +
                                        " bytes), or no webhook of the largest size could ever be read");
  if (s.tls && !s.tls->listen.empty() && s.tls->port != 0 && s.tls->port == s.port && s.tls->host == s.host)
    error("server.tls.listen", "must differ from server.listen (leave it out to serve HTTPS on server.listen)");
}

void Loader::load_log(const YAML::Node& n, LogConfig& l) {
  if (!is_map(n, "log")) return;
  check_keys(n, "log", {"format", "level"});
  if (n["format"])
    if (auto v = string(n["format"], "log.format")) {
      if (*v != "text" && *v != "json") error("log.format", "must be text or json");
      l.json = *v == "json";
    }
  if (n["level"])
    if (auto v = string(n["level"], "log.level")) {
      if (*v != "debug" && *v != "info" && *v != "warn" && *v != "error")
        error("log.level", "must be debug, info, warn or error");
      else l.level = *v;
    }
}

void Loader::load_store(const YAML::Node& n, StoreConfig& s) {
  auto v = nonempty_string(n, "store");
  if (!v) return;
  if (v->rfind("sqlite:", 0) == 0 && v->size() > 7) {
    s.url = *v;
    s.sqlite_path = v->substr(7);
  } else if (v->rfind("postgresql://", 0) == 0 || v->rfind("postgres://", 0) == 0) {
    error("store", "PostgreSQL is not available in this build yet; use sqlite:PATH");
  } else {
    error("store", "must be sqlite:PATH (e.g. sqlite:var/shipgate.db)");
  }
}

void Loader::load_github(const YAML::Node& n, GithubConfig& g) {
  if (!is_map(n, "github")) return;
  check_keys(n, "github", {"secrets", "dispatch_event"});
  if (n["secrets"]) {
    g.secrets = string_list(n["secrets"], "github.secrets");
    for (std::size_t i = 0; i < g.secrets.size(); ++i)
      if (g.secrets[i].empty()) error("github.secrets[" + std::to_string(i) + "]", "must not be empty");
  }
  if (n["dispatch_event"])
    if (auto v = nonempty_string(n["dispatch_event"], "github.dispatch_event")) g.dispatch_event = *v;
}

void Loader::load_platform(const YAML::Node& n, std::optional<PlatformConfig>& out) {
  if (!is_map(n, "platform")) return;
  check_keys(n, "platform", {"repository", "branch"});
  PlatformConfig p;
  if (!n["repository"]) error("platform.repository", "is required");
  else if (auto v = nonempty_string(n["repository"], "platform.repository")) p.repository = *v;
  if (n["branch"])
    if (auto v = nonempty_string(n["branch"], "platform.branch")) p.branch = *v;
  out = p;
}

void Loader::load_reviewers(const YAML::Node& n, std::vector<Reviewer>& out) {
  if (!is_map(n, "reviewers")) return;
  check_duplicates(n, "reviewers");
  for (const auto& kv : n) {
    const std::string name = kv.first.Scalar();
    const std::string path = join("reviewers", name);
    if (!valid_name(name)) error(path, "reviewer names use lowercase letters, digits, '-' and '_'");
    const YAML::Node r = kv.second;
    if (!is_map(r, path)) continue;
    check_keys(r, path, {"token_sha256", "token", "github", "can", "projects"});
    Reviewer rev;
    rev.name = name;
    if (r["token_sha256"] && r["token"]) {
      error(path, "set either token or token_sha256, not both");
    } else if (r["token_sha256"]) {
      if (auto v = string(r["token_sha256"], path + ".token_sha256")) {
        const std::string h = to_lower(*v);
        if (h.size() != 64 || !is_hex(h))
          error(path + ".token_sha256", "must be 64 hex characters (see `shipgate hash-token`)");
        rev.token_sha256 = h;
      }
    } else if (r["token"]) {
      if (auto v = nonempty_string(r["token"], path + ".token")) {
        if (v->size() < 16) error(path + ".token", "must be at least 16 characters");
        rev.token_sha256 = sha256_hex(*v);  // the plain token is not kept
      }
    } else {
      error(path, "needs token or token_sha256");
    }
    if (r["github"])
      if (auto v = nonempty_string(r["github"], path + ".github")) rev.github = *v;
    if (r["can"]) {
      const auto list = string_list(r["can"], path + ".can");
      for (std::size_t i = 0; i < list.size(); ++i) {
        if (auto p = parse_permission(list[i])) rev.can.insert(*p);
        else error(path + ".can[" + std::to_string(i) + "]",
                   "unknown permission '" + list[i] + "' (view, approve, deploy, rollback, override, reload)");
      }
    }
    if (r["projects"]) rev.projects = string_list(r["projects"], path + ".projects");
    out.push_back(std::move(rev));
  }
}

void Loader::cross_check(Config& c) {
  c.index();
  const auto secrets = secret_values(c);
  for (auto& p : c.projects)
    for (auto& e : p.environments)
      for (auto& t : e.targets)
        if (auto* command = std::get_if<CommandTargetConfig>(&t.spec)) command->scrub = secrets;
  std::unordered_map<std::string, const Project*> first_by_repository;
  for (const auto& p : c.projects) {
    const std::string path = join("projects", p.name);
    if (p.secret.empty() && c.github.secrets.empty())
      error(path + ".secret", "no webhook secret: set github.secrets or this project's secret");
    for (const auto& e : p.environments) {
      if (!e.approval) continue;
      const std::string apath = join(path + ".environments", e.name) + ".approval";
      for (std::size_t i = 0; i < e.approval->reviewers.size(); ++i)
        if (!c.reviewer(e.approval->reviewers[i]))
          error(apath + ".reviewers[" + std::to_string(i) + "]",
                "unknown reviewer '" + e.approval->reviewers[i] + "'");
      if (!e.approval->reviewers.empty() &&
          static_cast<std::size_t>(e.approval->required) > e.approval->reviewers.size())
        error(apath + ".required", "is larger than the number of listed reviewers");
    }
    if (!p.repository.empty()) {
      // First project per repository, built as we go: O(projects), not O(projects^2).
      auto [it, fresh] = first_by_repository.emplace(to_lower(p.repository), &p);
      if (!fresh)
        error(path + ".repository", "repository " + p.repository + " is already used by project " + it->second->name);
    }
  }
  for (const auto& r : c.reviewers)
    for (std::size_t i = 0; i < r.projects.size(); ++i)
      if (!c.project(r.projects[i]))
        error(join("reviewers", r.name) + ".projects[" + std::to_string(i) + "]",
              "unknown project '" + r.projects[i] + "'");
}

void Loader::load_root(const YAML::Node& root, Config& c) {
  if (!root.IsMap()) {
    error("", "the config must be a YAML mapping");
    return;
  }
  check_keys(root, "", {"server", "log", "store", "github", "platform", "reviewers", "notify", "projects"});
  if (root["server"]) load_server(root["server"], c.server);
  check_server(c.server);
  if (root["log"]) load_log(root["log"], c.log);
  if (root["store"]) load_store(root["store"], c.store);
  if (root["github"]) load_github(root["github"], c.github);
  if (root["platform"]) load_platform(root["platform"], c.platform);
  if (root["reviewers"]) load_reviewers(root["reviewers"], c.reviewers);
  if (root["notify"]) load_notify(root["notify"], c.notify);
  if (!root["projects"]) {
    error("projects", "is required");
  } else if (is_map(root["projects"], "projects")) {
    check_duplicates(root["projects"], "projects");
    for (const auto& kv : root["projects"]) {
      const std::string name = kv.first.Scalar();
      const std::string path = join("projects", name);
      if (!valid_name(name)) error(path, "project names use lowercase letters, digits, '-' and '_'");
      Project p;
      p.name = name;
      load_project(kv.second, path, p);
      c.projects.push_back(std::move(p));
    }
  }
  cross_check(c);
  for (std::size_t i = 0; i < c.notify.size(); ++i)
    for (std::size_t j = 0; j < c.notify[i].projects.size(); ++j)
      if (!c.project(c.notify[i].projects[j]))
        error("notify[" + std::to_string(i) + "].projects[" + std::to_string(j) + "]",
              "unknown project '" + c.notify[i].projects[j] + "'");
}

void Loader::load_notify(const YAML::Node& n, std::vector<Notifier>& out) {
  if (!n.IsSequence()) {
    error("notify", "must be a list of {url, format, events}");
    return;
  }
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string path = "notify[" + std::to_string(i) + "]";
    if (!is_map(n[i], path)) continue;
    check_keys(n[i], path, {"url", "format", "events", "projects", "secret", "timeout", "max_attempts", "ca_file"});
    Notifier nt;
    if (!n[i]["url"]) error(path + ".url", "is required");
    else if (auto v = nonempty_string(n[i]["url"], path + ".url")) {
      check_url(*v, path + ".url");
      nt.url = *v;
    }
    if (n[i]["format"])
      if (auto v = string(n[i]["format"], path + ".format")) {
        if (*v != "slack" && *v != "json") error(path + ".format", "must be slack or json");
        nt.slack = *v == "slack";
      }
    if (n[i]["events"]) {
      const auto list = string_list(n[i]["events"], path + ".events");
      for (std::size_t k = 0; k < list.size(); ++k) {
        if (auto e = parse_notify_event(list[k])) nt.events.insert(*e);
        else
          error(path + ".events[" + std::to_string(k) + "]",
                "unknown event '" + list[k] + "' (pending_approval, succeeded, failed, rolled_back, override)");
      }
    }
    if (n[i]["projects"]) nt.projects = string_list(n[i]["projects"], path + ".projects");
    if (n[i]["secret"])
      if (auto v = nonempty_string(n[i]["secret"], path + ".secret")) nt.secret = *v;
    if (n[i]["timeout"])
      if (auto v = duration(n[i]["timeout"], path + ".timeout")) nt.timeout = *v;
    if (n[i]["max_attempts"])
      if (auto v = integer(n[i]["max_attempts"], path + ".max_attempts", 1, 100)) nt.max_attempts = static_cast<int>(*v);
    if (n[i]["ca_file"])
      if (auto v = nonempty_string(n[i]["ca_file"], path + ".ca_file")) nt.tls.ca_file = *v;
    out.push_back(std::move(nt));
  }
}

}  // namespace shipgate::config::detail

namespace shipgate::config {

using detail::Loader;


EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (const char* v = std::getenv(name.c_str())) return std::string(v);
    return std::nullopt;
  };
}

LoadResult load_config_text(const std::string& text, const EnvLookup& env) {
  LoadResult out;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    out.errors.push_back({"", "YAML syntax error at line " + std::to_string(e.mark.line + 1) + ", column " +
                                  std::to_string(e.mark.column + 1) + ": " + e.msg});
    return out;
  }
  auto config = std::make_shared<Config>();
  Loader loader(env);
  try {
    loader.load_root(root, *config);
  } catch (const YAML::Exception& e) {
    loader.error("", std::string("YAML structure error: ") + e.what());
  }
  config->source_sha256 = sha256_hex(text);
  out.errors = std::move(loader.errors);
  if (out.errors.empty()) out.config = std::move(config);
  return out;
}

LoadResult load_config_file(const std::string& path, const EnvLookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult out;
    out.errors.push_back({"", "cannot read config file " + path});
    return out;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return load_config_text(buf.str(), env);
}

}  // namespace shipgate::config
