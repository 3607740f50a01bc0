// Parsing of human-written durations ("72h", "1h30m", "500ms") and sizes ("25MiB", "1MB", "4096").
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shipgate::config {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view s);
std::optional<std::uint64_t> parse_size(std::string_view s);

// The other way round, largest units first: 600000 ms is "10m", 5400000 ms "1h30m", 1500 ms "1s500ms".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace shipgate::config
