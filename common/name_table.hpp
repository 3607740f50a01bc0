// Names for the members of a closed set: one table per enum, read both ways, so a name is written once.
#pragma once
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace shipgate {

template <typename E, std::size_t N>
constexpr std::string_view name_in(const std::pair<E, std::string_view> (&table)[N], E value) {
  for (const auto& [e, name] : table)
    if (e == value) return name;
  return "unknown";
}

template <typename E, std::size_t N>
constexpr std::optional<E> value_in(const std::pair<E, std::string_view> (&table)[N], std::string_view name) {
  for (const auto& [e, n] : table)
    if (n == name) return e;
  return std::nullopt;
}

}  // namespace shipgate
