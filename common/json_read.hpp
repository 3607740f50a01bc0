// Reading JSON that came from outside (Dokploy, Kubernetes, registries, Prometheus, GitHub, Slack).
// Every accessor answers for any shape: a member that is missing or of another type reads as absent
// (the fallback), never as an exception, so an unexpected answer becomes "no usable answer" with a
// message where it is read instead of ending whatever task was reading it.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace shipgate::json_read {

using nlohmann::json;

// The body as JSON; a discarded value (is_discarded()) when it is not JSON.
json parse(std::string_view body);
// The member `key` of `j`; null when `j` is not an object or has no such member.
const json* member(const json& j, std::string_view key);
// Members one inside the other ("spec", "template", "spec"); null when any step is missing.
const json* path(const json& j, std::initializer_list<std::string_view> keys);
// A string member, or `fallback`.
std::string text(const json& j, std::string_view key, std::string_view fallback = {});
std::optional<std::string> text_if(const json& j, std::string_view key);
// An integer member (a number without a fraction), or `fallback`.
std::int64_t integer(const json& j, std::string_view key, std::int64_t fallback = 0);
// A boolean member, or `fallback`.
bool flag(const json& j, std::string_view key, bool fallback);
// The member when it is an object (an array), else an empty one that lives for the whole program.
const json& object(const json& j, std::string_view key);
const json& array(const json& j, std::string_view key);
// A member of any type, passed on unchanged; `fallback` when missing.
json any(const json& j, std::string_view key, json fallback = nullptr);

}  // namespace shipgate::json_read
