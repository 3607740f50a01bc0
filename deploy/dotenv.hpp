// Environment text as Dokploy keeps it for applications and compose stacks: lines of KEY=VALUE
// (dotenv), with comments and blank lines. shipgate changes only the keys it is configured to set and
// leaves every other byte as it was, so what a team keeps there by hand survives every deploy.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace shipgate::deploy {

// The value each of `keys` has in `text` (the last line that sets it), or nothing when no line does.
std::map<std::string, std::optional<std::string>> env_values(std::string_view text,
                                                            const std::map<std::string, std::string>& keys);

// `text` with each key of `values` set: a line that sets a key is rewritten as KEY=value (every such
// line, so a repeated key cannot keep the old value), a key with no value (nullopt) loses its lines, and
// keys no line sets are added at the end. Every other line is kept byte for byte.
std::string with_env_values(std::string_view text, const std::map<std::string, std::optional<std::string>>& values);

// Whether `value` can be one line of such a text (no line break, no NUL).
bool is_env_value(std::string_view value);

}  // namespace shipgate::deploy
