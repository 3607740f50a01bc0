// The validated, immutable configuration. Produced only by load_config(); every consumer may assume
// it is internally consistent (references resolve, templates use known placeholders).
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/rsa_signing.hpp"
#include "config/cron.hpp"
#include "config/ip_ranges.hpp"
#include "config/notify_event.hpp"
#include "config/semver_range.hpp"
#include "config/targets.hpp"
#include "config/trigger.hpp"

namespace shipgate::config {

// HTTPS: on its own address next to the plain listener, or (no `listen`) on server.listen itself.
struct ServerTlsConfig {
  std::string listen;  // HOST:PORT; empty: server.listen speaks HTTPS only
  std::string host;
  std::uint16_t port = 0;
  std::string cert;       // PEM chain file, re-read on reload
  std::string key;        // PEM private key file, re-read on reload
  std::string client_ca;  // PEM CA file: when set, clients must present a certificate it signed
};

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  int threads = 2;
  std::size_t max_body = 25u << 20;      // webhook routes (GitHub's own cap)
  std::size_t max_api_body = 1u << 20;   // every other route
  Millis header_timeout{10'000};         // whole request header, once the first byte arrived
  Millis body_timeout{60'000};           // whole request body
  Millis idle_timeout{60'000};           // keep-alive wait for the next request
  Millis write_timeout{30'000};
  int max_connections = 1024;
  // Open connections from one client address. Beyond this, or beyond max_connections, a connection may
  // still ask /healthz or /readyz (so probes keep working while the daemon is flooded); anything else
  // is answered 503.
  int max_connections_per_client = 256;
  // Request bodies held in memory at once, across every connection. A body is read only while it fits;
  // beyond it the request is answered 503 + Retry-After, so a flood of large (unsigned) bodies cannot
  // take the daemon's memory.
  std::size_t max_body_memory = 64u << 20;
  int max_inflight = 256;                // requests being handled at once; beyond: 503 + Retry-After
  std::size_t max_queued_writes = 10'000;  // store writes waiting to commit; beyond: 503 + Retry-After
  double api_rate = 20;                  // /api requests per second per client address (token bucket)
  int api_burst = 100;
  int auth_failures_per_minute = 10;     // failed tokens or signatures per client address before 429
  // Reverse proxies whose X-Forwarded-For says who the client is (for the limits above); none: the peer.
  IpRanges trusted_proxies;
  Millis shutdown_grace{30'000};
  // Several replicas on PostgreSQL: how long a replica's hold on an environment (or on the outbox) lasts
  // after its last renewal (every second), i.e. how soon another replica takes over from a dead one.
  Millis lane_lease{15'000};
  // false: this replica accepts webhooks and API calls but never runs a deployment; the replicas that do
  // pick up what it accepts (PostgreSQL's NOTIFY). For an ingress-facing replica without target
  // credentials, or one kept out of the deploy path. Needs a shared store.
  bool run_deployments = true;
  std::string public_url;                // how people reach shipgate (links in notifications)
  Millis session_ttl{12 * 3'600'000};    // a web page sign-in lasts this long
  std::optional<ServerTlsConfig> tls;
};

enum class StoreKind { sqlite, postgresql };

struct StoreConfig {
  StoreKind kind = StoreKind::sqlite;
  std::string url = "sqlite:var/shipgate.db";  // for logs and /api/v1/info: a password in it is masked
  std::string sqlite_path = "var/shipgate.db";
  std::string postgres_conninfo;  // the URL as written, for libpq
};

struct GithubConfig {
  std::vector<std::string> secrets;
  std::string dispatch_event = "deploy";
};

struct PlatformConfig {
  std::string repository;
  std::string branch = "main";
};

// The rest of the config comes from a folder of the platform Git repository (config_source:): the local
// file keeps what starts the daemon (server, store, this section) and may hold anything else.
struct ConfigSourceConfig {
  std::string git;               // clone URL: https://, ssh://, file:// or a path
  std::string repository;        // owner/name whose pushes apply it (default: platform.repository)
  std::string branch = "main";
  std::string path = "shipgate";  // the folder in the repository ("" or "." = its root)
  std::string token_file;        // HTTPS: a token sent as the password of x-access-token (never logged);
                                 // without one, the local file's github_app buys one for `repository`
  std::string ca_file;           // HTTPS: an extra trust anchor (an internal CA)
  Millis poll{300'000};          // fetched this often besides on pushes (a missed webhook)
  bool allow_rewind = false;     // apply a commit that is not a descendant of the applied one
  std::string cache_dir = "var/platform";  // where the repository is kept (created)
};

enum class Permission { view, approve, deploy, rollback, override_, reload };
std::optional<Permission> parse_permission(std::string_view s);
std::string_view to_string(Permission p);

struct Reviewer {
  std::string name;
  std::string token_sha256;  // lowercase hex; plain tokens are hashed at load and never kept
  std::string github;
  std::set<Permission> can;
  std::vector<std::string> projects;  // empty: every project
  bool may(Permission p, std::string_view project) const;
};


// A container registry shipgate asks about images (wait_for_images, pin_digests). Registries without
// an entry are asked anonymously over HTTPS.
struct RegistryConfig {
  std::string host;         // as image references name it: ghcr.io, registry.example.com:5000
  std::string username;     // sent to the registry's token service (or as basic auth); anonymous when empty
  std::string password;
  bool plain_http = false;  // http:// instead of https://, for a registry on loopback or a private network
  TlsClientConfig tls;
};

struct ApprovalConfig {
  int required = 1;
  std::vector<std::string> reviewers;
  Millis expire_after{72 * 3'600'000LL};
  bool allow_self_approval = false;
};

// Deployments may start only inside a window: on the listed local days, from `from` until `to`
// (minutes after local midnight). A window with from > to runs past midnight into the next day.
struct DeployWindow {
  std::set<int> days;  // 0 = Sunday ... 6 = Saturday, in the window's time zone
  int from_minute = 0;
  int to_minute = 0;
  std::string timezone;  // IANA name, e.g. Europe/Berlin
};

// A recurring job of an environment: a cron time in a time zone, and what to do then. `verify` runs
// the environment's smoke checks against what runs there now; `redeploy` deploys that version again,
// through the gate like any deployment.
struct Schedule {
  enum class Action { verify, redeploy };
  std::string cron;  // as written, e.g. "0 9 * * *"
  CronSpec spec;
  std::string timezone = "UTC";
  Action action = Action::verify;
  // Names the schedule in the store, the API and the audit log: "0 9 * * * UTC verify".
  std::string key() const;
};
std::string_view to_string(Schedule::Action a);

// After the targets and smoke checks succeed, the deployment keeps running while Prometheus is asked
// for its error ratio every `interval` for `for`: two samples in a row above `max` fail it (and roll it
// back with rollback_on_failure), like a failed smoke check.
struct Analysis {
  std::string prometheus;  // the server's base URL, e.g. http://prometheus:9090
  std::string query;       // PromQL; the highest value of the series it returns is the sample
  double max = 0;
  Millis watch_for{600'000};
  Millis interval{30'000};
  Millis timeout{10'000};  // per query
  TlsClientConfig tls;
};

// A canary release on Kubernetes: the new version goes to one extra Deployment first (the canary,
// beside the component's main Deployment in the same namespace), each step is waited out while the
// analysis runs, and only then do the targets roll out. `weight` is the share of traffic the step gives
// the canary: through a Gateway API HTTPRoute's backend weights when `traffic` names one, else by scaling
// the canary so that its share of the two Deployments' replicas is the weight. Promotion and rollback
// put it back to 0.
struct CanaryStep {
  int weight = 0;  // percent, 1..100
  Millis pause{0};
};
struct Canary {
  std::string component;
  std::string deployment;
  std::string main_deployment;  // the component's Deployment in the target (filled by the loader)
  std::optional<CanaryRoute> traffic;
  std::string container;  // defaults to the main Deployment's
  std::vector<CanaryStep> steps;
  std::optional<Analysis> analysis;  // absent: the environment's analysis, or pauses without one
  std::size_t target = 0;            // the environment's Kubernetes target whose namespace it is in
};

// Nothing starts between from and to (absolute times), whatever the windows say.
struct Freeze {
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
  std::string reason;
};

struct Component {
  std::string name;
  std::string image;  // repository without tag, e.g. ghcr.io/acme/app
  // Globs of other repositories an `images` override may name (e.g. a mirror); empty: only `image`.
  std::vector<std::string> allow_repositories;
};

// watch: the environment deploys the newest tag of a component's repository that matches, once per tag
// (trigger registry), when it is newer than what runs.
struct RegistryWatch {
  Millis every{300'000};
  std::optional<SemverRange> semver;  // only tags in this range (tags are read as semantic versions)
  std::string semver_text;           // as written, for messages
  std::string tags;                  // a glob the tag must match ("release-*"); empty: any
  std::string component;             // whose repository is listed (default: the project's only one)
};

struct Environment {
  std::string name;
  std::string url;           // where the environment is reached (GitHub shows it as the deployment's environment_url)
  // The GitHub environment whose Actions jobs this one gates through a deployment protection rule
  // (github_environment:, default the same name).
  std::string github_environment;
  std::optional<RegistryWatch> watch;
  std::set<Trigger> deploy_on;
  std::string branch;        // push trigger: branch that deploys (defaults to the project's)
  std::string tags;          // push trigger: glob of tags that deploy, empty = none
  std::string tag_template;  // image tag: {sha} {short_sha} {version} {ref}
  std::string promote_from;
  std::optional<ApprovalConfig> approval;
  std::string confirm;
  std::vector<DeployWindow> windows;  // empty: any time
  std::vector<Freeze> freezes;
  std::vector<Schedule> schedules;
  std::optional<Analysis> analysis;
  std::optional<Canary> canary;
  // Steps that must succeed before any target changes (migrations): Jobs and commands, in order, run
  // once per deployment and never by a rollback.
  std::vector<TargetConfig> before;
  std::vector<TargetConfig> targets;
  std::vector<SmokeCheck> smoke;
  bool rollback_on_failure = false;
  // Before the first target runs: wait up to this long for every image to exist in its registry
  // (0: do not ask), and record each image's digest.
  Millis wait_for_images{0};
  bool pin_digests = false;  // targets receive name@sha256:... instead of the tag
  // A promoted version keeps the images the environment before tested (copy, by digest where known),
  // or resolves this environment's own tag template for the same SHA and version (retag).
  enum class PromoteImages { copy, retag } promote_images = PromoteImages::copy;
  bool checks_images() const { return wait_for_images.count() > 0 || pin_digests; }
  // The canary Deployment as a Kubernetes target of its own (the namespace and credentials of the
  // target it sits beside); only with `canary`.
  TargetConfig canary_target() const;
  // The analysis that judges canary steps: the canary's own, else the environment's.
  const std::optional<Analysis>& canary_analysis() const { return canary && canary->analysis ? canary->analysis : analysis; }
};

// GitHub Deployments and their statuses mirror what shipgate does, for the repository's Environments page.
struct GithubDeploymentsConfig {
  std::string token;  // a token allowed to write deployments (repo scope or deployments: write); empty: the GitHub App's
  std::string api_url = "https://api.github.com";
  TlsClientConfig tls;
};

// shipgate as a GitHub App (github_app:): the app's JWT buys installation tokens for GitHub API calls
// where a project names no token of its own.
struct GithubAppConfig {
  std::string app_id;
  std::optional<RsaKey> key;  // read from private_key_file at load; never printed
  std::string api_url = "https://api.github.com";
  TlsClientConfig tls;
};

struct Project {
  std::string name;
  std::string repository;  // owner/name, compared case-insensitively
  std::string secret;      // optional per-project webhook secret
  std::string branch = "main";
  std::vector<std::string> config_paths;
  std::vector<Component> components;
  std::vector<Environment> environments;
  std::optional<GithubDeploymentsConfig> github_deployments;
  // report: { commit_status: true }: each environment's outcome is a commit status shipgate/<environment>.
  bool report_commit_status = false;
  // report: { pull_request: true }: one comment on the merged pull request, edited as environments end.
  bool report_pull_request = false;
  // Whether /webhooks/build may name who triggered a version (its `actor`): only then does the
  // self-approval rule hold that person to it. Otherwise the actor is recorded as claimed.
  bool trust_build_actor = false;

  const Environment* environment(std::string_view name) const;
  // The environment gating the GitHub environment `name` (compared without regard to case, as GitHub does).
  const Environment* environment_for_github(std::string_view name) const;
  const Component* component(std::string_view name) const;
};

struct LogConfig {
  bool json = false;          // format: text | json
  std::string level = "info";  // debug | info | warn | error
};

// Events a notification may subscribe to.
// verify_failed: a scheduled verify found the running version failing its smoke checks.

struct Notifier {
  std::string url;
  bool slack = false;                 // format: slack (Slack incoming webhook) | json
  std::set<NotifyEvent> events;       // empty: all
  std::vector<std::string> projects;  // empty: all
  std::string secret;                 // signs the body as X-Shipgate-Signature-256
  Millis timeout{10'000};
  int max_attempts = 12;              // then it gives up (logged and counted)
  TlsClientConfig tls;
  bool buttons = false;               // Slack format with `slack:` configured: approval messages get buttons
};

// Slack's interactive messages: Approve and Reject buttons on pending_approval notifications, answered
// at /webhooks/slack by people mapped to reviewers.
struct SlackConfig {
  std::string signing_secret;                // the Slack app's signing secret (v0 signatures)
  std::map<std::string, std::string> users;  // Slack user id -> reviewer name
  // Where Slack's response_url may point; anything else in a request is refused, so a forged payload
  // cannot make shipgate post elsewhere.
  std::string response_url_prefix = "https://hooks.slack.com/";
};

struct Config {
  ServerConfig server;
  LogConfig log;
  StoreConfig store;
  GithubConfig github;
  std::optional<GithubAppConfig> github_app;
  std::optional<PlatformConfig> platform;
  std::optional<ConfigSourceConfig> config_source;
  std::string source_commit;  // the platform commit the config was read at ("" when it is a local file alone)
  std::vector<Reviewer> reviewers;
  std::vector<Project> projects;
  std::vector<Notifier> notify;
  std::optional<SlackConfig> slack;
  std::map<std::string, RegistryConfig> registries;  // by host
  std::string source_sha256;  // of the file as read (and the manifest files it names), for /api/v1/info and reload logs
  std::string source;         // the file as read: replicas sharing a store keep each generation's text

  const Project* project(std::string_view name) const;
  const Project* project_by_repository(std::string_view full_name) const;
  // Builds the lookup indexes; the loader calls it once the projects are final.
  void index();
  const Reviewer* reviewer(std::string_view name) const;
  const RegistryConfig* registry(const std::string& host) const;
  // Whether any project has a webhook secret of its own (only then is a body read before it verifies).
  bool any_project_secret() const { return any_project_secret_; }
  // Whether anything consumes state changes: notify endpoints or GitHub deployment statuses.
  bool reports_events() const;

 private:
  // Every webhook looks its project up: O(1) instead of a lower-casing scan over all projects.
  std::unordered_map<std::string, std::size_t> by_name_;
  std::unordered_map<std::string, std::size_t> by_repository_;  // lower-cased owner/name
  bool any_project_secret_ = false;
};

using ConfigPtr = std::shared_ptr<const Config>;

// Every secret value the config holds (at least 6 characters long, longest first): webhook secrets,
// Dokploy API keys and deploy URLs, http target secrets and header values, notification URLs and
// secrets, GitHub tokens. Command output is scrubbed of them.
std::vector<std::string> secret_values(const Config& config);

// Targets that cannot make sure the deployment's version is what runs (a Dokploy deploy URL, or
// pin_version: false): one line each, for `shipgate check` and the daemon's start-up log.
std::vector<std::string> unpinned_targets(const Config& config);

}  // namespace shipgate::config
