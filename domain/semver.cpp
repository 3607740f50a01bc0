#include "domain/semver.hpp"

#include <cctype>

#include "common/text.hpp"

namespace shipgate::orchestration {

namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// A numeric part: digits, no leading zero (but "0" itself), small enough to hold.
std::optional<std::uint64_t> number(std::string_view s) {
  if (!all_digits(s) || (s.size() > 1 && s[0] == '0') || s.size() > 18) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : s) n = n * 10 + static_cast<std::uint64_t>(c - '0');
  return n;
}

bool identifier(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  return !(all_digits(s) && s.size() > 1 && s[0] == '0');
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (std::size_t start = 0;;) {
    const auto end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

}  // namespace

std::optional<SemVer> parse_semver(std::string_view text) {
  if (!text.empty() && (text[0] == 'v' || text[0] == 'V')) text.remove_prefix(1);
  if (const auto plus = text.find('+'); plus != std::string_view::npos) {
    for (auto part : split(text.substr(plus + 1), '.'))
      if (part.empty()) return std::nullopt;
    text = text.substr(0, plus);
  }
  SemVer v;
  if (const auto dash = text.find('-'); dash != std::string_view::npos) {
    for (auto part : split(text.substr(dash + 1), '.')) {
      if (!identifier(part)) return std::nullopt;
      v.prerelease.emplace_back(part);
    }
    text = text.substr(0, dash);
  }
  const auto core = split(text, '.');
  if (core.size() != 3) return std::nullopt;
  const auto major = number(core[0]), minor = number(core[1]), patch = number(core[2]);
  if (!major || !minor || !patch) return std::nullopt;
  v.major = *major;
  v.minor = *minor;
  v.patch = *patch;
  return v;
}

int compare(const SemVer& a, const SemVer& b) {
  for (auto [x, y] : {std::pair{a.major, b.major}, {a.minor, b.minor}, {a.patch, b.patch}})
    if (x != y) return x < y ? -1 : 1;
  if (a.prerelease.empty() || b.prerelease.empty())
    return a.prerelease.empty() == b.prerelease.empty() ? 0 : (a.prerelease.empty() ? 1 : -1);
  for (std::size_t i = 0; i < a.prerelease.size() && i < b.prerelease.size(); ++i) {
    const auto& x = a.prerelease[i];
    const auto& y = b.prerelease[i];
    const bool xn = all_digits(x), yn = all_digits(y);
    if (xn && yn) {
      if (x.size() != y.size()) return x.size() < y.size() ? -1 : 1;  // no leading zeros: longer is larger
      if (x != y) return x < y ? -1 : 1;
    } else if (xn != yn) {
      return xn ? -1 : 1;
    } else if (x != y) {
      return x < y ? -1 : 1;
    }
  }
  if (a.prerelease.size() == b.prerelease.size()) return 0;
  return a.prerelease.size() < b.prerelease.size() ? -1 : 1;
}

std::optional<std::string> newest_watched_tag(const std::vector<std::string>& tags, const config::RegistryWatch& watch,
                                              std::string_view running) {
  std::optional<std::pair<SemVer, std::string>> best;
  for (const auto& tag : tags) {
    if (!watch.tags.empty() && !glob_match(watch.tags, tag)) continue;
    // A prefix such as "release-" is the glob's business: the version starts at the first digit.
    const auto digit = tag.find_first_of("0123456789");
    const auto v = digit == std::string::npos ? std::nullopt : parse_semver(std::string_view(tag).substr(digit));
    if (!v || !v->prerelease.empty()) continue;
    if (watch.semver && !watch.semver->contains({v->major, v->minor, v->patch})) continue;
    if (!best || compare(*v, best->first) > 0) best = std::make_pair(*v, tag);
  }
  if (!best) return std::nullopt;
  const auto digit = running.find_first_of("0123456789");
  const auto now = digit == std::string_view::npos ? std::nullopt : parse_semver(running.substr(digit));
  if (now && compare(best->first, *now) <= 0) return std::nullopt;
  return best->second;
}

}  // namespace shipgate::orchestration
