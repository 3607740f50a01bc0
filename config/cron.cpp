#include "config/cron.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <array>
#include <charconv>
#include <vector>

namespace shipgate::config {

namespace {

struct Field {
  const char* name;
  int low;
  int high;
  std::array<const char*, 12> names;  // index + low is the value; empty when the field has none
};

constexpr Field kFields[] = {
    {"minute", 0, 59, {}},
    {"hour", 0, 23, {}},
    {"day of month", 1, 31, {}},
    {"month", 1, 12, {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
    {"day of week", 0, 7, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
};

std::vector<std::string_view> split(std::string_view s, char by) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto at = s.find(by);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

// A number or (for months and weekdays) a name, within the field's range.
std::optional<int> value_of(std::string_view text, const Field& f, std::string& why) {
  for (std::size_t i = 0; i < f.names.size() && f.names[i]; ++i) {
    const std::string_view name = f.names[i];
    if (text.size() == name.size() &&
        std::equal(text.begin(), text.end(), name.begin(), [](char a, char b) { return (a | 0x20) == b; }))
      return f.low + static_cast<int>(i);
  }
  int v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    why = "'" + std::string(text) + "' is not a number";
    return std::nullopt;
  }
  if (v < f.low || v > f.high) {
    why = std::to_string(v) + " is out of range " + std::to_string(f.low) + "-" + std::to_string(f.high);
    return std::nullopt;
  }
  return v;
}

// The values one field names, as bits from the field's low value; false with `why` when malformed.
bool parse_field(std::string_view text, const Field& f, std::vector<bool>& bits, std::string& why) {
  bits.assign(static_cast<std::size_t>(f.high + 1), false);
  for (auto item : split(text, ',')) {
    int step = 1;
    if (const auto slash = item.find('/'); slash != std::string_view::npos) {
      const auto step_text = item.substr(slash + 1);
      const auto [end, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
      if (step_text.empty() || ec != std::errc() || end != step_text.data() + step_text.size() || step < 1 ||
          step > f.high) {
        why = "step '" + std::string(step_text) + "' is not a number from 1 to " + std::to_string(f.high);
        return false;
      }
      item = item.substr(0, slash);
    }
    int from = f.low, to = f.high;
    if (item != "*") {
      const auto dash = item.find('-');
      const auto first = value_of(item.substr(0, dash), f, why);
      if (!first) return false;
      from = to = *first;
      if (dash != std::string_view::npos) {
        const auto last = value_of(item.substr(dash + 1), f, why);
        if (!last) return false;
        to = *last;
        if (to < from) {
          why = "range " + std::string(item) + " goes backwards";
          return false;
        }
      } else if (step > 1) {
        to = f.high;  // `a/n`: from a to the end, every n
      }
    }
    for (int v = from; v <= to; v += step) bits[static_cast<std::size_t>(v)] = true;
  }
  return true;
}

template <std::size_t N>
void copy_bits(const std::vector<bool>& from, std::bitset<N>& to) {
  for (std::size_t i = 0; i < N && i < from.size(); ++i) to[i] = from[i];
}

bool day_matches(const CronSpec& s, date::year_month_day ymd, date::weekday wd) {
  if (!s.months[static_cast<unsigned>(ymd.month())]) return false;
  const bool by_day = s.days[static_cast<unsigned>(ymd.day())];
  const bool by_weekday = s.weekdays[wd.c_encoding()];
  if (s.any_day && s.any_weekday) return true;
  if (s.any_day) return by_weekday;
  if (s.any_weekday) return by_day;
  return by_day || by_weekday;  // both restricted: either (crontab's rule)
}

constexpr int kSearchDays = 5 * 366;

// The instant a local minute names in `zone`, or nullopt when it does not exist there (a DST gap).
std::optional<TimePoint> instant(const date::time_zone* zone, date::local_time<std::chrono::minutes> local) {
  const auto info = zone->get_info(local);
  if (info.result == date::local_info::nonexistent) return std::nullopt;
  const auto sys = zone->to_sys(local, date::choose::earliest);
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(sys.time_since_epoch()));
}

}  // namespace

std::optional<CronSpec> parse_cron(std::string_view text, std::string& why) {
  std::vector<std::string_view> fields;
  for (auto part : split(text, ' '))
    if (!part.empty()) fields.push_back(part);
  if (fields.size() != 5) {
    why = "a cron expression has five fields (minute hour day-of-month month day-of-week), not " +
          std::to_string(fields.size());
    return std::nullopt;
  }
  CronSpec spec;
  std::vector<bool> bits;
  for (std::size_t i = 0; i < 5; ++i) {
    std::string field_why;
    if (!parse_field(fields[i], kFields[i], bits, field_why)) {
      why = "field " + std::to_string(i + 1) + " (" + kFields[i].name + "): " + field_why;
      return std::nullopt;
    }
    switch (i) {
      case 0: copy_bits(bits, spec.minutes); break;
      case 1: copy_bits(bits, spec.hours); break;
      case 2: copy_bits(bits, spec.days); break;
      case 3: copy_bits(bits, spec.months); break;
      default:
        if (bits[7]) bits[0] = true;  // 7 is Sunday too
        copy_bits(bits, spec.weekdays);
    }
  }
  spec.any_day = fields[2].front() == '*';
  spec.any_weekday = fields[4].front() == '*';
  return spec;
}

std::optional<TimePoint> next_fire(const CronSpec& spec, const std::string& zone_name, TimePoint after) {
  const auto* zone = date::locate_zone(zone_name);
  using std::chrono::minutes;
  const auto start = date::floor<minutes>(zone->to_local(after)) + minutes(1);
  const auto first_day = date::floor<date::days>(start);
  for (int k = 0; k < kSearchDays; ++k) {
    const auto day = first_day + date::days(k);
    if (!day_matches(spec, date::year_month_day(day), date::weekday(day))) continue;
    for (int h = 0; h < 24; ++h) {
      if (!spec.hours[static_cast<std::size_t>(h)]) continue;
      for (int m = 0; m < 60; ++m) {
        if (!spec.minutes[static_cast<std::size_t>(m)]) continue;
        const auto local = date::local_time<minutes>(day) + std::chrono::hours(h) + minutes(m);
        if (local < start) continue;
        const auto at = instant(zone, local);
        if (at && *at > after) return at;
      }
    }
  }
  return std::nullopt;
}

std::optional<TimePoint> previous_fire(const CronSpec& spec, const std::string& zone_name, TimePoint at) {
  const auto* zone = date::locate_zone(zone_name);
  using std::chrono::minutes;
  const auto end = date::floor<minutes>(zone->to_local(at));
  const auto last_day = date::floor<date::days>(end);
  for (int k = 0; k < kSearchDays; ++k) {
    const auto day = last_day - date::days(k);
    if (!day_matches(spec, date::year_month_day(day), date::weekday(day))) continue;
    for (int h = 23; h >= 0; --h) {
      if (!spec.hours[static_cast<std::size_t>(h)]) continue;
      for (int m = 59; m >= 0; --m) {
        if (!spec.minutes[static_cast<std::size_t>(m)]) continue;
        const auto local = date::local_time<minutes>(day) + std::chrono::hours(h) + minutes(m);
        if (local > end) continue;
        const auto fired = instant(zone, local);
        if (fired && *fired <= at) return fired;
      }
    }
  }
  return std::nullopt;
}

}  // namespace shipgate::config
