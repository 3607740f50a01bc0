// The command line: check, hash-token, version, and serve refusing an invalid config.
#include <filesystem>

#include "tests/e2e/e2e_fixture.hpp"

using namespace shipgate::testing;

TEST(Cli, CheckAcceptsAValidConfig) {
  TempDir dir;
  dir.write("ok.yaml", "github: { secrets: [s] }\nprojects: {}\n");
  auto r = run_command({shipgate_binary(), "check", "-c", dir.file("ok.yaml")});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("valid"), std::string::npos);
}

TEST(Cli, CheckPrintsEveryErrorWithItsPathAndExits1) {
  TempDir dir;
  dir.write("bad.yaml", "server: { threads: 0 }\nstore: nope\nprojects: { app: { repository: x } }\n");
  auto r = run_command({shipgate_binary(), "check", "-c", dir.file("bad.yaml")});
  EXPECT_EQ(r.status, 1);
  for (const char* path : {"server.threads:", "store:", "projects.app.repository:", "projects.app.environments:"})
    EXPECT_NE(r.output.find(path), std::string::npos) << path << "\n" << r.output;
}

TEST(Cli, CheckReportsMissingEnvironmentVariables) {
  TempDir dir;
  dir.write("env.yaml", "github: { secrets: [\"${SHIPGATE_TEST_UNSET_SECRET}\"] }\nprojects: {}\n");
  auto r = run_command({shipgate_binary(), "check", "-c", dir.file("env.yaml")});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("github.secrets[0]: environment variable SHIPGATE_TEST_UNSET_SECRET is not set"), std::string::npos)
      << r.output;
  auto ok = run_command({shipgate_binary(), "check", "-c", dir.file("env.yaml")}, {{"SHIPGATE_TEST_UNSET_SECRET", "v"}});
  EXPECT_EQ(ok.status, 0) << ok.output;
}

TEST(Cli, ServeRefusesAnInvalidConfig) {
  TempDir dir;
  dir.write("bad.yaml", "server: { listen: nowhere }\nprojects: {}\n");
  auto r = run_command({shipgate_binary(), "serve", "-c", dir.file("bad.yaml")});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("server.listen"), std::string::npos);
  EXPECT_NE(r.output.find("refusing to start"), std::string::npos);
}

TEST(Cli, HashTokenFromArgumentAndStdin) {
  const std::string want = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  auto arg = run_command({shipgate_binary(), "hash-token", "test"});
  EXPECT_EQ(arg.status, 0);
  EXPECT_EQ(arg.output, want + "\n");
  auto in = run_command({shipgate_binary(), "hash-token"}, {}, "test\n");
  EXPECT_EQ(in.output, want + "\n");
  auto fresh = run_command({shipgate_binary(), "hash-token", "--new"});
  EXPECT_NE(fresh.output.find("token:        sg_"), std::string::npos);
  EXPECT_NE(fresh.output.find("token_sha256: "), std::string::npos);
}

TEST(Cli, VersionAndUsage) {
  auto v = run_command({shipgate_binary(), "--version"});
  EXPECT_EQ(v.status, 0);
  EXPECT_EQ(v.output.rfind("shipgate ", 0), 0u);
  EXPECT_EQ(run_command({shipgate_binary(), "frobnicate"}).status, 2);
  EXPECT_EQ(run_command({shipgate_binary()}).status, 2);
}

TEST(Cli, ASecondDaemonOnTheSameStoreRefusesToStart) {
  DokployStandin dokploy("e2e-key");
  TempDir dir;
  Daemon first(dir, e2e_config(dokploy.url()));
  ASSERT_TRUE(first.start());
  auto r = run_command({shipgate_binary(), "serve", "-c", dir.file("shipgate.yaml")});
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(r.output.find("locked by another shipgate"), std::string::npos) << r.output;
}

// The configs shipped in examples/ stay valid as the schema evolves.
TEST(Cli, ExampleConfigsAreValid) {
  const std::string src = SHIPGATE_SOURCE_DIR;
  const std::map<std::string, std::string> env = {
      {"GITHUB_WEBHOOK_SECRET", "s"}, {"ALICE_TOKEN", "alice-example-token-1"}, {"ONCALL_TOKEN_SHA256", std::string(64, 'a')},
      {"DOKPLOY_URL", "http://127.0.0.1:3000"}, {"DOKPLOY_API_KEY", "k"}, {"RELEASE_HOOK_URL", "http://127.0.0.1:3000/r"},
      {"ALICE_TOKEN_SHA256", std::string(64, 'b')}, {"DOKPLOY_KEY", "k"}};
  auto example = run_command({shipgate_binary(), "check", "-c", src + "/examples/shipgate.yaml"}, env);
  EXPECT_EQ(example.status, 0) << example.output;
  // The config inside the Kubernetes ConfigMap.
  auto extract = run_command({"/bin/sh", "-c", "sed -n '/shipgate.yaml: |/,$p' " + src +
                                                   "/examples/kubernetes/configmap.yaml | tail -n +2 | sed 's/^    //'"});
  TempDir dir;
  dir.write("k8s.yaml", extract.output);
  auto k8s = run_command({shipgate_binary(), "check", "-c", dir.file("k8s.yaml")}, env);
  EXPECT_EQ(k8s.status, 0) << k8s.output;
  // The web app's manifest set renders and holds only kinds shipgate applies.
  auto app = run_command({shipgate_binary(), "check", "-c", src + "/examples/kubernetes-app/shipgate.yaml"}, env);
  EXPECT_EQ(app.status, 0) << app.output;
}

TEST(Cli, CheckRefusesAManifestSetThatWillNotRender) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("k8s"));
  dir.write("k8s/app.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: { name: w }\n");
  dir.write("shipgate.yaml", "store: sqlite:" + dir.file("s.db") + "\ngithub: { secrets: [s] }\nprojects:\n  web:\n    repository: acme/web\n"
                             "    components: { api: { image: ghcr.io/acme/api } }\n    environments:\n      staging:\n"
                             "        targets: [ { type: kubernetes, namespace: web, manifests: k8s } ]\n");
  auto r = run_command({shipgate_binary(), "check", "-c", dir.file("shipgate.yaml")});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("projects.web.environments.staging.targets[0].manifests: app.yaml#2: kind Widget (example.com/v1) is not one "
                          "shipgate applies"),
            std::string::npos)
      << r.output;
}
