// GET /api/v1/events against the real daemon: live audit entries as Server-Sent Events, resumed with
// Last-Event-ID after a disconnect without losing one, limited to what the reviewer may view, and ended
// by a drain.
#include <future>

#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/http.hpp"
#include "tests/support/sse_stream.hpp"

namespace shipgate::testing {
namespace {

using nlohmann::json;

bool succeeded(const Event& e, std::int64_t deployment) {
  return e.name == "transition" && e.data.value("deployment", 0) == deployment &&
         e.data["details"].value("to", "") == "succeeded";
}

TEST_F(E2E, EventStreamResumesWithLastEventIdAndMissesNothing) {
  start();
  auto live = std::make_unique<EventStream>(daemon->port(), kAliceToken);
  EXPECT_NE(live->raw().find("200 OK"), std::string::npos) << live->raw();
  EXPECT_NE(live->raw().find("text/event-stream"), std::string::npos);

  auto first = push("refs/heads/main", kSha);
  ASSERT_EQ(first.status, 202) << first.body;
  const auto first_id = first.json()["deployments"][0]["id"].get<std::int64_t>();
  auto seen = live->until([&](const Event& e) { return succeeded(e, first_id); });
  ASSERT_FALSE(seen.empty());
  ASSERT_TRUE(succeeded(seen.back(), first_id)) << live->raw();
  for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_LT(seen[i - 1].id, seen[i].id);
  const auto last_seen = seen.back().id;

  // Gone while a second commit deploys and is promoted.
  live.reset();
  auto second = push("refs/heads/main", kSha2);
  ASSERT_EQ(second.status, 202) << second.body;
  const auto second_id = second.json()["deployments"][0]["id"].get<std::int64_t>();
  ASSERT_TRUE(wait_state(second_id, "succeeded"));

  // Back with the last id it saw: exactly what the audit log holds after it, in order, then live ones.
  EventStream resumed(daemon->port(), kAliceToken, std::to_string(last_seen));
  const auto missed = daemon->get("/api/v1/audit?after=" + std::to_string(last_seen) + "&limit=1000", kAliceToken).json();
  ASSERT_GT(missed["entries"].size(), 2u) << missed.dump();
  const auto newest = missed["entries"].back()["id"].get<std::int64_t>();
  auto replayed = resumed.until([&](const Event& e) { return e.id == newest; });
  ASSERT_EQ(replayed.size(), missed["entries"].size()) << resumed.raw();
  for (std::size_t i = 0; i < replayed.size(); ++i) {
    EXPECT_EQ(replayed[i].id, missed["entries"][i]["id"].get<std::int64_t>());
    EXPECT_EQ(replayed[i].name, missed["entries"][i]["action"].get<std::string>());
  }
  EXPECT_TRUE(std::any_of(replayed.begin(), replayed.end(), [&](const Event& e) { return succeeded(e, second_id); }));

  // And it stays live: a third deployment's transitions arrive on the same connection.
  auto third = push("refs/heads/main", "8334940a49cf04d9e3c399fa0a25a1b2c3d4e5f6");
  ASSERT_EQ(third.status, 202) << third.body;
  const auto third_id = third.json()["deployments"][0]["id"].get<std::int64_t>();
  auto later = resumed.until([&](const Event& e) { return succeeded(e, third_id); });
  EXPECT_TRUE(succeeded(later.back(), third_id)) << resumed.raw();
}

TEST_F(E2E, EventStreamShowsOnlyWhatTheReviewerMayView) {
  start();
  EventStream viewer(daemon->port(), kViewerToken);  // may view project `other` only
  auto planera = push("refs/heads/main", kSha);
  ASSERT_EQ(planera.status, 202);
  const auto planera_id = planera.json()["deployments"][0]["id"].get<std::int64_t>();
  ASSERT_TRUE(wait_state(planera_id, "succeeded"));
  auto other = push("refs/heads/main", kSha2, new_delivery_id(), "acme/other", kOtherSecret);
  ASSERT_EQ(other.status, 202) << other.body;
  const auto other_id = other.json()["deployments"][0]["id"].get<std::int64_t>();
  auto events = viewer.until([&](const Event& e) { return succeeded(e, other_id); });
  ASSERT_FALSE(events.empty());
  for (const auto& e : events) EXPECT_EQ(e.data.value("project", ""), "other") << e.data.dump();

  // One deployment only.
  EventStream one(daemon->port(), kAliceToken, "0", "?deployment=" + std::to_string(planera_id));
  auto only = one.until([&](const Event& e) { return succeeded(e, planera_id); });
  ASSERT_FALSE(only.empty());
  for (const auto& e : only) EXPECT_EQ(e.data.value("deployment", 0), planera_id);
}

TEST_F(E2E, EventStreamRefusesBadInputAndEndsOnDrain) {
  start();
  EXPECT_EQ(daemon->get("/api/v1/events").status, 401);
  EXPECT_EQ(daemon->get("/api/v1/events?deployment=x", kAliceToken).status, 400);
  EXPECT_EQ(daemon->get("/api/v1/events?project=nope", kAliceToken).status, 404);
  EventStream bad(daemon->port(), kAliceToken, "12; DROP");
  EXPECT_NE(bad.raw().find("400 Bad Request"), std::string::npos) << bad.raw();

  EventStream open(daemon->port(), kAliceToken);
  ASSERT_NE(open.raw().find("retry:"), std::string::npos);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(daemon->terminate(), 0) << daemon->log();
  EXPECT_TRUE(open.closed_within(std::chrono::seconds(1)));
  // Not held for the shutdown grace (10 s) by an open stream.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

}  // namespace
}  // namespace shipgate::testing

namespace shipgate::testing {
namespace {

// The CLI on the same stream: `watch ID` follows one deployment until it finishes, `deploy --wait`
// waits for the one it created; both exit 0 only for a success.
TEST_F(E2E, CliWatchAndDeployWaitFollowTheEventStream) {
  start();
  const std::map<std::string, std::string> env = {{"SHIPGATE_URL", "http://127.0.0.1:" + std::to_string(daemon->port())},
                                                  {"SHIPGATE_TOKEN", kAliceToken}};
  auto pushed = push("refs/heads/main", kSha);
  ASSERT_EQ(pushed.status, 202);
  ASSERT_TRUE(wait_until([&] { return deployment_count("production") == 1; }, std::chrono::seconds(20)));
  const auto prod = daemon->get("/api/v1/deployments?environment=production", kAliceToken).json()["deployments"][0]["id"].get<std::int64_t>();

  auto watching = std::async(std::launch::async, [&] {
    return run_command({shipgate_binary(), "watch", std::to_string(prod)}, env);
  });
  // Approved once the watch is on the stream, so it sees the deployment leave pending_approval.
  ASSERT_TRUE(wait_until([&] { return daemon->log().find("GET /api/v1/events") != std::string::npos; }));
  ASSERT_EQ(daemon->post("/api/v1/deployments/" + std::to_string(prod) + "/approve",
                         {{"Authorization", std::string("Bearer ") + kAliceToken}, {"Content-Type", "application/json"}}, "{}").status,
            200);
  const auto watched = watching.get();
  EXPECT_EQ(watched.status, 0) << watched.output;
  EXPECT_NE(watched.output.find("pending_approval"), std::string::npos) << watched.output;
  EXPECT_NE(watched.output.find("running -> succeeded"), std::string::npos) << watched.output;

  auto waited = run_command({shipgate_binary(), "deploy", "planera", "staging", kSha, "--wait"}, env);
  EXPECT_EQ(waited.status, 0) << waited.output;
  EXPECT_NE(waited.output.find("-> succeeded"), std::string::npos) << waited.output;

  auto finished = run_command({shipgate_binary(), "watch", std::to_string(prod)}, env);
  EXPECT_EQ(finished.status, 0) << "already finished: says so at once";
  EXPECT_EQ(run_command({shipgate_binary(), "watch", "999999"}, env).status, 1);
  EXPECT_EQ(run_command({shipgate_binary(), "watch", "abc"}, env).status, 2);
}

}  // namespace
}  // namespace shipgate::testing
