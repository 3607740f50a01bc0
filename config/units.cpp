#include "config/units.hpp"

#include <cctype>
#include <limits>

namespace shipgate::config {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
    std::int64_t n = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      n = n * 10 + (s[i++] - '0');
      if (n > 1'000'000'000) return std::nullopt;
    }
    std::size_t j = i;
    while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j]))) ++j;
    const std::string_view unit = s.substr(i, j - i);
    std::int64_t ms;
    if (unit == "ms") ms = 1;
    else if (unit == "s") ms = 1000;
    else if (unit == "m") ms = 60'000;
    else if (unit == "h") ms = 3'600'000;
    else if (unit == "d") ms = 86'400'000;
    else return std::nullopt;
    total += n * ms;
    i = j;
  }
  return std::chrono::milliseconds(total);
}

std::optional<std::uint64_t> parse_size(std::string_view s) {
  std::size_t i = 0;
  std::uint64_t n = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    n = n * 10 + static_cast<std::uint64_t>(s[i++] - '0');
    if (n > (std::uint64_t{1} << 40)) return std::nullopt;
  }
  if (i == 0) return std::nullopt;
  const std::string_view unit = s.substr(i);
  std::uint64_t mult;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "KiB") mult = 1ull << 10;
  else if (unit == "MiB") mult = 1ull << 20;
  else if (unit == "GiB") mult = 1ull << 30;
  else if (unit == "KB" || unit == "kB") mult = 1000;
  else if (unit == "MB") mult = 1000 * 1000;
  else if (unit == "GB") mult = 1000ull * 1000 * 1000;
  else return std::nullopt;
  return n * mult;
}

std::string format_duration(std::chrono::milliseconds d) {
  std::int64_t left = d.count();
  if (left <= 0) return "0s";
  std::string out;
  for (const auto& [unit, ms] : {std::pair<const char*, std::int64_t>{"d", 86'400'000}, {"h", 3'600'000},
                                 {"m", 60'000}, {"s", 1000}, {"ms", 1}}) {
    if (left < ms) continue;
    out += std::to_string(left / ms) + unit;
    left %= ms;
  }
  return out;
}

}  // namespace shipgate::config
