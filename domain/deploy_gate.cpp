#include "domain/deploy_gate.hpp"

#include <date/date.h>
#include <date/tz.h>

#include "common/time_format.hpp"

namespace shipgate::orchestration {

namespace {

using namespace std::chrono;

constexpr const char* kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

std::string describe(const config::DeployWindow& w) {
  std::string days;
  for (int d : w.days) days += (days.empty() ? "" : ",") + std::string(kDayNames[d]);
  char buf[64];
  std::snprintf(buf, sizeof buf, " %02d:%02d-%02d:%02d ", w.from_minute / 60, w.from_minute % 60, w.to_minute / 60,
                w.to_minute % 60);
  return days + buf + w.timezone;
}

bool inside(const config::DeployWindow& w, const date::time_zone* zone, TimePoint now) {
  const auto local = zone->to_local(now);
  const auto day = date::floor<date::days>(local);
  const int minute = static_cast<int>(duration_cast<minutes>(local - day).count());
  const int wd = static_cast<int>(date::weekday(day).c_encoding());
  if (w.from_minute < w.to_minute) return w.days.count(wd) && minute >= w.from_minute && minute < w.to_minute;
  // Past midnight: the evening of a listed day, or the early morning after one.
  return (w.days.count(wd) && minute >= w.from_minute) || (w.days.count((wd + 6) % 7) && minute < w.to_minute);
}

// The first start of this window strictly after `now`. Local start times that do not exist (a DST gap)
// map to the moment the clocks jump; ambiguous ones (DST end) to the earlier instant.
std::optional<TimePoint> next_start(const config::DeployWindow& w, const date::time_zone* zone, TimePoint now) {
  const auto today = date::floor<date::days>(zone->to_local(now));
  for (int k = 0; k <= 8; ++k) {
    const auto day = today + date::days(k);
    if (!w.days.count(static_cast<int>(date::weekday(day).c_encoding()))) continue;
    const auto local_start = date::local_time<minutes>(day) + minutes(w.from_minute);
    const auto start = zone->to_sys(local_start, date::choose::earliest);
    if (start > now) return time_point_cast<TimePoint::duration>(start);
  }
  return std::nullopt;
}

}  // namespace

GateStatus deploy_gate(const config::Environment& env, TimePoint now) {
  const auto now_ms = epoch_ms(now);
  for (const auto& f : env.freezes)
    if (now_ms >= f.from_ms && now_ms < f.to_ms)
      return {false, "deploy freeze until " + format_rfc3339_ms(f.to_ms) + (f.reason.empty() ? "" : ": " + f.reason),
              from_epoch_ms(f.to_ms)};
  if (env.windows.empty()) return {};
  std::optional<TimePoint> opens;
  std::string windows;
  for (const auto& w : env.windows) {
    const auto* zone = date::locate_zone(w.timezone);  // validated at config load
    if (inside(w, zone, now)) return {};
    if (auto s = next_start(w, zone, now); s && (!opens || *s < *opens)) opens = s;
    windows += (windows.empty() ? "" : "; ") + describe(w);
  }
  std::string reason = "outside deploy window (" + windows + ")";
  if (opens) reason += "; opens " + format_rfc3339_ms(epoch_ms(*opens));
  return {false, reason, opens};
}

}  // namespace shipgate::orchestration
