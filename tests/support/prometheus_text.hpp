// A strict reader of the Prometheus text exposition format (0.0.4) for tests: every line must be a
// HELP/TYPE comment or `name{label="value",...} number`; anything else is an error.
#pragma once
#include <map>
#include <optional>
#include <string>

namespace shipgate::testing {

struct Exposition {
  // "name{a=\"1\",b=\"2\"}" (labels sorted by name) -> value
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;  // metric family -> counter | gauge | histogram
  std::string error;                         // first malformed line, empty when all parsed
  std::optional<double> get(const std::string& key) const {
    auto it = samples.find(key);
    return it == samples.end() ? std::nullopt : std::optional<double>(it->second);
  }
};

Exposition parse_exposition(const std::string& text);

}  // namespace shipgate::testing
