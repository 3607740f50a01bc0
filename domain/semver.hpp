// Semantic versions (semver.org 2.0), as release tags write them: "v1.6.1", "1.7.0-rc.1+build.5".
// Only their order matters here: an automatic trigger never replaces a newer version with an older one.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace shipgate::orchestration {

struct SemVer {
  std::uint64_t major = 0, minor = 0, patch = 0;
  std::vector<std::string> prerelease;  // "rc.1" -> {"rc", "1"}; empty for a release
};

// An optional leading 'v', MAJOR.MINOR.PATCH without leading zeros, then optional -prerelease and
// +build (ignored for order). Nothing for anything else (a SHA, "latest", "2024-11-30").
std::optional<SemVer> parse_semver(std::string_view text);

// Precedence: negative when a < b, 0 when equal, positive when a > b. A pre-release is lower than its
// release; pre-release identifiers compare numerically when both are numbers, else as text, and a
// number is lower than text.
int compare(const SemVer& a, const SemVer& b);

// The tag a registry watch deploys: of `tags`, those that match its glob, read as semantic versions
// (releases only) and lie in its range, the newest; and only when it is newer than `running` (what the
// environment runs, when that is a semantic version). Nothing when no tag qualifies.
std::optional<std::string> newest_watched_tag(const std::vector<std::string>& tags, const config::RegistryWatch& watch,
                                              std::string_view running);

}  // namespace shipgate::orchestration
