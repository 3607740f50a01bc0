// Schedules in the running daemon: the runner starts with it and the environment's API view shows each
// schedule (when it runs at cron times is proven with a manual clock in schedule_runner_test.cpp).
#include "tests/e2e/e2e_fixture.hpp"

#include <ctime>

using namespace shipgate::testing;

namespace {

// "2026-11-30T21:05:00.000Z" -> milliseconds since the epoch (the API's own format); 0 when not that.
std::int64_t epoch_ms_of(const std::string& t) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &ms) != 7)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms;
}

}  // namespace

TEST_F(E2E, TheEnvironmentViewShowsEachScheduleWithItsNextTimeAndLastRun) {
  auto yaml = e2e_config(dokploy.url());
  const std::string approval = "        approval: { required: 1, reviewers: [alice] }\n";
  ASSERT_NE(yaml.find(approval), std::string::npos);
  yaml.replace(yaml.find(approval), approval.size(),
               approval + "        schedules:\n"
                          "          - { cron: \"* * * * *\", action: verify }\n"
                          "          - { cron: \"0 4 * * sun\", timezone: Europe/Berlin, action: redeploy }\n");
  start_with(yaml);
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  nlohmann::json schedules;
  // The runner's first tick records where each schedule starts counting from.
  ASSERT_TRUE(wait_until([&] {
    schedules = daemon->get("/api/v1/projects/planera/environments/production", kAliceToken).json()["schedules"];
    return schedules.size() == 2 && !schedules[0]["last"].is_null() && !schedules[1]["last"].is_null();
  })) << schedules.dump();
  EXPECT_EQ(schedules[0]["cron"], "* * * * *");
  EXPECT_EQ(schedules[0]["timezone"], "UTC");
  EXPECT_EQ(schedules[0]["action"], "verify");
  EXPECT_EQ(schedules[0]["last"]["outcome"], "skipped");
  const auto next = epoch_ms_of(schedules[0]["next"].get<std::string>());
  EXPECT_GT(next, now_ms - 1000) << schedules[0]["next"];
  EXPECT_LE(next, now_ms + 61'000) << "every minute";
  EXPECT_EQ(schedules[1]["action"], "redeploy");
  EXPECT_EQ(schedules[1]["timezone"], "Europe/Berlin");
  // Environments without schedules say nothing about them.
  EXPECT_FALSE(daemon->get("/api/v1/projects/planera/environments/staging", kAliceToken).json().contains("schedules"));
}
