#include "common/json_read.hpp"

namespace shipgate::json_read {

namespace {

const json& empty_object() {
  static const json value = json::object();
  return value;
}

const json& empty_array() {
  static const json value = json::array();
  return value;
}

}  // namespace

json parse(std::string_view body) { return json::parse(body.begin(), body.end(), nullptr, false); }

const json* member(const json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

const json* path(const json& j, std::initializer_list<std::string_view> keys) {
  const json* at = &j;
  for (const auto key : keys)
    if (!(at = member(*at, key))) return nullptr;
  return at;
}

std::string text(const json& j, std::string_view key, std::string_view fallback) {
  const json* m = member(j, key);
  return m && m->is_string() ? m->get_ref<const std::string&>() : std::string(fallback);
}

std::optional<std::string> text_if(const json& j, std::string_view key) {
  const json* m = member(j, key);
  if (!m || !m->is_string()) return std::nullopt;
  return m->get_ref<const std::string&>();
}

std::int64_t integer(const json& j, std::string_view key, std::int64_t fallback) {
  const json* m = member(j, key);
  if (!m) return fallback;
  if (m->is_number_unsigned()) {
    const auto v = m->get<std::uint64_t>();
    return v > static_cast<std::uint64_t>(INT64_MAX) ? fallback : static_cast<std::int64_t>(v);
  }
  return m->is_number_integer() ? m->get<std::int64_t>() : fallback;
}

bool flag(const json& j, std::string_view key, bool fallback) {
  const json* m = member(j, key);
  return m && m->is_boolean() ? m->get<bool>() : fallback;
}

const json& object(const json& j, std::string_view key) {
  const json* m = member(j, key);
  return m && m->is_object() ? *m : empty_object();
}

const json& array(const json& j, std::string_view key) {
  const json* m = member(j, key);
  return m && m->is_array() ? *m : empty_array();
}

json any(const json& j, std::string_view key, json fallback) {
  const json* m = member(j, key);
  return m ? *m : std::move(fallback);
}

}  // namespace shipgate::json_read
