#include "config/loader.hpp"

#include <algorithm>
#include <cctype>
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
  if (!is_map(n, "server.tls")) return;
  Section tls(*this, n, "server.tls");
  ServerTlsConfig t;
  if (const auto listen = tls["listen"]) address(listen, tls.at("listen"), t.listen, t.host, t.port);
  if (tls.require("cert", "PEM certificate chain file")) tls.nonempty("cert", t.cert);
  if (tls.require("key", "PEM private key file")) tls.nonempty("key", t.key);
  tls.nonempty("client_ca", t.client_ca);
  out = std::move(t);
}

void Loader::load_server(const YAML::Node& n, ServerConfig& s) {
  if (!is_map(n, "server")) return;
  Section server(*this, n, "server");
  if (const auto listen = server["listen"]) address(listen, server.at("listen"), s.listen, s.host, s.port);
  server.integer("threads", s.threads, 1, 256);
  server.size("max_body", s.max_body);
  server.size("max_api_body", s.max_api_body);
  if (const auto t = server["timeouts"]) {
    if (is_map(t, server.at("timeouts"))) {
      Section timeouts(*this, t, server.at("timeouts"));
      struct Field { const char* key; Millis* out; };
      for (Field f : {Field{"header", &s.header_timeout}, Field{"body", &s.body_timeout},
                      Field{"idle", &s.idle_timeout}, Field{"write", &s.write_timeout}}) {
        Millis v{-1};
        timeouts.duration(f.key, v);
        if (!timeouts[f.key] || v.count() < 0) continue;
        if (v.count() == 0) error(timeouts.at(f.key), "must be greater than 0");
        else *f.out = v;
      }
    }
  }
  server.integer("max_connections", s.max_connections, 1, 1'000'000);
  server.integer("max_connections_per_client", s.max_connections_per_client, 1, 1'000'000);
  if (server["max_body_memory"]) server.size("max_body_memory", s.max_body_memory);
  else s.max_body_memory = std::max(s.max_body_memory, s.max_body);  // room for one body of the largest size
  server.integer("max_inflight", s.max_inflight, 1, 1'000'000);
  server.integer("max_queued_writes", s.max_queued_writes, 1, 10'000'000);
  server.integer("api_rate", s.api_rate, 1, 1'000'000);
  server.integer("api_burst", s.api_burst, 1, 1'000'000);
  server.integer("auth_failures_per_minute", s.auth_failures_per_minute, 1, 1'000'000);
  if (server["trusted_proxies"]) {
    std::vector<std::string> proxies;
    server.list("trusted_proxies", proxies);
    std::string bad;
    if (auto ranges = IpRanges::parse(proxies, &bad)) s.trusted_proxies = std::move(*ranges);
    else error(server.at("trusted_proxies"), "'" + bad + "' is not an address or a CIDR range (such as 10.0.0.0/8)");
  }
  server.duration("shutdown_grace", s.shutdown_grace);
  server.duration("lane_lease", s.lane_lease);
  if (s.lane_lease < Millis(3'000)) error(server.at("lane_lease"), "must be at least 3s (holds are renewed every second)");
  server.boolean("run_deployments", s.run_deployments);
  server.duration("session_ttl", s.session_ttl);
  if (s.session_ttl < Millis(60'000)) error(server.at("session_ttl"), "must be at least 1m");
  server.nonempty("public_url", s.public_url);
  if (!s.public_url.empty()) {
    check_url(s.public_url, server.at("public_url"));
    while (!s.public_url.empty() && s.public_url.back() == '/') s.public_url.pop_back();
  }
  if (const auto tls = server["tls"]) load_server_tls(tls, s.tls);
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
  Section log(*this, n, "log");
  if (const auto format = log.text("format")) {
    if (*format != "text" && *format != "json") error(log.at("format"), "must be text or json");
    l.json = *format == "json";
  }
  if (const auto level = log.text("level")) {
    if (*level != "debug" && *level != "info" && *level != "warn" && *level != "error")
      error(log.at("level"), "must be debug, info, warn or error");
    else l.level = *level;
  }
}

namespace {

// A libpq URI with its password (user:PASSWORD@host, or ?password=) replaced by "***", for logs.
std::string mask_password(std::string url) {
  const auto scheme = url.find("://");
  const auto start = scheme == std::string::npos ? 0 : scheme + 3;
  const auto end = std::min(url.find_first_of("/?#", start), url.size());
  const auto at = url.rfind('@', end == 0 ? 0 : end - 1);
  if (at != std::string::npos && at >= start) {
    const auto colon = url.find(':', start);
    if (colon < at) url.replace(colon + 1, at - colon - 1, "***");
  }
  for (auto p = url.find("password=", start); p != std::string::npos; p = url.find("password=", p + 1)) {
    const auto value = p + 9;
    const auto stop = std::min(url.find('&', value), url.size());
    url.replace(value, stop - value, "***");
  }
  return url;
}

}  // namespace

void Loader::load_store(const YAML::Node& n, StoreConfig& s) {
  auto v = nonempty_string(n, "store");
  if (!v) return;
  if (v->rfind("sqlite:", 0) == 0 && v->size() > 7) {
    s.url = *v;
    s.sqlite_path = v->substr(7);
  } else if (v->rfind("postgresql://", 0) == 0 || v->rfind("postgres://", 0) == 0) {
    s.kind = StoreKind::postgresql;
    s.postgres_conninfo = *v;
    s.url = mask_password(*v);
  } else {
    error("store", "must be sqlite:PATH (e.g. sqlite:var/shipgate.db) or postgresql://USER@HOST:PORT/DB");
  }
}

void Loader::load_github(const YAML::Node& n, GithubConfig& g) {
  if (!is_map(n, "github")) return;
  Section github(*this, n, "github");
  github.list("secrets", g.secrets);
  for (std::size_t i = 0; i < g.secrets.size(); ++i)
    if (g.secrets[i].empty()) error(github.at("secrets") + "[" + std::to_string(i) + "]", "must not be empty");
  github.nonempty("dispatch_event", g.dispatch_event);
}

void Loader::load_platform(const YAML::Node& n, std::optional<PlatformConfig>& out) {
  if (!is_map(n, "platform")) return;
  Section platform(*this, n, "platform");
  PlatformConfig p;
  if (platform.require("repository")) platform.nonempty("repository", p.repository);
  platform.nonempty("branch", p.branch);
  out = p;
}

void Loader::load_registries(const YAML::Node& n, std::map<std::string, RegistryConfig>& out) {
  if (!is_map(n, "registries")) return;
  check_duplicates(n, "registries");
  for (const auto& kv : n) {
    RegistryConfig r;
    r.host = kv.first.Scalar();
    const std::string path = join("registries", r.host);
    // The host as image references write it: a name with a dot or a port, or localhost.
    const bool shaped = !r.host.empty() && r.host.size() <= 260 &&
                        r.host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") ==
                            std::string::npos;
    if (!shaped) error(path, "registry hosts are written as in image references, e.g. ghcr.io or 127.0.0.1:5000");
    if (!is_map(kv.second, path)) continue;
    Section registry(*this, kv.second, path);
    registry.nonempty("username", r.username);
    registry.nonempty("password", r.password);
    if (r.username.empty() != r.password.empty())
      error(path, "username and password go together (a token is the password)");
    registry.boolean("plain_http", r.plain_http);
    registry.nonempty("ca_file", r.tls.ca_file);
    out.emplace(r.host, std::move(r));
  }
}

void Loader::load_reviewers(const YAML::Node& n, std::vector<Reviewer>& out) {
  if (!is_map(n, "reviewers")) return;
  check_duplicates(n, "reviewers");
  for (const auto& kv : n) {
    const std::string name = kv.first.Scalar();
    const std::string path = join("reviewers", name);
    if (!valid_name(name)) error(path, "reviewer names use lowercase letters, digits, '-' and '_'");
    if (!is_map(kv.second, path)) continue;
    Section r(*this, kv.second, path);
    Reviewer rev;
    rev.name = name;
    const bool hashed = bool(r["token_sha256"]), plain = bool(r["token"]);
    if (hashed && plain) {
      error(path, "set either token or token_sha256, not both");
    } else if (hashed) {
      if (auto v = r.text("token_sha256")) {
        const std::string h = to_lower(*v);
        if (h.size() != 64 || !is_hex(h))
          error(r.at("token_sha256"), "must be 64 hex characters (see `shipgate hash-token`)");
        rev.token_sha256 = h;
      }
    } else if (plain) {
      std::string token;
      r.nonempty("token", token);
      if (!token.empty() && token.size() < 16) error(r.at("token"), "must be at least 16 characters");
      if (!token.empty()) rev.token_sha256 = sha256_hex(token);  // the plain token is not kept
    } else {
      error(path, "needs token or token_sha256");
    }
    r.nonempty("github", rev.github);
    std::vector<std::string> can;
    r.list("can", can);
    for (std::size_t i = 0; i < can.size(); ++i) {
      if (auto p = parse_permission(can[i])) rev.can.insert(*p);
      else error(r.at("can") + "[" + std::to_string(i) + "]",
                 "unknown permission '" + can[i] + "' (view, approve, deploy, rollback, override, reload)");
    }
    r.list("projects", rev.projects);
    out.push_back(std::move(rev));
  }
}

void Loader::cross_check(Config& c) {
  c.index();
  const auto secrets = secret_values(c);
  for (auto& p : c.projects)
    for (auto& e : p.environments) {
      for (auto& t : e.targets)
        if (auto* command = std::get_if<CommandTargetConfig>(&t.spec)) command->scrub = secrets;
      for (auto& t : e.before)
        if (auto* command = std::get_if<CommandTargetConfig>(&t.spec)) command->scrub = secrets;
    }
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
  Section top(*this, root, "");
  if (const auto n = top["server"]) load_server(n, c.server);
  check_server(c.server);
  if (const auto n = top["log"]) load_log(n, c.log);
  if (const auto n = top["store"]) load_store(n, c.store);
  if (!c.server.run_deployments && c.store.kind != StoreKind::postgresql)
    error("server.run_deployments", "false needs a shared store (store: postgresql://...): on SQLite no other "
                                    "replica would ever run the deployments this one accepts");
  if (const auto n = top["github"]) load_github(n, c.github);
  if (const auto n = top["github_app"]) load_github_app(n, c.github_app);
  if (const auto n = top["platform"]) load_platform(n, c.platform);
  if (const auto n = top["config_source"]) load_config_source(n, c.config_source);
  if (c.config_source && c.config_source->repository.empty() && c.platform)
    c.config_source->repository = c.platform->repository;
  if (const auto n = top["reviewers"]) load_reviewers(n, c.reviewers);
  if (const auto n = top["notify"]) load_notify(n, c.notify);
  if (const auto n = top["slack"]) load_slack(n, c.slack, c.reviewers);
  for (auto& n : c.notify) n.buttons = n.slack && c.slack.has_value();
  if (const auto n = top["registries"]) load_registries(n, c.registries);
  const auto projects = top["projects"];
  if (!projects) {
    error("projects", "is required");
  } else if (is_map(projects, "projects")) {
    check_duplicates(projects, "projects");
    for (const auto& kv : projects) {
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
  for (const auto& p : c.projects) {
    for (const auto& [asked, key] : {std::pair{p.report_commit_status, "commit_status"}, std::pair{p.report_pull_request, "pull_request"}})
      if (asked && !p.github_deployments && !c.github_app)
        error(join(join("projects", p.name), "report") + "." + key,
              "needs a GitHub token: github_deployments (with its token) or github_app");
    if (p.github_deployments && p.github_deployments->token.empty() && !c.github_app)
      error(join(join("projects", p.name), "github_deployments") + ".token",
            "is required without github_app (a token that may write deployments, or the app's installation token)");
  }
  for (std::size_t i = 0; i < c.notify.size(); ++i)
    for (std::size_t j = 0; j < c.notify[i].projects.size(); ++j)
      if (!c.project(c.notify[i].projects[j]))
        error("notify[" + std::to_string(i) + "].projects[" + std::to_string(j) + "]",
              "unknown project '" + c.notify[i].projects[j] + "'");
}

}  // namespace shipgate::config::detail

namespace shipgate::config {

using detail::Loader;


namespace {

// What the manifest sets and Job templates hold, so that a changed manifest file is a new config generation.
std::string manifest_texts(const Config& c) {
  std::string all;
  for (const auto& p : c.projects)
    for (const auto& e : p.environments) {
      for (const auto& t : e.targets)
        if (const auto* k = std::get_if<KubernetesTargetConfig>(&t.spec))
          for (const auto& f : k->manifest_files) all += "\n--- " + f.name + "\n" + f.text;
        else if (const auto* d = std::get_if<DokployTargetConfig>(&t.spec))
          for (const auto& [name, text] : {std::pair{&d->compose_file, &d->compose_file_text}, std::pair{&d->env_file, &d->env_file_text}})
            if (!name->empty()) all += "\n--- " + *name + "\n" + *text;
      for (const auto& t : e.before)
        if (const auto* j = std::get_if<JobTargetConfig>(&t.spec)) all += "\n--- " + j->manifest.name + "\n" + j->manifest.text;
    }
  return all;
}

}  // namespace

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (const char* v = std::getenv(name.c_str())) return std::string(v);
    return std::nullopt;
  };
}

LoadResult load_config_text(const std::string& text, const EnvLookup& env, const std::string& base_dir,
                            const std::string& commit) {
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
  Loader loader(env, base_dir);
  try {
    loader.load_root(root, *config);
  } catch (const YAML::Exception& e) {
    loader.error("", std::string("YAML structure error: ") + e.what());
  }
  config->source_sha256 = sha256_hex(text + manifest_texts(*config));
  config->source = text;
  config->source_commit = commit;
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
  const auto slash = path.rfind('/');
  return load_config_text(buf.str(), env, slash == std::string::npos ? "" : path.substr(0, slash + 1));
}

}  // namespace shipgate::config
