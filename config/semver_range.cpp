#include "config/semver_range.hpp"

#include <charconv>
#include <vector>

namespace shipgate::config {

namespace {

// "1", "1.4" or "1.4.2": the numbers written (no leading zeros, at most three).
std::optional<std::vector<std::uint64_t>> numbers(std::string_view text) {
  std::vector<std::uint64_t> out;
  while (true) {
    const auto dot = text.find('.');
    const auto part = text.substr(0, dot);
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), n);
    if (part.empty() || ec != std::errc() || end != part.data() + part.size() || (part.size() > 1 && part[0] == '0'))
      return std::nullopt;
    out.push_back(n);
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  if (out.size() > 3) return std::nullopt;
  return out;
}

}  // namespace

std::optional<SemverRange> parse_semver_range(std::string_view text) {
  if (text == "*") return SemverRange{};
  char op = 0;
  if (text.rfind(">=", 0) == 0) {
    op = '>';
    text.remove_prefix(2);
  } else if (!text.empty() && (text[0] == '^' || text[0] == '~')) {
    op = text[0];
    text.remove_prefix(1);
  }
  if (!text.empty() && text[0] == 'v') text.remove_prefix(1);
  const auto n = numbers(text);
  if (!n) return std::nullopt;
  SemverRange r;
  for (std::size_t i = 0; i < n->size(); ++i) r.lower[i] = (*n)[i];
  if (op == '>') return r;
  if (op == 0 && n->size() == 3) {  // exactly this version
    r.upper = SemverRange::Triple{r.lower[0], r.lower[1], r.lower[2] + 1};
    return r;
  }
  // The first number that may not change: for ^ the first non-zero one written, for ~ and a bare
  // version the minor (or the major when only it is written).
  std::size_t fixed = n->size() == 1 ? 0 : 1;
  if (op == '^') {
    fixed = 0;
    while (fixed + 1 < n->size() && (*n)[fixed] == 0) ++fixed;
  }
  SemverRange::Triple upper{0, 0, 0};
  for (std::size_t i = 0; i < fixed; ++i) upper[i] = r.lower[i];
  upper[fixed] = r.lower[fixed] + 1;
  r.upper = upper;
  return r;
}

}  // namespace shipgate::config
