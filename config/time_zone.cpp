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

namespace {

// YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), checked before date::parse sees it: the library
// accepts looser input (it skips some characters and reads seconds as a floating-point number, which
// may turn out NaN), and a config value must be exactly one instant.
bool rfc3339_shape(const std::string& t) {
  auto digits = [&](std::size_t from, std::size_t n) {
    if (from + n > t.size()) return false;
    for (std::size_t i = from; i < from + n; ++i)
      if (t[i] < '0' || t[i] > '9') return false;
    return true;
  };
  if (!(digits(0, 4) && t.size() > 19 && t[4] == '-' && digits(5, 2) && t[7] == '-' && digits(8, 2) &&
        (t[10] == 'T' || t[10] == 't') && digits(11, 2) && t[13] == ':' && digits(14, 2) && t[16] == ':' &&
        digits(17, 2)))
    return false;
  std::size_t i = 19;
  if (t[i] == '.') {
    const std::size_t start = ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    if (i == start || i - start > 9) return false;
  }
  if (i + 1 == t.size()) return t[i] == 'Z' || t[i] == 'z';
  if (!(i + 6 == t.size() && (t[i] == '+' || t[i] == '-') && digits(i + 1, 2) && t[i + 3] == ':' && digits(i + 4, 2)))
    return false;
  // An offset is at most 23:59 (RFC 3339's time-numoffset): +99:99 is no offset.
  const int hours = (t[i + 1] - '0') * 10 + (t[i + 2] - '0'), minutes = (t[i + 4] - '0') * 10 + (t[i + 5] - '0');
  return hours <= 23 && minutes <= 59;
}

}  // namespace

std::optional<std::int64_t> parse_rfc3339(const std::string& text) {
  if (!rfc3339_shape(text)) return std::nullopt;
  for (const char* fmt : {"%FT%TZ", "%FT%T%Ez"}) {
    std::istringstream in(text);
    date::sys_time<std::chrono::milliseconds> tp;
    in >> date::parse(fmt, tp);
    if (!in.fail() && in.peek() == std::char_traits<char>::eof()) return tp.time_since_epoch().count();
  }
  return std::nullopt;
}

}  // namespace shipgate::config
