#include <gtest/gtest.h>

#include "config/loader.hpp"

using namespace shipgate::config;

namespace {

LoadResult with_schedules(const std::string& schedules) {
  return load_config_text("github: { secrets: [s] }\n"
                          "projects:\n  app:\n    repository: acme/app\n"
                          "    environments:\n      production:\n        schedules:\n" +
                              schedules + "        targets: [ { type: command, argv: [/bin/true] } ]\n",
                          [](const std::string&) { return std::optional<std::string>("x"); });
}

std::vector<std::string> errors_of(const std::string& schedules) {
  std::vector<std::string> out;
  for (const auto& e : with_schedules(schedules).errors) out.push_back(e.to_string());
  return out;
}

}  // namespace

TEST(ScheduleConfig, ReadsCronTimeZoneAndAction) {
  const auto r = with_schedules(
      "          - { cron: \"0 9 * * mon-fri\", timezone: Europe/Berlin, action: verify }\n"
      "          - { cron: \"30 4 * * sun\", action: redeploy }\n");
  ASSERT_TRUE(r.errors.empty()) << r.errors.front().to_string();
  const auto& schedules = r.config->projects.at(0).environments.at(0).schedules;
  ASSERT_EQ(schedules.size(), 2u);
  EXPECT_EQ(schedules[0].key(), "0 9 * * mon-fri Europe/Berlin verify");
  EXPECT_TRUE(schedules[0].spec.hours[9]);
  EXPECT_FALSE(schedules[0].spec.weekdays[0]);
  EXPECT_EQ(schedules[1].timezone, "UTC") << "the zone defaults to UTC";
  EXPECT_EQ(schedules[1].action, Schedule::Action::redeploy);
}

TEST(ScheduleConfig, EveryMistakeIsReportedWithItsPath) {
  const struct {
    std::string yaml;
    std::string path;
    std::string says;
  } cases[] = {
      {"          - { cron: \"0 25 * * *\", action: verify }\n", "schedules[0].cron", "25 is out of range 0-23"},
      {"          - { cron: \"0 9 * *\", action: verify }\n", "schedules[0].cron", "five fields"},
      {"          - { action: verify }\n", "schedules[0]", "cron"},
      {"          - { cron: \"0 9 * * *\" }\n", "schedules[0]", "action"},
      {"          - { cron: \"0 9 * * *\", action: restart }\n", "schedules[0].action", "verify"},
      {"          - { cron: \"0 9 * * *\", timezone: Mars/Olympus, action: verify }\n", "schedules[0].timezone",
       "unknown time zone"},
      {"          - { cron: \"0 9 * * *\", action: verify, every: 1d }\n", "schedules[0].every", "unknown key"},
      {"          - { cron: \"0 9 * * *\", action: verify }\n          - { cron: \"0 9 * * *\", action: verify }\n",
       "schedules[1]", "repeats an earlier schedule"},
  };
  for (const auto& c : cases) {
    const auto errors = errors_of(c.yaml);
    ASSERT_EQ(errors.size(), 1u) << c.yaml << (errors.empty() ? "" : errors[0]);
    EXPECT_NE(errors[0].find(c.path), std::string::npos) << errors[0];
    EXPECT_NE(errors[0].find(c.says), std::string::npos) << errors[0];
  }
  EXPECT_EQ(errors_of("          every_day: true\n").size(), 1u) << "a list, not a map";
}

TEST(AnalysisConfig, ReadsTheQueryAndItsLimitsAndRefusesWhatCannotWork) {
  const auto with = [](const std::string& analysis) {
    return load_config_text("github: { secrets: [s] }\n"
                            "projects:\n  app:\n    repository: acme/app\n"
                            "    environments:\n      production:\n        analysis: " +
                                analysis + "\n        targets: [ { type: command, argv: [/bin/true] } ]\n",
                            [](const std::string&) { return std::optional<std::string>("x"); });
  };
  const auto good = with("{ prometheus: \"http://prom:9090\", query: \"sum(rate(e[1m]))\", max: 0.02, for: 5m, interval: 15s }");
  ASSERT_TRUE(good.errors.empty()) << good.errors.front().to_string();
  const auto& a = *good.config->projects.at(0).environments.at(0).analysis;
  EXPECT_EQ(a.max, 0.02);
  EXPECT_EQ(a.watch_for, std::chrono::minutes(5));
  EXPECT_EQ(a.interval, std::chrono::seconds(15));
  const struct {
    std::string analysis;
    std::string says;
  } cases[] = {
      {"{ query: q, max: 0.01 }", "prometheus"},
      {"{ prometheus: \"http://p\", max: 0.01 }", "query"},
      {"{ prometheus: \"http://p\", query: q }", "max"},
      {"{ prometheus: \"http://p\", query: q, max: lots }", "must be a number of at least 0"},
      {"{ prometheus: \"http://p\", query: q, max: -1 }", "must be a number of at least 0"},
      {"{ prometheus: \"http://p\", query: q, max: 0.1, for: 10s, interval: 1m }", "must not be longer than for"},
      {"{ prometheus: \"ftp://p\", query: q, max: 0.1 }", "analysis.prometheus"},
  };
  for (const auto& c : cases) {
    const auto r = with(c.analysis);
    ASSERT_EQ(r.errors.size(), 1u) << c.analysis;
    EXPECT_NE(r.errors[0].to_string().find(c.says), std::string::npos) << r.errors[0].to_string();
  }
}
