#include <gtest/gtest.h>

#include "config/loader.hpp"

using namespace shipgate::config;

namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const char* kValid = R"(
server: { listen: "127.0.0.1:9090", threads: 4, max_body: 10MiB, timeouts: { header: 5s, idle: 30s } }
store: sqlite:/tmp/x.db
github: { secrets: ["${SECRET}", "old"] }
reviewers:
  alice: { token_sha256: "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08", github: alice, can: [approve, deploy] }
  bot: { token: "${BOT_TOKEN}", can: [deploy], projects: [planera] }
projects:
  planera:
    repository: Acme/Planera
    components: { backend: { image: ghcr.io/acme/planera-backend } }
    environments:
      staging:
        deploy_on: [push, build]
        tag: "staging-{sha}"
        targets:
          - { type: dokploy, url: "https://dokploy.acme.dev/", api_key: "${KEY}", application_id: app_1 }
      production:
        promote_from: staging
        approval: { required: 1, reviewers: [alice], expire_after: 24h }
        targets:
          - type: http
            url: "https://hooks.acme.dev/deploy?v={version}"
            headers: { X-Env: "{environment}" }
            body: { image: "{image.backend}", n: 3, flag: true }
)";

std::map<std::string, std::string> good_env() {
  return {{"SECRET", "s3cret"}, {"BOT_TOKEN", "a-long-bot-token-1234"}, {"KEY", "k"}};
}

}  // namespace

// A PostgreSQL URL goes to libpq as written; logs and /api/v1/info see it with the password masked.
TEST(Config, APostgresStoreKeepsItsUrlForLibpqAndMasksThePassword) {
  struct Case {
    std::string url, shown;
  };
  for (const auto& c : std::vector<Case>{
           {"postgresql://sg:pa55@db:5432/shipgate?sslmode=verify-full", "postgresql://sg:***@db:5432/shipgate?sslmode=verify-full"},
           {"postgres://sg@db/shipgate?password=pa55&sslmode=require", "postgres://sg@db/shipgate?password=***&sslmode=require"},
           {"postgresql://db/shipgate", "postgresql://db/shipgate"},
           {"postgresql://sg:p@ss@db/x", "postgresql://sg:***@db/x"}}) {
    auto r = load_config_text("store: \"" + c.url + "\"\nprojects: {}\n", env_of({}));
    ASSERT_TRUE(r.errors.empty()) << c.url << ": " << r.errors.front().to_string();
    EXPECT_EQ(r.config->store.kind, StoreKind::postgresql);
    EXPECT_EQ(r.config->store.postgres_conninfo, c.url);
    EXPECT_EQ(r.config->store.url, c.shown);
  }
}

TEST(Config, LoadsAValidConfig) {
  auto r = load_config_text(kValid, env_of(good_env()));
  ASSERT_TRUE(r.errors.empty()) << r.errors.front().to_string();
  const auto& c = *r.config;
  EXPECT_EQ(c.server.host, "127.0.0.1");
  EXPECT_EQ(c.server.port, 9090);
  EXPECT_EQ(c.server.threads, 4);
  EXPECT_EQ(c.server.max_body, 10u << 20);
  EXPECT_EQ(c.server.header_timeout, std::chrono::seconds(5));
  EXPECT_EQ(c.store.sqlite_path, "/tmp/x.db");
  EXPECT_EQ(c.github.secrets, (std::vector<std::string>{"s3cret", "old"}));
  ASSERT_EQ(c.reviewers.size(), 2u);
  EXPECT_EQ(c.reviewers[0].token_sha256, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
  EXPECT_EQ(c.reviewers[1].token_sha256.size(), 64u);  // plain token hashed at load
  EXPECT_TRUE(c.reviewers[0].may(Permission::approve, "planera"));
  EXPECT_FALSE(c.reviewers[0].may(Permission::override_, "planera"));
  EXPECT_TRUE(c.reviewers[1].may(Permission::view, "planera"));
  EXPECT_FALSE(c.reviewers[1].may(Permission::view, "other"));
  const auto* p = c.project_by_repository("acme/planera");
  ASSERT_TRUE(p);
  ASSERT_EQ(p->environments.size(), 2u);
  EXPECT_EQ(p->environments[0].name, "staging");  // document order kept
  EXPECT_TRUE(p->environments[0].deploy_on.count(Trigger::push));
  const auto& dok = std::get<DokployTargetConfig>(p->environments[0].targets[0].spec);
  EXPECT_EQ(dok.url, "https://dokploy.acme.dev");  // trailing slash dropped
  EXPECT_EQ(dok.api_key, "k");
  const auto& prod = p->environments[1];
  ASSERT_TRUE(prod.approval);
  EXPECT_EQ(prod.approval->expire_after, std::chrono::hours(24));
  const auto& http = std::get<HttpTargetConfig>(prod.targets[0].spec);
  EXPECT_EQ(http.body["n"], 3);
  EXPECT_EQ(http.body["flag"], true);
  EXPECT_EQ(http.body["image"], "{image.backend}");
  EXPECT_EQ(c.source_sha256.size(), 64u);
}

TEST(Config, MissingVariableIsAnErrorWithItsPath) {
  auto env = good_env();
  env.erase("KEY");
  auto r = load_config_text(kValid, env_of(env));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].path, "projects.planera.environments.staging.targets[0].api_key");
  EXPECT_NE(r.errors[0].message.find("KEY is not set"), std::string::npos);
  EXPECT_FALSE(r.config);
}

TEST(Config, DollarDollarIsALiteralDollar) {
  auto r = load_config_text(R"(
github: { secrets: ["pa$$word${SECRET}"] }
projects: {}
)", env_of({{"SECRET", "!"}}));
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(r.config->github.secrets[0], "pa$word!");
}

// Each snippet has exactly the listed errors (path and a piece of the message).
TEST(Config, ValidationTable) {
  struct Case {
    std::string yaml;
    std::vector<std::pair<std::string, std::string>> want;
  };
  const std::string base_project = R"(
    repository: acme/app
    environments:
      staging:
        targets: [ { type: http, url: "http://x" } ]
)";
  const Case cases[] = {
      {"projects: {}\nbogus: 1\n", {{"bogus", "unknown key"}}},
      {"server: { listen: 8080 }\nprojects: {}\n", {{"server.listen", "HOST:PORT"}}},
      {"server: { threads: 0 }\nprojects: {}\n", {{"server.threads", "between 1 and 256"}}},
      {"server: { max_body: lots }\nprojects: {}\n", {{"server.max_body", "size"}}},
      {"server: { timeouts: { header: 0s } }\nprojects: {}\n", {{"server.timeouts.header", "greater than 0"}}},
      {"server: { max_body: 10MiB, max_body_memory: 5MiB }\nprojects: {}\n",
       {{"server.max_body_memory", "at least server.max_body"}}},
      {"github: { secrets: [s] }\nprojects:\n  app:" + base_project + "    trust_build_actor: maybe\n",
       {{"projects.app.trust_build_actor", "true or false"}}},
      {"store: mysql://x\nprojects: {}\n", {{"store", "sqlite:PATH"}}},
      {"server: { lane_lease: 1s }\nprojects: {}\n", {{"server.lane_lease", "at least 3s"}}},
      {"server: { run_deployments: false }\nprojects: {}\n", {{"server.run_deployments", "needs a shared store"}}},
      {"server: { run_deployments: sometimes }\nprojects: {}\n", {{"server.run_deployments", "true or false"}}},
      {"github: { secrets: [\"\"] }\nprojects: {}\n", {{"github.secrets[0]", "must not be empty"}}},
      {"reviewers: { bob: { can: [approve] } }\nprojects: {}\n", {{"reviewers.bob", "needs token"}}},
      {"reviewers: { bob: { token: short } }\nprojects: {}\n", {{"reviewers.bob.token", "at least 16"}}},
      {"reviewers: { bob: { token_sha256: xyz } }\nprojects: {}\n", {{"reviewers.bob.token_sha256", "64 hex"}}},
      {"github: { secrets: [s] }\nprojects: { app: { repository: acme/app } }\n",
       {{"projects.app.environments", "is required"}}},
      {"projects: { app: {" + std::string("repository: acme/app, environments: { staging: { targets: [] } } } }\n"),
       {{"projects.app.environments.staging.targets", "at least one target"},
        {"projects.app.secret", "no webhook secret"}}},
      {"github: { secrets: [s] }\nprojects:\n  app:" + base_project + "        deploy_on: [push, cron]\n",
       {{"projects.app.environments.staging.deploy_on[1]", "unknown trigger"}}},
      // A trigger shipgate or a person makes is not one an environment deploys on.
      {"github: { secrets: [s] }\nprojects:\n  app:" + base_project + "        deploy_on: [push, manual]\n",
       {{"projects.app.environments.staging.deploy_on[1]", "unknown trigger"}}},
      {"github: { secrets: [s] }\nprojects:\n  app:" + base_project + "        tag: \"{sha}-{bogus}\"\n",
       {{"projects.app.environments.staging.tag", "unknown placeholder {bogus}"}}},
      {"github: { secrets: [s] }\nprojects:\n  app:" + base_project + "        promote_from: staging\n",
       {{"projects.app.environments.staging.promote_from", "itself"}}},
      {"github: { secrets: [s] }\nprojects:\n  app:" + base_project +
           "        approval: { required: 2, reviewers: [ghost] }\n",
       {{"projects.app.environments.staging.approval.reviewers[0]", "unknown reviewer"},
        {"projects.app.environments.staging.approval.required", "larger than"}}},
      {"github: { secrets: [s] }\nprojects:\n  app:\n    repository: acme/app\n    environments:\n      s:\n"
       "        targets: [ { type: dokploy, url: \"https://d\", api_key: k } ]\n",
       {{"projects.app.environments.s.targets[0]", "exactly one of application_id or compose_id"}}},
      {"github: { secrets: [s] }\nprojects:\n  app:\n    repository: acme/app\n    environments:\n      s:\n"
       "        targets: [ { type: dokploy, deploy_url: \"https://d/api/deploy/t\", api_key: k } ]\n",
       {{"projects.app.environments.s.targets[0]", "deploy_url mode takes no"}}},
      {"github: { secrets: [s] }\nprojects:\n  app:\n    repository: acme/app\n    environments:\n      s:\n"
       "        targets: [ { type: ftp } ]\n",
       {{"projects.app.environments.s.targets[0].type", "unknown target type"}}},
      {"github: { secrets: [s] }\nprojects:\n  app:\n    repository: acme/app\n    environments:\n      s:\n"
       "        targets: [ { type: http, url: \"http://x\", colour: red } ]\n",
       {{"projects.app.environments.s.targets[0].colour", "unknown key"}}},
      {"github: { secrets: [s] }\nprojects:\n  App:" + base_project, {{"projects.App", "lowercase"}}},
      {"github: { secrets: [s] }\nprojects:\n  a:" + base_project + "  b:" + base_project,
       {{"projects.b.repository", "already used by project a"}}},
      {"projects: [1, 2]\n", {{"projects", "must be a mapping"}}},
      {"log: { format: xml, level: loud }\nprojects: {}\n", {{"log.format", "text or json"}, {"log.level", "debug, info, warn or error"}}},
      {"github: { secrets: [s] }\nprojects:\n  app:\n    repository: acme/app\n    components: { web: { image: x/web } }\n"
       "    environments:\n      s:\n        targets: [ { type: kubernetes, deployments: { api: api } } ]\n",
       {{"projects.app.environments.s.targets[0].namespace", "is required"},
        {"projects.app.environments.s.targets[0].deployments.api", "no component 'api'"}}},
      {"github: { secrets: [s] }\nprojects:\n  app:\n    repository: acme/app\n    environments:\n      s:\n"
       "        targets: [ { type: command, argv: [], timeout: soon } ]\n",
       {{"projects.app.environments.s.targets[0].argv", "needs at least the program"},
        {"projects.app.environments.s.targets[0].timeout", "duration"}}},
      {"github: { secrets: [s] }\nprojects:\n  app:" + base_project +
           "        smoke: [ { url: ftp://x, expect: 700, attempts: 0 } ]\n        rollback_on_failure: maybe\n",
       {{"projects.app.environments.staging.smoke[0].url", "http:// or https://"},
        {"projects.app.environments.staging.smoke[0].expect", "between 100 and 599"},
        {"projects.app.environments.staging.smoke[0].attempts", "between 1 and 1000"},
        {"projects.app.environments.staging.rollback_on_failure", "true or false"}}},
      {"server: { threads: 2, threads: 3 }\nprojects: {}\n", {{"server.threads", "duplicate key"}}},
      {"server: {\n", {{"", "YAML syntax error"}}},
      {"server: { tls: { key: k.pem, client: x } }\nprojects: {}\n",
       {{"server.tls.cert", "is required"}, {"server.tls.client", "unknown key (allowed: listen, cert, key, client_ca)"}}},
      {"server: { listen: \"0.0.0.0:8443\", tls: { listen: \"0.0.0.0:8443\", cert: c, key: k } }\nprojects: {}\n",
       {{"server.tls.listen", "must differ"}}},
      {"server: { public_url: shipgate.acme.dev, max_inflight: 0 }\nprojects: {}\n",
       {{"server.max_inflight", "between 1"}, {"server.public_url", "http:// or https://"}}},
      {"notify: { url: x }\nprojects: {}\n", {{"notify", "must be a list"}}},
      {"notify:\n  - { format: teams, events: [deployed], projects: [ghost] }\nprojects: {}\n",
       {{"notify[0].url", "is required"}, {"notify[0].format", "slack or json"},
        {"notify[0].events[0]", "unknown event 'deployed'"}, {"notify[0].projects[0]", "unknown project 'ghost'"}}},
      {"github: { secrets: [s] }\nprojects:\n  app:" + base_project + "    github_deployments: { api_url: ftp://x }\n",
       {{"projects.app.github_deployments.api_url", "http:// or https://"},
        {"projects.app.github_deployments.token", "is required without github_app"}}},
  };
  for (const auto& c : cases) {
    auto r = load_config_text(c.yaml, env_of({}));
    std::string got;
    for (const auto& e : r.errors) got += "\n  " + e.to_string();
    ASSERT_EQ(r.errors.size(), c.want.size()) << c.yaml << "errors:" << got;
    for (std::size_t i = 0; i < c.want.size(); ++i) {
      EXPECT_EQ(r.errors[i].path, c.want[i].first) << c.yaml << got;
      EXPECT_NE(r.errors[i].message.find(c.want[i].second), std::string::npos) << c.yaml << got;
    }
  }
}

TEST(Config, BodyMemoryMakesRoomForTheLargestBodyUnlessSetExplicitly) {
  auto r = load_config_text("server: { max_body: 100MiB }\nprojects: {}\n", env_of({}));
  ASSERT_TRUE(r.errors.empty()) << r.errors.front().to_string();
  EXPECT_EQ(r.config->server.max_body_memory, 100u << 20);
  r = load_config_text("projects: {}\n", env_of({}));
  EXPECT_EQ(r.config->server.max_body_memory, 64u << 20);
  EXPECT_EQ(r.config->server.max_connections_per_client, 256);
}

TEST(Config, ReportsEveryErrorInOneRun) {
  auto r = load_config_text(R"(
server: { listen: nope, threads: 0 }
store: nowhere
reviewers: { x: { token_sha256: abc, can: [fly] } }
projects:
  app:
    repository: bad
    environments:
      prod: { targets: [ { type: http } ] }
)", env_of({}));
  // listen, threads, store, token_sha256, can[0], repository, targets[0].url, secret
  EXPECT_EQ(r.errors.size(), 8u);
}

// Every key of every section, each once: the loader knows them all (a key read only on some paths
// would be refused as unknown here), and an unknown key names the section's keys.
TEST(Config, EveryKeyOfEverySectionIsKnown) {
  const std::string full = R"(
server:
  listen: "127.0.0.1:8080"
  threads: 2
  max_body: 1MiB
  max_api_body: 64KiB
  timeouts: { header: 5s, body: 10s, idle: 30s, write: 10s }
  max_connections: 100
  max_connections_per_client: 10
  max_body_memory: 8MiB
  max_inflight: 50
  max_queued_writes: 1000
  api_rate: 10
  api_burst: 20
  auth_failures_per_minute: 5
  shutdown_grace: 10s
  public_url: "https://shipgate.example.com/"
  tls: { listen: "127.0.0.1:8443", cert: c.pem, key: k.pem, client_ca: ca.pem }
log: { format: json, level: debug }
store: "sqlite:/tmp/x.db"
github: { secrets: [s], dispatch_event: deploy }
platform: { repository: acme/platform, branch: main }
reviewers:
  alice: { token: "alice-token-123456", github: alice-gh, can: [approve], projects: [app] }
  bob: { token_sha256: "0000000000000000000000000000000000000000000000000000000000000000" }
notify:
  - { url: "https://hooks.example.com/x", format: json, events: [failed], projects: [app], secret: n,
      timeout: 5s, max_attempts: 3, ca_file: ca.pem }
registries:
  "127.0.0.1:5000": { username: ci, password: "${REGISTRY_TOKEN}", plain_http: true, ca_file: ca.pem }
projects:
  app:
    repository: acme/app
    secret: own
    branch: main
    config_paths: ["app/**"]
    github_deployments: { token: t, api_url: "https://ghe.example.com/api/v3", ca_file: ca.pem }
    trust_build_actor: true
    components: { api: { image: ghcr.io/acme/api, allow_repositories: ["ghcr.io/acme/*"] } }
    environments:
      staging:
        deploy_on: [push]
        branch: main
        tags: "v*"
        tag: "{sha}"
        rollback_on_failure: true
        wait_for_images: 10m
        pin_digests: true
        smoke: [ { url: "https://x.example.com/h/{version}", expect: 200, body_contains: "{version}", attempts: 2,
                   interval: 1s, timeout: 1s, ca_file: ca.pem, method: POST, headers: { X-V: "{sha}" },
                   body: { v: "{version}" } } ]
        targets:
          - { type: dokploy, url: "https://d.example.com", api_key: k, application_id: a, poll_interval: 1s,
              timeout: 1m, ca_file: ca.pem, component: api, env: { VERSION: "{version}" }, pin_version: true }
          - { type: http, url: "https://h.example.com", method: PUT, headers: { X-A: b }, body: { v: "{version}" },
              secret: s, timeout: 5s, ca_file: ca.pem }
          - { type: kubernetes, namespace: n, deployments: { api: { deployment: api, container: main } },
              kubeconfig: kc, context: ctx, rollout_timeout: 1m, poll_interval: 1s }
          - { type: kubernetes, namespace: n, deployments: { api: api }, service_account_dir: /var/run/sa }
          - { type: command, argv: [/bin/true, "{version}"], timeout: 1m, workdir: /tmp, env: { A: b } }
          - { type: dokploy, deploy_url: "https://d.example.com/api/deploy/x" }
      production:
        promote_from: staging
        promote: { images: retag }
        approval: { required: 1, reviewers: [alice], expire_after: 1h, allow_self_approval: false }
        confirm: yes-really
        windows: [ { days: [mon], from: "09:00", to: "17:00", timezone: UTC } ]
        freezes: [ { from: "2026-12-20T00:00:00Z", to: "2027-01-05T00:00:00Z", reason: holidays } ]
        schedules: [ { cron: "0 9 * * *", timezone: UTC, action: verify } ]
        targets: [ { type: dokploy, url: "https://d.example.com", api_key: k, compose_id: c, env: { V: "{version}" } } ]
)";
  auto r = load_config_text(full, [](const std::string&) { return std::optional<std::string>("x"); });
  for (const auto& e : r.errors) ADD_FAILURE() << e.to_string();
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->server.public_url, "https://shipgate.example.com");
  const auto* staging = r.config->project("app")->environment("staging");
  ASSERT_EQ(staging->targets.size(), 6u);
  EXPECT_EQ(unpinned_targets(*r.config).size(), 1u) << "the deploy URL target";
  EXPECT_EQ(staging->wait_for_images, std::chrono::minutes(10));
  EXPECT_TRUE(staging->pin_digests);
  EXPECT_EQ(r.config->project("app")->environment("production")->promote_images, Environment::PromoteImages::retag);
  ASSERT_TRUE(r.config->registry("127.0.0.1:5000"));
  EXPECT_TRUE(r.config->registry("127.0.0.1:5000")->plain_http);
  EXPECT_EQ(r.config->registry("127.0.0.1:5000")->password, "x");

  struct Case {
    std::string from, to;
    std::string path;
    std::string allowed;
  };
  const Case cases[] = {
      {"  max_inflight: 50\n", "  max_inflight: 50\n  colour: red\n", "server.colour",
       "listen, threads, max_body, max_api_body, timeouts, max_connections, max_connections_per_client, "
       "max_body_memory, max_inflight, max_queued_writes, api_rate, api_burst, auth_failures_per_minute, trusted_proxies, "
       "shutdown_grace, lane_lease, run_deployments, session_ttl, public_url, tls"},
      {"idle: 30s,", "idle: 30s, colour: red,", "server.timeouts.colour", "header, body, idle, write"},
      {"dispatch_event: deploy }", "dispatch_event: deploy, colour: red }", "github.colour", "secrets, dispatch_event"},
      {"max_attempts: 3,", "max_attempts: 3, colour: red,", "notify[0].colour",
       "url, format, events, projects, secret, timeout, max_attempts, ca_file"},
      {"confirm: yes-really\n", "confirm: yes-really\n        colour: red\n", "projects.app.environments.production.colour",
       "deploy_on, branch, url, github_environment, watch, tags, tag, promote_from, promote, wait_for_images, pin_digests, approval, confirm, "
       "windows, smoke, rollback_on_failure, freezes, schedules, analysis, targets, before, canary"},
      {"plain_http: true,", "plain_http: true, colour: red,", "registries.127.0.0.1:5000.colour",
       "username, password, plain_http, ca_file"},
      {"images: retag }", "images: retag, colour: red }", "projects.app.environments.production.promote.colour", "images"},
      {"workdir: /tmp,", "workdir: /tmp, colour: red,", "projects.app.environments.staging.targets[4].colour",
       "type, argv, timeout, workdir, env"},
      {"deployment: api, container: main", "deployment: api, container: main, colour: red",
       "projects.app.environments.staging.targets[2].deployments.api.colour", "deployment, container, replicas"},
  };
  for (const auto& c : cases) {
    std::string yaml = full;
    ASSERT_NE(yaml.find(c.from), std::string::npos) << c.from;
    yaml.replace(yaml.find(c.from), c.from.size(), c.to);
    auto bad = load_config_text(yaml, [](const std::string&) { return std::optional<std::string>("x"); });
    ASSERT_EQ(bad.errors.size(), 1u) << c.path << (bad.errors.empty() ? "" : ": " + bad.errors[0].to_string());
    EXPECT_EQ(bad.errors[0].path, c.path);
    EXPECT_EQ(bad.errors[0].message, "unknown key (allowed: " + c.allowed + ")");
  }
}

TEST(Config, ImageChecksAndPromotionChoicesAreChecked) {
  auto errors_of = [](const std::string& extra, const std::string& staging) {
    const auto r = load_config_text("github: { secrets: [s] }\n" + extra +
                                        "projects:\n  app:\n    repository: acme/app\n"
                                        "    components: { api: { image: ghcr.io/acme/api } }\n"
                                        "    environments:\n      staging:\n" + staging +
                                        "        targets: [ { type: command, argv: [/bin/true] } ]\n",
                                    [](const std::string&) { return std::optional<std::string>("x"); });
    std::vector<std::string> out;
    for (const auto& e : r.errors) out.push_back(e.to_string());
    return out;
  };
  EXPECT_TRUE(errors_of("", "        wait_for_images: 90s\n        pin_digests: true\n").empty());
  EXPECT_EQ(errors_of("", "        wait_for_images: soon\n").size(), 1u);
  EXPECT_EQ(errors_of("", "        promote: { images: rebuild }\n").size(), 1u);
  const auto retag = errors_of("", "        promote: { images: retag }\n");
  ASSERT_EQ(retag.size(), 1u);
  EXPECT_NE(retag[0].find("set promote_from"), std::string::npos) << retag[0];
  const auto half = errors_of("registries: { ghcr.io: { username: ci } }\n", "");
  ASSERT_EQ(half.size(), 1u);
  EXPECT_NE(half[0].find("username and password go together"), std::string::npos) << half[0];
  EXPECT_EQ(errors_of("registries: { \"ghcr.io/acme\": { plain_http: true } }\n", "").size(), 1u);
}

TEST(Config, ADokployTargetMustBeAbleToPinTheVersion) {
  auto load = [](const std::string& components, const std::string& target) {
    return load_config_text("github: { secrets: [s] }\nprojects:\n  app:\n    repository: acme/app\n" + components +
                                "    environments:\n      staging:\n        targets: [ " + target + " ]\n",
                            [](const std::string&) { return std::optional<std::string>("x"); });
  };
  const std::string two = "    components: { api: { image: r/api }, web: { image: r/web } }\n";
  const std::string one = "    components: { api: { image: r/api } }\n";
  const std::string app = "{ type: dokploy, url: \"https://d.example.com\", api_key: k, application_id: a";
  const std::string stack = "{ type: dokploy, url: \"https://d.example.com\", api_key: k, compose_id: c";
  // One component: it is the one. Two: the target names it, or says not to pin.
  auto single = load(one, app + " }");
  ASSERT_TRUE(single.config);
  EXPECT_EQ(std::get<DokployTargetConfig>(single.config->project("app")->environments[0].targets[0].spec).component, "api");
  auto ambiguous = load(two, app + " }");
  ASSERT_EQ(ambiguous.errors.size(), 1u);
  EXPECT_EQ(ambiguous.errors[0].path, "projects.app.environments.staging.targets[0].component");
  EXPECT_NE(ambiguous.errors[0].message.find("pin_version: false"), std::string::npos);
  EXPECT_TRUE(load(two, app + ", component: web }").config);
  EXPECT_FALSE(load(two, app + ", component: db }").config);
  auto unpinned = load(two, app + ", pin_version: false }");
  ASSERT_TRUE(unpinned.config);
  EXPECT_EQ(unpinned_targets(*unpinned.config).size(), 1u);
  // A stack takes the version through env keys, whose names must be names.
  EXPECT_FALSE(load(one, stack + " }").config);
  EXPECT_TRUE(load(one, stack + ", env: { VERSION: \"{version}\", API_IMAGE: \"{image.api}\" } }").config);
  EXPECT_FALSE(load(one, stack + ", env: { \"BAD KEY\": x } }").config);
  EXPECT_FALSE(load(one, stack + ", env: { V: \"{nope}\" } }").config);
  // A deploy URL cannot be given an image or environment.
  EXPECT_FALSE(load(one, "{ type: dokploy, deploy_url: \"https://d.example.com/api/deploy/x\", env: { V: x } }").config);
}
