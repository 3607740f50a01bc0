// What a version, a Git ref, a commit SHA and an image reference may look like when they come from a
// webhook or a request body. They end up in URLs, headers, argv, image names and log lines, so they
// are checked here, before anything is created. Pure functions; each returns why a value is refused,
// or nothing when it is acceptable.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace shipgate::orchestration {

constexpr std::size_t kMaxVersionLength = 128;
constexpr std::size_t kMaxRefLength = 255;

// A version or tag name: a Git ref name (git check-ref-format) of at most 128 characters: no control
// characters, whitespace, or any of ~ ^ : ? * [ \ ; no "..", "@{", "//"; not starting with '-' or '.',
// not ending with '.', '/' or ".lock"; no component starting with '.'.
std::optional<std::string> check_version(std::string_view version);

// A full ref ("refs/heads/main", "refs/tags/v1.2.0"): "refs/" and then a version-like name, at most 255.
std::optional<std::string> check_ref(std::string_view ref);

// A commit SHA: exactly 40 hexadecimal digits.
std::optional<std::string> check_sha(std::string_view sha);

// An image tag as registries accept it: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
std::optional<std::string> check_image_tag(std::string_view tag);

// An image reference sent for `component`: the component's own repository (or one its config allows
// with allow_repositories), then ":tag", "@sha256:<64 hex>", or both.
std::optional<std::string> check_image_override(const config::Component& component, std::string_view reference);

}  // namespace shipgate::orchestration
