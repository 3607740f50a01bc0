#include "config/template.hpp"

#include <cctype>

namespace shipgate::config {

const std::vector<std::string>& template_placeholders() {
  static const std::vector<std::string> names = {
      "sha", "short_sha", "version", "ref", "tag", "branch", "project", "environment", "deployment_id", "config_commit",
      "preview_url"};
  return names;
}

namespace {

// Length of the placeholder starting at t[i] == '{' (including both braces), or 0 when it is literal.
std::size_t placeholder_at(std::string_view t, std::size_t i) {
  if (i > 0 && t[i - 1] == '$') return 0;  // shell ${VAR}
  std::size_t j = i + 1;
  if (j >= t.size() || !(std::isalpha(static_cast<unsigned char>(t[j])) || t[j] == '_')) return 0;
  while (j < t.size() && (std::isalnum(static_cast<unsigned char>(t[j])) || t[j] == '_' || t[j] == '.')) ++j;
  return j < t.size() && t[j] == '}' ? j - i + 1 : 0;
}

}  // namespace

TemplateParse parse_template(std::string_view t) {
  TemplateParse out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] != '{') continue;
    if (i + 1 < t.size() && t[i + 1] == '{') {
      ++i;
      continue;
    }
    if (const auto n = placeholder_at(t, i)) {
      out.names.emplace_back(t.substr(i + 1, n - 2));
      i += n - 1;
    }
  }
  return out;
}

std::string percent_encode(std::string_view value) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(digits[u >> 4]);
      out.push_back(digits[u & 0xf]);
    }
  }
  return out;
}

std::optional<std::string> expand_template_with(std::string_view t, const TemplateVars& vars, const ValueWriter& write,
                                                std::string& error, std::string* missing) {
  std::string out;
  out.reserve(t.size() + 32);
  for (std::size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < t.size() && t[i + 1] == '{') {
      out.push_back('{');
      ++i;
      continue;
    }
    const auto n = placeholder_at(t, i);
    if (n == 0) {
      out.push_back(c);
      continue;
    }
    const std::string_view name = t.substr(i + 1, n - 2);
    const auto it = vars.find(name);
    if (it == vars.end()) {
      error = "unknown placeholder {" + std::string(name) + "}";
      if (missing) *missing = std::string(name);
      return std::nullopt;
    }
    error = write(out, t.substr(i + n), name, it->second);
    if (!error.empty()) return std::nullopt;
    i += n - 1;
  }
  return out;
}

std::optional<std::string> expand_template(std::string_view t, const TemplateVars& vars, std::string* missing,
                                           Escape escape) {
  std::string error;
  const ValueWriter write = [escape](std::string& out, std::string_view, std::string_view, const std::string& value) {
    out += escape == Escape::url_component ? percent_encode(value) : value;
    return std::string();
  };
  return expand_template_with(t, vars, write, error, missing);
}

std::optional<nlohmann::json> expand_json_template(const nlohmann::json& doc, const TemplateVars& vars,
                                                   std::string* missing) {
  if (doc.is_string()) {
    auto s = expand_template(doc.get_ref<const std::string&>(), vars, missing);
    if (!s) return std::nullopt;
    return nlohmann::json(std::move(*s));
  }
  if (doc.is_object() || doc.is_array()) {
    nlohmann::json out = doc.is_object() ? nlohmann::json::object() : nlohmann::json::array();
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      auto v = expand_json_template(it.value(), vars, missing);
      if (!v) return std::nullopt;
      if (doc.is_object()) out[it.key()] = std::move(*v);
      else out.push_back(std::move(*v));
    }
    return out;
  }
  return doc;
}

}  // namespace shipgate::config
