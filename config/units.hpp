// Parsing of human-written durations ("72h", "1h30m", "500ms") and sizes ("25MiB", "1MB", "4096").
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace shipgate::config {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view s);
std::optional<std::uint64_t> parse_size(std::string_view s);

}  // namespace shipgate::config
