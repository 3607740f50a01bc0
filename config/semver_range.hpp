// A range of semantic versions as a watch names it, in the npm spelling teams know: "^1" (1.x.y),
// "^1.4" (at least 1.4.0, below 2), "^0.3" (0.3.x), "~1.4" (1.4.x), "1.4" (the same), "1.4.2" (exactly),
// ">=1.4.0" (at least), "*" (any). Pre-releases are never in a range.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace shipgate::config {

struct SemverRange {
  using Triple = std::array<std::uint64_t, 3>;
  Triple lower{0, 0, 0};            // included
  std::optional<Triple> upper;      // excluded; none: no upper bound

  bool contains(const Triple& version) const { return version >= lower && (!upper || version < *upper); }
};

// Nothing when `text` is not one of the forms above.
std::optional<SemverRange> parse_semver_range(std::string_view text);

}  // namespace shipgate::config
