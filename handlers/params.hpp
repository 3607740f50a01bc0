// Numbers from paths and query strings (ids, limits, cursors), parsed one way everywhere.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace shipgate::handlers {

// A decimal integer within [min, max], written with digits only (no sign, spaces or leading '+'), or
// nothing: "12" -> 12; "", "-1", " 12", "12x", "1e3" and anything out of range -> nothing.
std::optional<std::int64_t> parse_integer(std::string_view text, std::int64_t min, std::int64_t max);

}  // namespace shipgate::handlers
