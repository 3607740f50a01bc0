// "{name}" placeholders in image tags, target URLs and target bodies. "{{" is a literal "{".
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

// Names used by `tmpl`, or an error message for an unterminated or empty placeholder.
struct TemplateParse {
  std::vector<std::string> names;
  std::string error;
};
TemplateParse parse_template(std::string_view tmpl);

// Expands every placeholder with `vars`. A name missing from `vars` yields std::nullopt and is
// reported in `missing` (validated configs never hit this; it guards against drift).
using TemplateVars = std::map<std::string, std::string, std::less<>>;
std::optional<std::string> expand_template(std::string_view tmpl, const TemplateVars& vars,
                                           std::string* missing = nullptr);

// Expands every string inside a JSON document (keys are left alone).
std::optional<nlohmann::json> expand_json_template(const nlohmann::json& doc, const TemplateVars& vars,
                                                   std::string* missing = nullptr);

}  // namespace shipgate::config
