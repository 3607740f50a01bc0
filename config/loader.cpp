#include "config/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

#include "common/crypto.hpp"
#include "common/text.hpp"
#include "config/template.hpp"
#include "config/time_zone.hpp"
#include "config/units.hpp"

namespace shipgate::config {
namespace {

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!std::isalnum(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '-' || c == '_'))
      return false;
  return true;
}

// Walks the YAML tree, converting and validating as it goes. Never throws for bad input: every
// problem becomes a ConfigError so all of them are reported together.
class Loader {
 public:
  explicit Loader(const EnvLookup& env) : env_(env) {}

  std::vector<ConfigError> errors;

  void error(const std::string& path, std::string msg) { errors.push_back({path, std::move(msg)}); }

  bool is_map(const YAML::Node& n, const std::string& path) {
    if (n.IsMap()) return true;
    error(path, n.IsNull() ? "must not be empty" : "must be a mapping");
    return false;
  }

  void check_keys(const YAML::Node& map, const std::string& path,
                  std::initializer_list<std::string_view> allowed) {
    check_duplicates(map, path);
    for (const auto& kv : map) {
      const std::string key = kv.first.Scalar();
      bool ok = false;
      for (auto a : allowed) ok = ok || key == a;
      if (!ok) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        error(join(path, key), "unknown key (allowed: " + list + ")");
      }
    }
  }

  // YAML parsers keep only one of two equal keys; a config that says a thing twice is a mistake.
  void check_duplicates(const YAML::Node& map, const std::string& path) {
    std::set<std::string> seen;
    for (const auto& kv : map)
      if (!seen.insert(kv.first.Scalar()).second) error(join(path, kv.first.Scalar()), "duplicate key");
  }

  // "${NAME}" is replaced from the environment; "$$" is a literal "$".
  std::optional<std::string> substitute(const std::string& raw, const std::string& path) {
    std::string out;
    bool ok = true;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '$' || i + 1 >= raw.size()) {
        out.push_back(raw[i]);
        continue;
      }
      if (raw[i + 1] == '$') {
        out.push_back('$');
        ++i;
        continue;
      }
      if (raw[i + 1] != '{') {
        out.push_back('$');
        continue;
      }
      const std::size_t close = raw.find('}', i + 2);
      if (close == std::string::npos) {
        error(path, "unterminated ${ in value");
        return std::nullopt;
      }
      const std::string name = raw.substr(i + 2, close - i - 2);
      bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
      for (char c : name) valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
      if (!valid) {
        error(path, "invalid variable name ${" + name + "}");
        ok = false;
      } else if (auto v = env_(name)) {
        out += *v;
      } else {
        error(path, "environment variable " + name + " is not set");
        ok = false;
      }
      i = close;
    }
    if (!ok) return std::nullopt;
    return out;
  }

  std::optional<std::string> string(const YAML::Node& n, const std::string& path) {
    if (!n.IsScalar()) {
      error(path, "must be a string");
      return std::nullopt;
    }
    return substitute(n.Scalar(), path);
  }

  std::optional<std::string> nonempty_string(const YAML::Node& n, const std::string& path) {
    auto s = string(n, path);
    if (s && s->empty()) {
      error(path, "must not be empty");
      return std::nullopt;
    }
    return s;
  }

  std::optional<bool> boolean(const YAML::Node& n, const std::string& path) {
    auto s = string(n, path);
    if (!s) return std::nullopt;
    if (*s == "true" || *s == "yes" || *s == "on") return true;
    if (*s == "false" || *s == "no" || *s == "off") return false;
    error(path, "must be true or false");
    return std::nullopt;
  }

  std::optional<long long> integer(const YAML::Node& n, const std::string& path, long long min,
                                   long long max) {
    auto s = string(n, path);
    if (!s) return std::nullopt;
    char* end = nullptr;
    const long long v = std::strtoll(s->c_str(), &end, 10);
    if (s->empty() || *end != '\0') {
      error(path, "must be a whole number");
      return std::nullopt;
    }
    if (v < min || v > max) {
      error(path, "must be between " + std::to_string(min) + " and " + std::to_string(max));
      return std::nullopt;
    }
    return v;
  }

  std::optional<Millis> duration(const YAML::Node& n, const std::string& path) {
    auto s = string(n, path);
    if (!s) return std::nullopt;
    auto d = parse_duration(*s);
    if (!d) error(path, "must be a duration such as 500ms, 30s, 10m, 72h or 1h30m");
    return d;
  }

  std::optional<std::size_t> size(const YAML::Node& n, const std::string& path) {
    auto s = string(n, path);
    if (!s) return std::nullopt;
    auto v = parse_size(*s);
    if (!v) error(path, "must be a size such as 1048576, 512KiB, 25MiB or 1GiB");
    return v;
  }

  std::vector<std::string> string_list(const YAML::Node& n, const std::string& path) {
    std::vector<std::string> out;
    if (!n.IsSequence()) {
      error(path, "must be a list");
      return out;
    }
    for (std::size_t i = 0; i < n.size(); ++i)
      if (auto s = string(n[i], path + "[" + std::to_string(i) + "]")) out.push_back(*s);
    return out;
  }

  // Converts a YAML subtree to JSON (for templated target bodies), substituting variables.
  nlohmann::json to_json(const YAML::Node& n, const std::string& path) {
    if (n.IsMap()) {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& kv : n) o[kv.first.Scalar()] = to_json(kv.second, join(path, kv.first.Scalar()));
      return o;
    }
    if (n.IsSequence()) {
      nlohmann::json a = nlohmann::json::array();
      for (std::size_t i = 0; i < n.size(); ++i) a.push_back(to_json(n[i], path + "[" + std::to_string(i) + "]"));
      return a;
    }
    if (n.IsNull()) return nullptr;
    // Plain scalars keep YAML's typing for numbers and booleans; quoted ones stay strings.
    if (n.Tag() == "?") {
      const std::string& s = n.Scalar();
      if (s == "true") return true;
      if (s == "false") return false;
      char* end = nullptr;
      const long long v = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && *end == '\0') return v;
    }
    return substitute(n.Scalar(), path).value_or("");
  }

  void check_template(const std::string& tmpl, const std::string& path, const Project* project) {
    const auto parsed = parse_template(tmpl);
    for (const auto& name : parsed.names) {
      bool known = false;
      for (const auto& p : template_placeholders()) known = known || p == name;
      if (!known && project && name.rfind("image.", 0) == 0)
        known = project->component(std::string_view(name).substr(6)) != nullptr;
      if (!known) {
        std::string list;
        for (const auto& p : template_placeholders()) list += (list.empty() ? "{" : ", {") + p + "}";
        error(path, "unknown placeholder {" + name + "} (known: " + list + ", {image.<component>})");
      }
    }
  }

  void check_template_json(const nlohmann::json& doc, const std::string& path, const Project* project) {
    if (doc.is_string()) check_template(doc.get<std::string>(), path, project);
    else if (doc.is_object())
      for (auto it = doc.begin(); it != doc.end(); ++it) check_template_json(it.value(), join(path, it.key()), project);
    else if (doc.is_array())
      for (std::size_t i = 0; i < doc.size(); ++i) check_template_json(doc[i], path + "[" + std::to_string(i) + "]", project);
  }

  void check_url(const std::string& url, const std::string& path) {
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
      error(path, "must be an http:// or https:// URL");
  }

  // HOST:PORT into its parts; false (with an error) when malformed.
  bool address(const YAML::Node& n, const std::string& path, std::string& listen, std::string& host,
               std::uint16_t& port_out) {
    auto v = nonempty_string(n, path);
    if (!v) return false;
    const auto colon = v->rfind(':');
    char* end = nullptr;
    const long port = colon == std::string::npos ? -1 : std::strtol(v->c_str() + colon + 1, &end, 10);
    if (colon == std::string::npos || colon == 0 || *end != '\0' || port < 0 || port > 65535) {
      error(path, "must be HOST:PORT, e.g. 0.0.0.0:8080");
      return false;
    }
    listen = *v;
    host = v->substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    port_out = static_cast<std::uint16_t>(port);
    return true;
  }

  void load_server_tls(const YAML::Node& n, std::optional<ServerTlsConfig>& out) {
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

  void load_server(const YAML::Node& n, ServerConfig& s) {
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

  void check_server(const ServerConfig& s) {
    if (s.max_body_memory < s.max_body)
      error("server.max_body_memory", "must be at least server.max_body (" + std::to_string(s.max_body) +
                                          " bytes), or no webhook of the largest size could ever be read");
    if (s.tls && !s.tls->listen.empty() && s.tls->port != 0 && s.tls->port == s.port && s.tls->host == s.host)
      error("server.tls.listen", "must differ from server.listen (leave it out to serve HTTPS on server.listen)");
  }

  void load_log(const YAML::Node& n, LogConfig& l) {
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

  void load_store(const YAML::Node& n, StoreConfig& s) {
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

  void load_github(const YAML::Node& n, GithubConfig& g) {
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

  void load_platform(const YAML::Node& n, std::optional<PlatformConfig>& out) {
    if (!is_map(n, "platform")) return;
    check_keys(n, "platform", {"repository", "branch"});
    PlatformConfig p;
    if (!n["repository"]) error("platform.repository", "is required");
    else if (auto v = nonempty_string(n["repository"], "platform.repository")) p.repository = *v;
    if (n["branch"])
      if (auto v = nonempty_string(n["branch"], "platform.branch")) p.branch = *v;
    out = p;
  }

  void load_reviewers(const YAML::Node& n, std::vector<Reviewer>& out) {
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

  void load_dokploy(const YAML::Node& t, const std::string& path, TargetConfig& out) {
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

  void load_http(const YAML::Node& t, const std::string& path, const Project& project, TargetConfig& out) {
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

  void load_kubernetes(const YAML::Node& t, const std::string& path, const Project& project, TargetConfig& out) {
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

  void load_command(const YAML::Node& t, const std::string& path, const Project& project, TargetConfig& out) {
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

  void load_smoke(const YAML::Node& n, const std::string& path, std::vector<SmokeCheck>& out) {
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

  void load_targets(const YAML::Node& n, const std::string& path, const Project& project,
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

  void load_approval(const YAML::Node& n, const std::string& path, ApprovalConfig& a) {
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

  void load_windows(const YAML::Node& n, const std::string& path, std::vector<DeployWindow>& out) {
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

  void load_freezes(const YAML::Node& n, const std::string& path, std::vector<Freeze>& out) {
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

  void load_environment(const YAML::Node& n, const std::string& path, Project& project, Environment& env) {
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

  void load_project(const YAML::Node& n, const std::string& path, Project& p) {
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

  void cross_check(Config& c) {
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

  void load_root(const YAML::Node& root, Config& c) {
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

  void load_notify(const YAML::Node& n, std::vector<Notifier>& out) {
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

  void load_github_deployments(const YAML::Node& n, const std::string& path, std::optional<GithubDeploymentsConfig>& out) {
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

 private:
  const EnvLookup& env_;
};

}  // namespace

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
