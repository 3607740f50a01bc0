// The config loader's internals, shared by its source files (loader.cpp, yaml_reader.cpp,
// loader_projects.cpp, loader_manifests.cpp, ...); nothing outside config/ includes this.
#pragma once
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/loader.hpp"

namespace shipgate::config::detail {

inline std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

inline bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!std::isalnum(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '-' || c == '_'))
      return false;
  return true;
}

class Section;

// Walks the YAML tree, converting and validating as it goes. Never throws for bad input: every
// problem becomes a ConfigError so all of them are reported together.
class Loader {
 public:
  Loader(const EnvLookup& env, std::string base_dir) : env_(env), base_dir_(std::move(base_dir)) {}

  std::vector<ConfigError> errors;

  // Reading values (yaml_reader.cpp): each reports what is wrong under its key path and returns nothing.
  void error(const std::string& path, std::string msg) { errors.push_back({path, std::move(msg)}); }
  bool is_map(const YAML::Node& n, const std::string& path);
  // YAML parsers keep only one of two equal keys; a config that says a thing twice is a mistake.
  void check_duplicates(const YAML::Node& map, const std::string& path);
  // "${NAME}" is replaced from the environment; "$$" is a literal "$".
  std::optional<std::string> substitute(const std::string& raw, const std::string& path);
  std::optional<std::string> string(const YAML::Node& n, const std::string& path);
  std::optional<std::string> nonempty_string(const YAML::Node& n, const std::string& path);
  std::optional<bool> boolean(const YAML::Node& n, const std::string& path);
  std::optional<long long> integer(const YAML::Node& n, const std::string& path, long long min,
                                   long long max);
  std::optional<Millis> duration(const YAML::Node& n, const std::string& path);
  std::optional<std::size_t> size(const YAML::Node& n, const std::string& path);
  std::vector<std::string> string_list(const YAML::Node& n, const std::string& path);
  // Converts a YAML subtree to JSON (for templated target bodies), substituting variables.
  nlohmann::json to_json(const YAML::Node& n, const std::string& path);
  void check_template(const std::string& tmpl, const std::string& path, const Project* project);
  void check_template_json(const nlohmann::json& doc, const std::string& path, const Project* project);
  void check_url(const std::string& url, const std::string& path);
  // HOST:PORT into its parts; false (with an error) when malformed.
  bool address(const YAML::Node& n, const std::string& path, std::string& listen, std::string& host,
               std::uint16_t& port_out);

  // The top-level sections and the checks across them (loader.cpp).
  void load_server_tls(const YAML::Node& n, std::optional<ServerTlsConfig>& out);
  void load_server(const YAML::Node& n, ServerConfig& s);
  void check_server(const ServerConfig& s);
  void load_log(const YAML::Node& n, LogConfig& l);
  void load_store(const YAML::Node& n, StoreConfig& s);
  void load_github(const YAML::Node& n, GithubConfig& g);
  void load_platform(const YAML::Node& n, std::optional<PlatformConfig>& out);
  void load_config_source(const YAML::Node& n, std::optional<ConfigSourceConfig>& out);
  void load_reviewers(const YAML::Node& n, std::vector<Reviewer>& out);
  void cross_check(Config& c);
  void load_root(const YAML::Node& root, Config& c);
  void load_notify(const YAML::Node& n, std::vector<Notifier>& out);
  void load_slack(const YAML::Node& n, std::optional<SlackConfig>& out, const std::vector<Reviewer>& reviewers);
  void load_github_app(const YAML::Node& n, std::optional<GithubAppConfig>& out);
  void load_watch(const YAML::Node& n, const std::string& path, const Project& project, Environment& env);
  // A GitHub API's api_url (without a trailing /) and ca_file, for a token or the app.
  void load_github_api(Section& s, std::string& api_url, TlsClientConfig& tls);
  void load_registries(const YAML::Node& n, std::map<std::string, RegistryConfig>& out);

  // Projects, environments and targets (loader_projects.cpp).
  void load_dokploy(Section& target, const Project& project, TargetConfig& out);
  void load_http(Section& target, const Project& project, TargetConfig& out);
  void load_kubernetes(Section& target, const Project& project, TargetConfig& out);
  void load_command(Section& target, const Project& project, TargetConfig& out);
  // A Kubernetes target's manifest files (loader_manifests.cpp): every *.yaml and *.yml of the directory
  // (relative to the config file's), read now, their placeholders checked.
  void load_manifests(const std::string& path, const Project& project, KubernetesTargetConfig& k);
  // `strategy` and `blue_green` of a Kubernetes target (loader_manifests.cpp).
  void load_blue_green(Section& target, KubernetesTargetConfig& k);
  // Smoke checks may use {preview_url} only where a blue_green target gives one.
  void check_preview_url(const std::string& path, const Environment& env);
  // An environment's `before` steps (loader_manifests.cpp): `type: job` (a Job template `file`, the
  // cluster of the environment's Kubernetes target unless given) or `type: command`.
  void load_before(const YAML::Node& n, const std::string& path, const Project& project, Environment& env);
  void load_job(Section& step, const Project& project, const Environment& env, TargetConfig& out);
  // A path the config names, relative to the config file's directory.
  std::filesystem::path config_relative(const std::string& name) const;
  // A file's text; false (with an error under `path`) when it cannot be read or is over 1 MiB.
  bool read_file(const std::filesystem::path& file, const std::string& path, std::string& text);
  // The request an http target or a smoke check sends: a required URL, a method out of `methods`, and
  // headers and a JSON body; all templates.
  void load_request(Section& s, const Project& project, std::initializer_list<std::string_view> methods,
                    std::string& url, std::string& method, std::map<std::string, std::string>& headers,
                    nlohmann::json& body);
  void load_smoke(const YAML::Node& n, const std::string& path, const Project& project, std::vector<SmokeCheck>& out);
  void load_targets(const YAML::Node& n, const std::string& path, const Project& project,
                    std::vector<TargetConfig>& out);
  void load_approval(const YAML::Node& n, const std::string& path, ApprovalConfig& a);
  void load_windows(const YAML::Node& n, const std::string& path, std::vector<DeployWindow>& out);
  void load_freezes(const YAML::Node& n, const std::string& path, std::vector<Freeze>& out);
  // Schedules and analysis (loader_after_deploy.cpp).
  void load_schedules(const YAML::Node& n, const std::string& path, std::vector<Schedule>& out);
  void load_analysis(const YAML::Node& n, const std::string& path, std::optional<Analysis>& out);
  // After the targets: the canary sits beside one of the environment's Kubernetes Deployments.
  void load_canary(const YAML::Node& n, const std::string& path, Environment& env);
  void load_environment(const YAML::Node& n, const std::string& path, Project& project, Environment& env);
  void load_project(const YAML::Node& n, const std::string& path, Project& p);
  void load_components(const YAML::Node& cs, const std::string& path, Project& p);
  void load_github_deployments(const YAML::Node& n, const std::string& path, std::optional<GithubDeploymentsConfig>& out);

 private:
  const EnvLookup& env_;
  std::string base_dir_;  // relative paths in the config are read from here (empty: the working directory)
};

// One YAML mapping being read. Each key is named once, where it is read: asking for a key makes it
// known, and when the section ends every key of the mapping nobody asked for is reported as unknown,
// with the known ones listed. Duplicate keys are reported when it opens.
class Section {
 public:
  Section(Loader& loader, const YAML::Node& map, std::string path);
  ~Section();
  Section(const Section&) = delete;
  Section& operator=(const Section&) = delete;

  // The value under `key`: an undefined node (false in a condition) when absent.
  YAML::Node operator[](std::string_view key);
  // The key's path for messages: "<section path>.<key>".
  std::string at(std::string_view key) const { return join(path_, key); }
  const std::string& path() const { return path_; }
  Loader& loader() { return loader_; }

  // The string under `key` when present and valid (a bad value is reported).
  std::optional<std::string> text(std::string_view key);
  // Optional values, read into `field` when present; a bad value is reported and leaves `field` alone.
  void string(std::string_view key, std::string& field);
  void nonempty(std::string_view key, std::string& field);
  void boolean(std::string_view key, bool& field);
  void duration(std::string_view key, Millis& field);
  void size(std::string_view key, std::size_t& field);
  void list(std::string_view key, std::vector<std::string>& field);
  template <typename T>
  void integer(std::string_view key, T& field, long long min, long long max) {
    if (const auto n = (*this)[key])
      if (auto v = loader_.integer(n, at(key), min, max)) field = static_cast<T>(*v);
  }
  // A key that must be present: reports "is required" (and `hint`) when absent; whether it is present.
  bool require(std::string_view key, const std::string& hint = "");

  // The section is already in error and was not read to its end: no unknown-key report.
  void abandon() { abandoned_ = true; }

 private:
  Loader& loader_;
  YAML::Node map_;
  std::string path_;
  std::vector<std::string> known_;
  bool abandoned_ = false;
};

}  // namespace shipgate::config::detail
