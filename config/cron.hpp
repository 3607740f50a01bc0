// Five-field cron expressions (minute hour day-of-month month day-of-week), read as crontab(5) reads
// them, and the times they name in a time zone. Debian has no C++ cron library; this is small enough
// to keep here, with table tests.
//
// Each field is `*`, a number, a range `a-b`, a step `*/n` or `a-b/n` or `a/n`, or a list of these
// separated by commas. Months and weekdays also take their English three-letter names (jan, mon);
// weekday 7 is Sunday like 0. As in crontab, when both day-of-month and day-of-week are restricted
// (neither starts with `*`), a day matching either one fires.
//
// Times are local to the schedule's zone. A local time that does not exist (the hour skipped when
// clocks go forward) does not fire that day; one that happens twice (clocks go back) fires once, at
// its first occurrence.
#pragma once
#include <bitset>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.hpp"

namespace shipgate::config {

struct CronSpec {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days;      // 1..31
  std::bitset<13> months;    // 1..12
  std::bitset<7> weekdays;   // 0 = Sunday
  bool any_day = true;       // day-of-month was `*`
  bool any_weekday = true;   // day-of-week was `*`
};

// nullopt with `why` ("field 2 (hour): 24 is out of range 0-23") for anything crontab would refuse.
std::optional<CronSpec> parse_cron(std::string_view text, std::string& why);

// The first time strictly after `after` at which the schedule fires in `zone` (an IANA name checked at
// config load); nullopt when none comes within five years (`0 0 30 2 *`).
std::optional<TimePoint> next_fire(const CronSpec& spec, const std::string& zone, TimePoint after);
// The last time at or before `at` at which it fired; nullopt when none within five years.
std::optional<TimePoint> previous_fire(const CronSpec& spec, const std::string& zone, TimePoint at);

}  // namespace shipgate::config
