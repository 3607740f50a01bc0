#include "deploy/rollout_diagnosis.hpp"

#include <gtest/gtest.h>

using namespace shipgate::deploy;
using nlohmann::json;

namespace {

json pod(const std::string& name, json container_statuses, json conditions = json::array()) {
  return {{"metadata", {{"name", name}}},
          {"status", {{"phase", "Running"}, {"containerStatuses", std::move(container_statuses)},
                      {"conditions", std::move(conditions)}}}};
}

json waiting(const std::string& container, const std::string& reason, const std::string& message = "",
             json last_terminated = nullptr) {
  json s = {{"name", container}, {"ready", false}, {"state", {{"waiting", {{"reason", reason}}}}}};
  if (!message.empty()) s["state"]["waiting"]["message"] = message;
  if (!last_terminated.is_null()) s["lastState"] = {{"terminated", last_terminated}};
  return s;
}

json running(const std::string& container) {
  return {{"name", container}, {"ready", true}, {"state", {{"running", {{"startedAt", "2026-12-07T10:00:00Z"}}}}}};
}

json pods(std::initializer_list<json> items) {
  json list = {{"kind", "PodList"}, {"items", json::array()}};
  for (const auto& item : items) list["items"].push_back(item);
  return list;
}

std::string line_of(const json& list, const std::vector<std::string>& log = {},
                    const std::vector<std::string>& warnings = {}) {
  const auto trouble = find_trouble(list);
  return trouble ? trouble_line(*trouble, log, warnings) : "none";
}

}  // namespace

TEST(RolloutDiagnosis, ACrashLoopSaysTheExitCodeAndTheLastLogLineOfThePreviousContainer) {
  const auto list = pods({pod("api-7d9c-x2", json::array({waiting("api", "CrashLoopBackOff", "back-off 40s restarting",
                                                                  {{"reason", "Error"}, {"exitCode", 1}})}))});
  const auto trouble = find_trouble(list);
  ASSERT_TRUE(trouble);
  EXPECT_TRUE(trouble->read_previous_log);
  EXPECT_EQ(trouble->pod, "api-7d9c-x2");
  EXPECT_EQ(line_of(list, {"starting api", "Error: DATABASE_URL is not set"}),
            "api: CrashLoopBackOff, exit 1: Error: DATABASE_URL is not set");
  EXPECT_EQ(line_of(list), "api: CrashLoopBackOff, exit 1: back-off 40s restarting");
}

TEST(RolloutDiagnosis, EachReasonReadsAsOneLine) {
  struct Case {
    const char* what;
    json list;
    const char* line;
  };
  const Case cases[] = {
      {"image pull", pods({pod("web-1", json::array({waiting("web", "ImagePullBackOff", "Back-off pulling image \"r/web:9\"")}))}),
       "web: ImagePullBackOff: Back-off pulling image \"r/web:9\""},
      {"pull error", pods({pod("web-1", json::array({waiting("web", "ErrImagePull", "manifest unknown")}))}),
       "web: ErrImagePull: manifest unknown"},
      {"config", pods({pod("api-1", json::array({waiting("api", "CreateContainerConfigError", "secret \"db\" not found")}))}),
       "api: CreateContainerConfigError: secret \"db\" not found"},
      {"out of memory, now", pods({pod("api-1", json::array({json{{"name", "api"}, {"state", {{"terminated",
                                                                    {{"reason", "OOMKilled"}, {"exitCode", 137}}}}}}}))}),
       "api: OOMKilled, exit 137"},
      {"out of memory, looping", pods({pod("api-1", json::array({waiting("api", "CrashLoopBackOff", "",
                                                                          {{"reason", "OOMKilled"}, {"exitCode", 137}})}))}),
       "api: CrashLoopBackOff, OOMKilled, exit 137"},
      {"unschedulable", pods({json{{"metadata", {{"name", "api-1"}}}, {"status", {{"phase", "Pending"}, {"conditions",
          json::array({{{"type", "PodScheduled"}, {"status", "False"}, {"reason", "Unschedulable"},
                        {"message", "0/3 nodes are available: 3 Insufficient memory."}}})}}}}}),
       "pod api-1: Unschedulable: 0/3 nodes are available: 3 Insufficient memory."},
      {"starting", pods({pod("api-1", json::array({waiting("api", "ContainerCreating"), running("proxy")}))}), "none"},
      {"healthy", pods({pod("api-1", json::array({running("api")}))}), "none"},
  };
  for (const auto& c : cases) EXPECT_EQ(line_of(c.list), c.line) << c.what;
}

TEST(RolloutDiagnosis, AStuckContainerOutranksACrashedOneAndAPendingPod) {
  const auto list = pods({
      json{{"metadata", {{"name", "api-a"}}}, {"status", {{"conditions", json::array({{{"type", "PodScheduled"}, {"status", "False"}}})}}}},
      pod("api-b", json::array({json{{"name", "api"}, {"state", {{"terminated", {{"reason", "Error"}, {"exitCode", 2}}}}}}})),
      pod("api-c", json::array({running("proxy"), waiting("api", "ImagePullBackOff")})),
  });
  const auto trouble = find_trouble(list);
  ASSERT_TRUE(trouble);
  EXPECT_EQ(trouble->pod, "api-c");
  EXPECT_EQ(trouble->reason, "ImagePullBackOff");
}

TEST(RolloutDiagnosis, WithoutLogOrMessageTheFirstWarningEventSaysIt) {
  const json events = {{"items", json::array({
      {{"type", "Normal"}, {"reason", "Pulling"}, {"message", "Pulling image"}},
      {{"type", "Warning"}, {"reason", "Failed"}, {"message", "Failed to pull image: not found"}},
      {{"type", "Warning"}, {"reason", "BackOff"}, {"message", "Back-off pulling image"}},
  })}};
  const auto warnings = warning_events(events);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0], "Failed: Failed to pull image: not found");
  EXPECT_EQ(line_of(pods({pod("web-1", json::array({waiting("web", "ErrImagePull")}))}), {}, warnings),
            "web: ErrImagePull: Failed: Failed to pull image: not found");
  json many = {{"items", json::array()}};
  for (int i = 0; i < 9; ++i) many["items"].push_back({{"type", "Warning"}, {"reason", "R" + std::to_string(i)}, {"message", "m"}});
  const auto kept = warning_events(many, 5);
  ASSERT_EQ(kept.size(), 5u);
  EXPECT_EQ(kept.front(), "R4: m");
  EXPECT_EQ(kept.back(), "R8: m");
}

TEST(RolloutDiagnosis, TheLogTailSkipsBlankLinesKeepsTheLastOnesAndEscapesControlCharacters) {
  std::string log;
  for (int i = 1; i <= 30; ++i) log += "line " + std::to_string(i) + "\n\n";
  const auto tail = last_lines(log, 20);
  ASSERT_EQ(tail.size(), 20u);
  EXPECT_EQ(tail.front(), "line 11");
  EXPECT_EQ(tail.back(), "line 30");
  const auto hostile = last_lines("ok\nfake\x1b[2J line\r\n", 20);
  ASSERT_EQ(hostile.size(), 2u);
  EXPECT_EQ(hostile[1].find('\x1b'), std::string::npos);
  EXPECT_TRUE(last_lines("", 20).empty());
  EXPECT_EQ(last_lines(std::string(5000, 'x'), 20).front().size(), 300u);
}

TEST(RolloutDiagnosis, AnswersOfAnotherShapeAreReadAsNothingWithoutThrowing) {
  const json shapes[] = {
      json(nullptr), json("pods"), json{{"items", "x"}}, json{{"items", json::array({1, "x", nullptr})}},
      json{{"items", json::array({{{"status", {{"containerStatuses", "x"}}}}})}},
      json{{"items", json::array({{{"status", {{"containerStatuses", json::array({{{"state", {{"waiting", 7}}}}})}}}}})}},
  };
  for (const auto& s : shapes) {
    EXPECT_NO_THROW(find_trouble(s)) << s.dump();
    EXPECT_NO_THROW(warning_events(s)) << s.dump();
  }
  // An exit code of another type is read as 0, the reason still said.
  const auto odd = pods({pod("p", json::array({waiting("api", "CrashLoopBackOff", "", {{"exitCode", "one"}})}))});
  EXPECT_EQ(line_of(odd), "api: CrashLoopBackOff, exit 0");
}

TEST(RolloutDiagnosis, DetailsCarryEverythingRead) {
  const auto list = pods({pod("api-1", json::array({waiting("api", "CrashLoopBackOff", "", {{"exitCode", 1}})}))});
  const auto d = trouble_details(*find_trouble(list), {"a", "b"}, {"BackOff: restarting"});
  EXPECT_EQ(d["pod"], "api-1");
  EXPECT_EQ(d["container"], "api");
  EXPECT_EQ(d["exit_code"], 1);
  EXPECT_EQ(d["log"], json::array({"a", "b"}));
  EXPECT_EQ(d["warnings"][0], "BackOff: restarting");
  EXPECT_EQ(d["log_of"], "previous container");
}
