#include "deploy/manifest_yaml.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdlib>

namespace shipgate::deploy {

using nlohmann::json;

namespace {

enum class Context { plain, single_quoted, double_quoted, comment };

// Where the end of `line` stands: a quote opens a scalar only where a scalar may start.
Context context_at_end(std::string_view line) {
  Context q = Context::plain;
  char before = ' ';  // the last character outside quotes that is not a space
  bool at_start = true;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (q == Context::double_quoted) {
      if (c == '\\') ++i;
      else if (c == '"') q = Context::plain, before = c, at_start = false;
      continue;
    }
    if (q == Context::single_quoted) {
      if (c == '\'' && i + 1 < line.size() && line[i + 1] == '\'') ++i;
      else if (c == '\'') q = Context::plain, before = c, at_start = false;
      continue;
    }
    if (c == '#' && (i == 0 || line[i - 1] == ' ')) return Context::comment;
    const bool may_open = at_start || std::string_view(":-[{,?").find(before) != std::string_view::npos;
    if ((c == '"' || c == '\'') && may_open && (i == 0 || std::string_view(" [{,").find(line[i - 1]) != std::string_view::npos)) {
      q = c == '"' ? Context::double_quoted : Context::single_quoted;
      continue;
    }
    if (c != ' ') before = c, at_start = false;
  }
  return q;
}

std::size_t indentation(std::string_view line) {
  const auto n = line.find_first_not_of(' ');
  return n == std::string_view::npos ? line.size() : n;
}

// A block scalar's header ends its line with '|' or '>', perhaps with a chomping or indentation sign.
bool block_header(std::string_view line) {
  auto end = line.find_last_not_of(' ');
  while (end != std::string_view::npos && end > 0 && (line[end] == '-' || line[end] == '+' || std::isdigit(static_cast<unsigned char>(line[end]))))
    --end;
  return end != std::string_view::npos && (line[end] == '|' || line[end] == '>') && end > 0 && line[end - 1] == ' ';
}

// Whether the line being written lies inside a block scalar ("key: |" and the lines indented under it).
bool in_block_scalar(std::string_view out) {
  const auto nl = out.rfind('\n');
  if (nl == std::string_view::npos) return false;
  std::size_t limit = indentation(out.substr(nl + 1));
  std::size_t line_end = nl;
  while (limit > 0 && line_end != std::string_view::npos && line_end > 0) {
    const auto start = out.rfind('\n', line_end - 1);
    const auto from = start == std::string_view::npos ? 0 : start + 1;
    const auto line = out.substr(from, line_end - from);
    if (line.find_first_not_of(' ') != std::string_view::npos && indentation(line) < limit) {
      if (block_header(line)) return true;
      limit = indentation(line);
    }
    if (start == std::string_view::npos) break;
    line_end = start;
  }
  return false;
}

std::string_view current_line(const std::string& out) {
  const auto nl = out.rfind('\n');
  return nl == std::string::npos ? std::string_view(out) : std::string_view(out).substr(nl + 1);
}

// The placeholder is all of a plain scalar: after "key: ", "- ", '[', '{' or ',' (or alone on its line),
// and followed by nothing but a comment, ',', ']' or '}'.
bool whole_scalar(std::string_view line, std::string_view after) {
  const auto end = line.find_last_not_of(' ');
  bool starts = end == std::string_view::npos;
  if (!starts) {
    const char c = line[end];
    const bool spaced = end + 1 < line.size();
    starts = (c == ':' && spaced) || (c == '-' && spaced && indentation(line) == end) || c == '[' || c == ',' || c == '{';
  }
  const auto rest = after.substr(0, after.find('\n'));
  const auto next = rest.find_first_not_of(' ');
  const bool ends = next == std::string_view::npos || std::string_view("#,]}").find(rest[next]) != std::string_view::npos;
  return starts && ends;
}

bool plain_safe(std::string_view v) {
  if (v.empty() || v.back() == ':') return false;
  for (char c : v)
    if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view("._/:@+=~-").find(c) == std::string_view::npos) return false;
  return true;
}

bool has_control(std::string_view v) {
  for (char c : v)
    if (static_cast<unsigned char>(c) < 0x20) return true;
  return false;
}

std::string json_escaped(const std::string& value) {
  const std::string quoted = json(value).dump(-1, ' ', false, json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

}  // namespace

std::string write_yaml_value(std::string& out, std::string_view after, std::string_view name, const std::string& value) {
  const auto line = current_line(out);
  const std::string placeholder = "{" + std::string(name) + "}";
  switch (context_at_end(line)) {
    case Context::double_quoted:
      out += json_escaped(value);
      return {};
    case Context::single_quoted:
      if (has_control(value)) return placeholder + " holds a control character and stands in single quotes; use double quotes";
      for (char c : value) out += c == '\'' ? "''" : std::string(1, c);
      return {};
    case Context::comment:
      if (has_control(value)) return placeholder + " holds a control character and stands in a comment";
      out += value;
      return {};
    case Context::plain:
      break;
  }
  if (in_block_scalar(out)) {
    if (has_control(value)) return placeholder + " holds a line break or control character and stands in a block scalar";
    out += value;
    return {};
  }
  if (whole_scalar(line, after)) {
    out += '"' + json_escaped(value) + '"';
    return {};
  }
  if (!plain_safe(value)) return "the value of " + placeholder + " cannot stand unquoted inside a longer YAML value; put it in double quotes";
  out += value;
  return {};
}

namespace {

json plain_scalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  const bool numeric = s.find_first_not_of("+-0123456789.eE") == std::string::npos &&
                       (std::isdigit(static_cast<unsigned char>(s[0])) ||
                        (s.size() > 1 && (s[0] == '-' || s[0] == '+' || s[0] == '.') && std::isdigit(static_cast<unsigned char>(s[1]))));
  if (!numeric) return s;
  char* end = nullptr;
  const long long i = std::strtoll(s.c_str(), &end, 10);
  if (*end == '\0') return i;
  const double d = std::strtod(s.c_str(), &end);
  if (*end == '\0') return d;
  return s;
}

json to_json(const YAML::Node& n, int depth, std::string& error) {
  if (depth > 64) {
    error = "nested more than 64 levels deep";
    return nullptr;
  }
  if (n.IsMap()) {
    json o = json::object();
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) {
        error = "a mapping key that is not a string";
        return nullptr;
      }
      o[kv.first.Scalar()] = to_json(kv.second, depth + 1, error);
    }
    return o;
  }
  if (n.IsSequence()) {
    json a = json::array();
    for (const auto& item : n) a.push_back(to_json(item, depth + 1, error));
    return a;
  }
  if (n.IsScalar()) return n.Tag() == "?" ? plain_scalar(n.Scalar()) : json(n.Scalar());
  return nullptr;
}

}  // namespace

std::vector<json> yaml_documents(const std::string& text, std::string& error) {
  std::vector<json> out;
  try {
    for (const auto& doc : YAML::LoadAll(text)) {
      if (!doc.IsDefined() || doc.IsNull()) continue;
      json j = to_json(doc, 0, error);
      if (!error.empty()) return {};
      out.push_back(std::move(j));
    }
  } catch (const YAML::Exception& e) {
    error = "line " + std::to_string(e.mark.line + 1) + ": " + e.msg;
    return {};
  }
  return out;
}

}  // namespace shipgate::deploy
