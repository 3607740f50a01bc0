#include "deploy/dotenv.hpp"

#include <set>

namespace shipgate::deploy {

namespace {

// The key a line sets ("KEY=..." or "export KEY=..."), or empty for comments, blanks and other lines.
std::string_view key_of(std::string_view line) {
  std::size_t i = line.find_first_not_of(" \t");
  if (i == std::string_view::npos || line[i] == '#') return {};
  if (line.substr(i, 7) == "export ") i = line.find_first_not_of(" \t", i + 7);
  const std::size_t eq = line.find('=', i);
  if (eq == std::string_view::npos) return {};
  std::string_view key = line.substr(i, eq - i);
  while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.remove_suffix(1);
  return key;
}

std::string_view value_of(std::string_view line) {
  std::string_view v = line.substr(line.find('=') + 1);
  if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
  return v;
}

template <typename Visit>
void for_each_line(std::string_view text, Visit visit) {
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = text.find('\n', at);
    const bool has_newline = end != std::string_view::npos;
    visit(text.substr(at, (has_newline ? end : text.size()) - at), has_newline);
    at = has_newline ? end + 1 : text.size();
  }
}

}  // namespace

std::map<std::string, std::optional<std::string>> env_values(std::string_view text,
                                                            const std::map<std::string, std::string>& keys) {
  std::map<std::string, std::optional<std::string>> out;
  for (const auto& [key, unused] : keys) out[key] = std::nullopt;
  for_each_line(text, [&](std::string_view line, bool) {
    const auto key = key_of(line);
    if (auto it = out.find(std::string(key)); !key.empty() && it != out.end()) it->second = std::string(value_of(line));
  });
  return out;
}

std::string with_env_values(std::string_view text, const std::map<std::string, std::optional<std::string>>& values) {
  std::string out;
  std::set<std::string> written;
  for_each_line(text, [&](std::string_view line, bool has_newline) {
    const auto key = key_of(line);
    const auto it = key.empty() ? values.end() : values.find(std::string(key));
    if (it == values.end()) {
      out += line;
    } else {
      if (!it->second) return;  // the key goes away with its line
      const bool crlf = !line.empty() && line.back() == '\r';
      out += it->first + "=" + *it->second + (crlf ? "\r" : "");
      written.insert(it->first);
    }
    if (has_newline) out += '\n';
  });
  for (const auto& [key, value] : values) {
    if (!value || written.contains(key)) continue;
    if (!out.empty() && out.back() != '\n') out += '\n';
    out += key + "=" + *value + "\n";
  }
  return out;
}

bool is_env_value(std::string_view value) { return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos; }

}  // namespace shipgate::deploy
