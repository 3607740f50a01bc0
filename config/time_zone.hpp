// Time-zone and calendar helpers over Howard Hinnant's date/tz (the OS time-zone database).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace shipgate::config {

bool valid_time_zone(const std::string& name);

// "2026-12-20T00:00:00Z" or with an offset ("+01:00") -> milliseconds since the epoch.
std::optional<std::int64_t> parse_rfc3339(const std::string& text);

}  // namespace shipgate::config
