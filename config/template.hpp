// "{name}" placeholders in image tags, target URLs, bodies and command arguments. Only a brace pair
// around a name (letters, digits, '_' and '.', not starting with a digit) is a placeholder; shell
// syntax such as "${VAR}" or "{ cmd; }" and any other brace is literal. "{{" is a literal "{".
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace shipgate::config {

// Placeholders a template may use. "image.<component>" is also accepted for a project's components.
const std::vector<std::string>& template_placeholders();

// The placeholder names `tmpl` uses, in order.
struct TemplateParse {
  std::vector<std::string> names;
};
TemplateParse parse_template(std::string_view tmpl);

// Expands every placeholder with `vars`. A name missing from `vars` yields std::nullopt and is
// reported in `missing` (validated configs never hit this; it guards against drift).
// How a placeholder's value is written where the template is used. `url_component`: percent-encoded
// except for RFC 3986's unreserved characters (A-Z a-z 0-9 - . _ ~), so a value can never change a URL's
// path, query or host ("../admin", "v1?token=x" and "a/b" stay inside their segment or query value).
enum class Escape { none, url_component };
using TemplateVars = std::map<std::string, std::string, std::less<>>;
std::optional<std::string> expand_template(std::string_view tmpl, const TemplateVars& vars,
                                           std::string* missing = nullptr, Escape escape = Escape::none);

// Expands every placeholder, writing each value through `write`, which sees the output so far (`out`) and
// the template text after the placeholder (`after`), appends the value its own way and returns an error
// (empty: written). The first error stops the expansion and is returned in `error`; a name missing from
// `vars` is also put in `missing`.
using ValueWriter = std::function<std::string(std::string& out, std::string_view after, std::string_view name,
                                              const std::string& value)>;
std::optional<std::string> expand_template_with(std::string_view tmpl, const TemplateVars& vars, const ValueWriter& write,
                                                std::string& error, std::string* missing = nullptr);

// RFC 3986 percent-encoding of everything but the unreserved characters.
std::string percent_encode(std::string_view value);

// Expands every string inside a JSON document (keys are left alone).
std::optional<nlohmann::json> expand_json_template(const nlohmann::json& doc, const TemplateVars& vars,
                                                   std::string* missing = nullptr);

}  // namespace shipgate::config
