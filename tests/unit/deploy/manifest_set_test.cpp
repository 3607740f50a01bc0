// The rules of a manifest set: writing values into YAML, reading documents, checking and ordering the
// objects, StatefulSet and DaemonSet rollouts, and the words of an apply conflict.
#include <gtest/gtest.h>

#include <filesystem>

#include "deploy/kube_apply.hpp"
#include "deploy/manifest_set.hpp"
#include "deploy/manifest_yaml.hpp"
#include "deploy/rollout_rules.hpp"
#include "tests/support/daemon.hpp"

using namespace shipgate;
using namespace shipgate::deploy;
using nlohmann::json;

namespace {

// `tmpl` with {v} set to `value`, rendered for YAML; "ERROR: ..." when refused.
std::string yaml_rendered(const std::string& tmpl, const std::string& value) {
  std::string error;
  const config::ValueWriter write = write_yaml_value;
  auto out = config::expand_template_with(tmpl, {{"v", value}}, write, error);
  return out ? *out : "ERROR: " + error;
}

json first_document(const std::string& text) {
  std::string error;
  auto docs = yaml_documents(text, error);
  return docs.empty() ? json("ERROR: " + error) : docs[0];
}

}  // namespace

TEST(ManifestYaml, EachValueReadsBackAsTheSameStringWhereverItStands) {
  struct Case {
    const char* tmpl;
    const char* value;
    const char* rendered;   // the text written
    const char* read_back;  // what YAML reads under "key" (nullptr: the value itself; "": not read)
  };
  const Case cases[] = {
      {"key: {v}", "1.10", "key: \"1.10\"", nullptr},
      {"key: {v}", "true", "key: \"true\"", nullptr},
      {"key: {v}  # note", "x\nevil: true", "key: \"x\\nevil: true\"  # note", nullptr},
      {"key: \"{v}\"", "a\"b\\c", "key: \"a\\\"b\\\\c\"", nullptr},
      {"key: 'it {v}'", "it's", "key: 'it it''s'", "it it's"},
      {"key: ghcr.io/acme/api:{v}", "1.2.3", "key: ghcr.io/acme/api:1.2.3", "ghcr.io/acme/api:1.2.3"},
      {"list: [{v}, b]", "no", "list: [\"no\", b]", ""},
      {"- {v}", "null", "- \"null\"", ""},
  };
  for (const auto& c : cases) {
    const auto out = yaml_rendered(c.tmpl, c.value);
    EXPECT_EQ(out, c.rendered) << c.tmpl;
    if (c.read_back && !*c.read_back) continue;
    const json doc = first_document(out);
    EXPECT_EQ(doc.size(), 1u) << out;
    EXPECT_EQ(doc["key"], c.read_back ? c.read_back : c.value) << out;
  }
}

TEST(ManifestYaml, ValuesThatCannotStandWhereTheyAreAreRefused) {
  EXPECT_EQ(yaml_rendered("image: acme/api:{v}", "1 2").rfind("ERROR: the value of {v} cannot stand unquoted", 0), 0u);
  EXPECT_EQ(yaml_rendered("key: 'a{v}'", "x\ny").rfind("ERROR: {v} holds a control character", 0), 0u);
  EXPECT_EQ(yaml_rendered("script: |\n  echo {v}\n", "a\nb").rfind("ERROR: {v} holds a line break", 0), 0u);
  // Inside a block scalar a value is text: written as is, no quotes added.
  EXPECT_EQ(yaml_rendered("script: |\n  echo {v}\n  {v}\n", "a b"), "script: |\n  echo a b\n  a b\n");
  EXPECT_EQ(yaml_rendered("# deployed {v}\nk: 1", "by a person"), "# deployed by a person\nk: 1");
}

TEST(ManifestYaml, DocumentsKeepYamlTypesAndSkipEmptyOnes) {
  std::string error;
  const auto docs = yaml_documents("---\na: 1\nb: 1.5\nc: true\nd: ~\ne: \"8080\"\nf: 0.5.1\n---\n---\nz: [1, x]\n", error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0], json::parse(R"({"a":1,"b":1.5,"c":true,"d":null,"e":"8080","f":"0.5.1"})"));
  EXPECT_EQ(docs[1], json::parse(R"({"z":[1,"x"]})"));
  EXPECT_TRUE(yaml_documents("a: [1, 2\nb: 3\n", error).empty());
  EXPECT_NE(error.find("line "), std::string::npos) << error;
}

TEST(ManifestSet, ObjectsAreCheckedLabelledAndOrderedByKindThenFile) {
  const std::vector<config::ManifestFile> files = {
      {"app.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: api }\n---\n"
                   "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: b, namespace: other }\n"},
      {"ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: { name: web }\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n"},
  };
  const auto set = render_manifests(files, {}, "web", "web.production");
  ASSERT_TRUE(set.error.empty()) << set.error;
  std::vector<std::string> order;
  for (const auto& o : set.objects) order.push_back(o.label() + " from " + o.source);
  EXPECT_EQ(order, (std::vector<std::string>{"Namespace web from ns.yaml#1", "ConfigMap other/b from app.yaml#2",
                                             "ConfigMap web/a from ns.yaml#2", "Deployment web/api from app.yaml#1"}));
  EXPECT_EQ(set.objects[3].path(), "/apis/apps/v1/namespaces/web/deployments/api");
  EXPECT_EQ(set.objects[0].path(), "/api/v1/namespaces/web");
  EXPECT_EQ(set.objects[2].body["metadata"]["labels"], json::parse(R"({"app.kubernetes.io/managed-by":"shipgate","shipgate.dev/set":"web.production"})"));
  EXPECT_EQ(set.digest.size(), 64u);
  EXPECT_EQ(render_manifests(files, {}, "web", "web.production").digest, set.digest);
  EXPECT_NE(render_manifests(files, {}, "web2", "web.production").digest, set.digest);
  EXPECT_EQ(object_list(set.objects)[0], json::parse(R"({"kind":"Namespace","name":"web"})"));
}

TEST(ManifestSet, ASetThatCannotBeAppliedSaysWhichDocumentAndWhy) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"apiVersion: example.com/v1\nkind: Widget\nmetadata: { name: w }\n", "m.yaml#1: kind Widget (example.com/v1) is not one shipgate applies"},
      {"apiVersion: v1\nkind: Namespace\nmetadata: { name: web, namespace: x }\n", "m.yaml#1: Namespace is cluster-scoped"},
      {"apiVersion: v1\nkind: ConfigMap\nmetadata: { name: Bad_Name }\n", "m.yaml#1: metadata.name must be"},
      {"kind: ConfigMap\nmetadata: { name: a }\n", "m.yaml#1: needs apiVersion and kind"},
      {"- 1\n- 2\n", "m.yaml#1: is not a mapping"},
      {"apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n",
       "m.yaml#2: ConfigMap web/a is declared twice"},
      {"apiVersion: v1\nkind: ConfigMap\nmetadata: { name: {nope} }\n", "m.yaml: unknown placeholder {nope}"},
  };
  for (const auto& c : cases) {
    const auto set = render_manifests({{"m.yaml", c.text}}, {}, "web", "s");
    EXPECT_EQ(set.error.rfind(c.error, 0), 0u) << set.error;
    EXPECT_TRUE(set.objects.empty());
  }
}

TEST(ManifestSet, TheSetLabelIsValidForAnyProjectAndEnvironment) {
  EXPECT_EQ(set_label_value("web", "production"), "web.production");
  const auto long_value = set_label_value(std::string(40, 'a'), std::string(40, 'b'));
  EXPECT_EQ(long_value.size(), 36u);
  EXPECT_EQ(long_value.rfind("set-", 0), 0u);
  EXPECT_EQ(set_label_value("_x", "y").rfind("set-", 0), 0u);
}

TEST(ManifestSet, AConflictNamesTheFieldsAndTheirManagers) {
  ManifestObject object{kube_kind("apps/v1", "Deployment"), "web", "api", "", {}};
  const std::string body = R"({"kind":"Status","code":409,"reason":"Conflict","details":{"causes":[
      {"reason":"FieldManagerConflict","message":"conflict with \"kubectl-edit\" using apps/v1","field":".spec.replicas"},
      {"reason":"FieldManagerConflict","message":"conflict with \"kubectl-edit\" using apps/v1","field":".spec.template.spec.containers"}]}})";
  EXPECT_EQ(conflict_reason(object, body),
            "conflict applying Deployment web/api: .spec.replicas, .spec.template.spec.containers managed by \"kubectl-edit\", "
            "not by \"shipgate\" (set force: true to take them over)");
  EXPECT_EQ(conflict_reason(object, "not json"),
            "conflict applying Deployment web/api: fields managed by another field manager, not by \"shipgate\" (set force: true to take them over)");
}

TEST(RolloutRules, StatefulSetsAndDaemonSetsFollowKubectl) {
  struct Case {
    const char* kind;
    const char* object;
    RolloutState want;
    const char* why;
  };
  const Case cases[] = {
      {"StatefulSet", R"({"metadata":{"generation":2},"status":{"observedGeneration":1}})", RolloutState::progressing,
       "waiting for the controller to observe the change"},
      {"StatefulSet", R"({"spec":{"replicas":3},"status":{"readyReplicas":2}})", RolloutState::progressing, "2 of 3 pods ready"},
      {"StatefulSet", R"({"spec":{"replicas":3},"status":{"readyReplicas":3,"updatedReplicas":1,"currentRevision":"a","updateRevision":"b"}})",
       RolloutState::progressing, "1 of 3 pods at the new revision"},
      {"StatefulSet", R"({"spec":{"replicas":3,"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":2}}},"status":{"readyReplicas":3,"updatedReplicas":1,"currentRevision":"a","updateRevision":"b"}})",
       RolloutState::complete, "rolled out"},
      {"StatefulSet", R"({"spec":{"replicas":3},"status":{"readyReplicas":3,"currentRevision":"b","updateRevision":"b"}})", RolloutState::complete, "rolled out"},
      {"StatefulSet", R"({"spec":{"replicas":3,"updateStrategy":{"type":"OnDelete"}},"status":{}})", RolloutState::complete, "rolled out"},
      {"DaemonSet", R"({"status":{"desiredNumberScheduled":3,"updatedNumberScheduled":2}})", RolloutState::progressing, "2 of 3 new pods scheduled"},
      {"DaemonSet", R"({"status":{"desiredNumberScheduled":3,"updatedNumberScheduled":3,"numberAvailable":1}})", RolloutState::progressing,
       "1 of 3 updated pods available"},
      {"DaemonSet", R"({"status":{"desiredNumberScheduled":3,"updatedNumberScheduled":3,"numberAvailable":3}})", RolloutState::complete, "rolled out"},
      {"DaemonSet", R"({"status":"nonsense"})", RolloutState::complete, "rolled out"},
      {"ConfigMap", R"({})", RolloutState::complete, "rolled out"},
  };
  for (const auto& c : cases) {
    std::string why;
    EXPECT_EQ(workload_rollout_state(c.kind, json::parse(c.object), why), c.want) << c.object;
    EXPECT_EQ(why, c.why) << c.object;
  }
}

TEST(ManifestSet, TheConfigReadsTheFilesAndCheckRefusesASetThatWillNotRender) {
  shipgate::testing::TempDir dir;
  std::filesystem::create_directories(dir.file("k8s"));
  dir.write("k8s/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\ndata: { v: {version} }\n");
  dir.write("k8s/notes.txt", "not a manifest");
  auto config_with = [&](const std::string& target) {
    return "store: sqlite:/tmp/x.db\ngithub: { secrets: [s] }\nprojects:\n  web:\n    repository: acme/web\n    components: { api: { image: ghcr.io/acme/api } }\n"
           "    environments:\n      production:\n        targets:\n          - { type: kubernetes, namespace: web, " + target + " }\n";
  };
  const auto none = [](const std::string&) { return std::optional<std::string>(); };
  auto loaded = config::load_config_text(config_with("manifests: k8s, prune: true"), none, dir.path() + "/");
  ASSERT_TRUE(loaded.errors.empty()) << loaded.errors[0].to_string();
  const auto& k = std::get<config::KubernetesTargetConfig>(loaded.config->projects[0].environments[0].targets[0].spec);
  ASSERT_EQ(k.manifest_files.size(), 1u);
  EXPECT_EQ(k.manifest_files[0].name, "a.yaml");
  EXPECT_TRUE(k.prune);
  EXPECT_TRUE(check_manifest_sets(*loaded.config).empty());
  // A config read by a relative path reads its manifests beside it.
  const auto relative = config::load_config_text(config_with("manifests: k8s"), none, std::filesystem::relative(dir.path()).string() + "/");
  EXPECT_TRUE(relative.errors.empty()) << relative.errors[0].to_string();

  auto errors_of = [&](const std::string& target) {
    std::string all;
    for (const auto& e : config::load_config_text(config_with(target), none, dir.path() + "/").errors) all += e.to_string() + "\n";
    return all;
  };
  EXPECT_NE(errors_of("manifests: k8s, deployments: { api: api }").find("either applies manifests or sets images"), std::string::npos);
  EXPECT_NE(errors_of("manifests: nowhere").find("is not a directory"), std::string::npos);
  EXPECT_NE(errors_of("deployments: { api: api }, prune: true").find("prune: applies to manifests only"), std::string::npos);
  dir.write("k8s/b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: {nope} }\n");
  EXPECT_NE(errors_of("manifests: k8s").find("manifests/b.yaml: unknown placeholder {nope}"), std::string::npos) << errors_of("manifests: k8s");

  dir.write("k8s/b.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: { name: w }\n");
  loaded = config::load_config_text(config_with("manifests: k8s"), none, dir.path() + "/");
  ASSERT_TRUE(loaded.errors.empty());
  const auto refused = check_manifest_sets(*loaded.config);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].path, "projects.web.environments.production.targets[0].manifests");
  EXPECT_EQ(refused[0].message.rfind("b.yaml#1: kind Widget", 0), 0u) << refused[0].message;
}

TEST(ManifestSet, ADeploymentsJobIsNamedAndLabelledForItAndMustBeOneJob) {
  const config::ManifestFile file{"migrate.yaml", "apiVersion: batch/v1\nkind: Job\nmetadata: { name: " + std::string(70, 'm') +
                                                      " }\nspec: { template: { spec: { containers: [ { name: m, image: {image.api} } ] } } }\n"};
  const auto set = render_job(file, {{"image.api", "ghcr.io/acme/api:1.2"}}, "web", "shop", "production", 1234);
  ASSERT_TRUE(set.error.empty()) << set.error;
  const auto& job = set.objects[0];
  EXPECT_EQ(job.name, std::string(58, 'm') + "-1234");
  EXPECT_EQ(job.body["metadata"]["name"], job.name);
  EXPECT_EQ(job.body["metadata"]["labels"]["shipgate.dev/deployment"], "1234");
  EXPECT_EQ(job.body["metadata"]["labels"]["shipgate.dev/set"], "shop.production.before");
  EXPECT_EQ(job.path(), "/apis/batch/v1/namespaces/web/jobs/" + job.name);
  EXPECT_EQ(render_job(file, {{"image.api", "x"}}, "web", "shop", "production", 1234).digest,
            render_job(file, {{"image.api", "x"}}, "web", "shop", "production", 1234).digest);
  const config::ManifestFile two{"two.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n"};
  EXPECT_EQ(render_job(two, {}, "web", "shop", "production", 1).error, "two.yaml: must hold exactly one Job (batch/v1)");
}

TEST(RolloutRules, AJobEndsByItsConditions) {
  struct Case {
    const char* job;
    JobState want;
    const char* why;
  };
  const Case cases[] = {
      {R"({"status":{"active":1}})", JobState::running, "1 pod(s) running, 0 failed"},
      {R"({"status":{"conditions":[{"type":"Complete","status":"True"}]}})", JobState::complete, "complete"},
      {R"({"status":{"conditions":[{"type":"Complete","status":"False"}],"failed":1,"active":1}})", JobState::running, "1 pod(s) running, 1 failed"},
      {R"({"status":{"conditions":[{"type":"Failed","status":"True","reason":"DeadlineExceeded","message":"Job was active longer than specified deadline"}]}})",
       JobState::failed, "DeadlineExceeded: Job was active longer than specified deadline"},
      {R"({"status":{"conditions":"x"}})", JobState::running, "0 pod(s) running, 0 failed"},
      {R"([1,2])", JobState::running, "0 pod(s) running, 0 failed"},
  };
  for (const auto& c : cases) {
    std::string why;
    EXPECT_EQ(job_state(json::parse(c.job), why), c.want) << c.job;
    EXPECT_EQ(why, c.why) << c.job;
  }
}

TEST(ManifestSet, BeforeStepsAreJobsOrCommandsAndAJobTakesTheEnvironmentsCluster) {
  shipgate::testing::TempDir dir;
  dir.write("migrate.yaml", "apiVersion: batch/v1\nkind: Job\nmetadata: { name: migrate }\nspec: { template: { spec: { containers: [] } } }\n");
  auto config_with = [&](const std::string& env) {
    return "store: sqlite:/tmp/x.db\ngithub: { secrets: [s] }\nprojects:\n  web:\n    repository: acme/web\n"
           "    components: { api: { image: ghcr.io/acme/api } }\n    environments:\n      production:\n" + env;
  };
  const auto none = [](const std::string&) { return std::optional<std::string>(); };
  const std::string kube_target = "        targets: [ { type: kubernetes, namespace: web, kubeconfig: /k/config, deployments: { api: api } } ]\n";
  auto loaded = config::load_config_text(
      config_with(kube_target + "        before: [ { type: job, file: migrate.yaml, timeout: 5m }, { type: command, argv: [/bin/true] } ]\n"),
      none, dir.path() + "/");
  ASSERT_TRUE(loaded.errors.empty()) << loaded.errors[0].to_string();
  const auto& before = loaded.config->projects[0].environments[0].before;
  ASSERT_EQ(before.size(), 2u);
  const auto& job = std::get<config::JobTargetConfig>(before[0].spec);
  EXPECT_EQ(job.cluster.namespace_, "web");
  EXPECT_EQ(job.cluster.kubeconfig, "/k/config");
  EXPECT_TRUE(job.cluster.workloads.empty());
  EXPECT_EQ(job.timeout, std::chrono::minutes(5));
  EXPECT_EQ(job.manifest.name, "migrate.yaml");
  EXPECT_EQ(before[1].type, "command");

  auto errors_of = [&](const std::string& env) {
    std::string all;
    for (const auto& e : config::load_config_text(config_with(env), none, dir.path() + "/").errors) all += e.to_string() + "\n";
    return all;
  };
  const std::string command_target = "        targets: [ { type: command, argv: [/bin/true] } ]\n";
  EXPECT_NE(errors_of(command_target + "        before: [ { type: job, file: migrate.yaml } ]\n")
                .find("before[0].namespace: is required: the environment has no Kubernetes target"),
            std::string::npos);
  EXPECT_NE(errors_of(command_target + "        before: [ { type: http, url: \"http://x\" } ]\n").find("a before step is a job or a command"),
            std::string::npos);
  EXPECT_NE(errors_of(kube_target + "        before: [ { type: job, file: gone.yaml } ]\n").find("before[0].file: cannot read"),
            std::string::npos);
}
