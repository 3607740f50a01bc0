// RFC 3339 timestamps (UTC, millisecond precision) for the API and logs.
#pragma once
#include <cstdint>
#include <string>

namespace shipgate {

// 1700000000123 -> "2023-11-14T22:13:20.123Z"; 0 -> "" (not set).
std::string format_rfc3339_ms(std::int64_t epoch_ms);

}  // namespace shipgate
