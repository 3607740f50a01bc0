#include "config/cron.hpp"

#include <gtest/gtest.h>

#include <date/date.h>

#include "config/time_zone.hpp"

using namespace shipgate;
using namespace shipgate::config;

namespace {

TimePoint at(const std::string& rfc3339) {
  const auto ms = parse_rfc3339(rfc3339);
  EXPECT_TRUE(ms) << rfc3339;
  return TimePoint(Millis(ms.value_or(0)));
}

std::string text(std::optional<TimePoint> t) {
  if (!t) return "none";
  return date::format("%FT%RZ", date::floor<std::chrono::minutes>(*t));
}

CronSpec spec(const std::string& expr) {
  std::string why;
  auto s = parse_cron(expr, why);
  EXPECT_TRUE(s) << expr << ": " << why;
  return s.value_or(CronSpec{});
}

}  // namespace

TEST(Cron, RefusesWhatCrontabRefusesAndSaysWhy) {
  const struct {
    const char* expr;
    const char* why;
  } cases[] = {
      {"", "five fields"},
      {"* * * *", "five fields"},
      {"* * * * * *", "five fields"},
      {"60 * * * *", "field 1 (minute): 60 is out of range 0-59"},
      {"* 24 * * *", "field 2 (hour): 24 is out of range 0-23"},
      {"* * 0 * *", "field 3 (day of month): 0 is out of range 1-31"},
      {"* * * 13 *", "field 4 (month): 13 is out of range 1-12"},
      {"* * * * 8", "field 5 (day of week): 8 is out of range 0-7"},
      {"5-1 * * * *", "range 5-1 goes backwards"},
      {"*/0 * * * *", "step '0'"},
      {"*/x * * * *", "step 'x'"},
      {"a * * * *", "'a' is not a number"},
      {"1,,2 * * * *", "'' is not a number"},
      {"* * * foo *", "'foo' is not a number"},
      {"-1 * * * *", "'' is not a number"},
  };
  for (const auto& c : cases) {
    std::string why;
    EXPECT_FALSE(parse_cron(c.expr, why)) << c.expr;
    EXPECT_NE(why.find(c.why), std::string::npos) << c.expr << ": " << why;
  }
}

TEST(Cron, ReadsListsRangesStepsAndNames) {
  auto s = spec("0,30 9-17/4 * jan-MAR mon-fri");
  EXPECT_TRUE(s.minutes[0] && s.minutes[30] && !s.minutes[15]);
  EXPECT_TRUE(s.hours[9] && s.hours[13] && s.hours[17] && !s.hours[10] && !s.hours[8]);
  EXPECT_TRUE(s.months[1] && s.months[3] && !s.months[4]);
  EXPECT_TRUE(s.weekdays[1] && s.weekdays[5] && !s.weekdays[0] && !s.weekdays[6]);
  EXPECT_TRUE(s.any_day);
  EXPECT_FALSE(s.any_weekday);
  EXPECT_TRUE(spec("0 0 * * 7").weekdays[0]) << "7 is Sunday";
  EXPECT_EQ(spec("5/20 * * * *").minutes.count(), 3u) << "5, 25, 45";
  EXPECT_EQ(spec("  */15   *  * * * ").minutes.count(), 4u) << "spaces between fields";
}

TEST(Cron, NextAndPreviousFireInUtc) {
  const struct {
    const char* expr;
    const char* from;
    const char* next;
    const char* previous;
  } cases[] = {
      {"0 9 * * *", "2026-03-02T08:59:59Z", "2026-03-02T09:00Z", "2026-03-01T09:00Z"},
      {"0 9 * * *", "2026-03-02T09:00:00Z", "2026-03-03T09:00Z", "2026-03-02T09:00Z"},
      {"*/15 * * * *", "2026-03-02T10:07:00Z", "2026-03-02T10:15Z", "2026-03-02T10:00Z"},
      {"0 0 1 * *", "2026-01-31T12:00:00Z", "2026-02-01T00:00Z", "2026-01-01T00:00Z"},
      {"0 12 * * mon", "2026-03-04T00:00:00Z", "2026-03-09T12:00Z", "2026-03-02T12:00Z"},  // Wed -> Mon
      // Both day fields restricted: the 13th or any Friday.
      {"0 0 13 * fri", "2026-03-07T00:00:00Z", "2026-03-13T00:00Z", "2026-03-06T00:00Z"},
      {"0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00Z", "2024-02-29T00:00Z"},  // leap days
      {"0 0 30 2 *", "2026-03-01T00:00:00Z", "none", "none"},                             // never
      {"59 23 31 12 *", "2026-12-31T23:59:00Z", "2027-12-31T23:59Z", "2026-12-31T23:59Z"},
  };
  for (const auto& c : cases) {
    const auto s = spec(c.expr);
    EXPECT_EQ(text(next_fire(s, "UTC", at(c.from))), c.next) << c.expr << " after " << c.from;
    EXPECT_EQ(text(previous_fire(s, "UTC", at(c.from))), c.previous) << c.expr << " at " << c.from;
  }
}

TEST(Cron, LocalTimeAcrossDaylightSavingChanges) {
  // Europe/Berlin: 2026-03-29 02:00 -> 03:00 (no 02:30 that day); 2026-10-25 03:00 -> 02:00 (02:30 twice).
  const auto daily_0230 = spec("30 2 * * *");
  EXPECT_EQ(text(next_fire(daily_0230, "Europe/Berlin", at("2026-03-28T02:00:00Z"))), "2026-03-30T00:30Z")
      << "the skipped local time does not fire that day";
  EXPECT_EQ(text(next_fire(daily_0230, "Europe/Berlin", at("2026-10-24T02:00:00Z"))), "2026-10-25T00:30Z")
      << "the repeated local time fires at its first occurrence";
  EXPECT_EQ(text(next_fire(daily_0230, "Europe/Berlin", at("2026-10-25T00:30:00Z"))), "2026-10-26T01:30Z")
      << "and not again at its second";
  EXPECT_EQ(text(previous_fire(daily_0230, "Europe/Berlin", at("2026-10-25T01:45:00Z"))), "2026-10-25T00:30Z");
  const auto nine = spec("0 9 * * *");
  EXPECT_EQ(text(next_fire(nine, "Europe/Berlin", at("2026-03-28T09:00:00Z"))), "2026-03-29T07:00Z")
      << "09:00 local is 08:00Z in winter and 07:00Z in summer";
  EXPECT_EQ(text(next_fire(nine, "America/New_York", at("2026-07-01T00:00:00Z"))), "2026-07-01T13:00Z");
}
