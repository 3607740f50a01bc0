#include "config/time_zone.hpp"

// date::parse trips GCC 12's -Wmaybe-uninitialized inside the library's own code (a false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <date/date.h>
#include <date/tz.h>

#include <sstream>

namespace shipgate::config {

bool valid_time_zone(const std::string& name) {
  try {
    return date::locate_zone(name) != nullptr;
  } catch (const std::exception&) {
    return false;
  }
}

std::optional<std::int64_t> parse_rfc3339(const std::string& text) {
  for (const char* fmt : {"%FT%TZ", "%FT%T%Ez"}) {
    std::istringstream in(text);
    date::sys_time<std::chrono::milliseconds> tp;
    in >> date::parse(fmt, tp);
    if (!in.fail() && in.peek() == std::char_traits<char>::eof()) return tp.time_since_epoch().count();
  }
  return std::nullopt;
}

}  // namespace shipgate::config
