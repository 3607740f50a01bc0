#include "config/loader_internal.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>
#include <unordered_map>

#include "common/text.hpp"
#include "config/template.hpp"
#include "config/time_zone.hpp"
#include "config/units.hpp"

namespace shipgate::config::detail {

bool Loader::is_map(const YAML::Node& n, const std::string& path) {
  if (n.IsMap()) return true;
  error(path, n.IsNull() ? "must not be empty" : "must be a mapping");
  return false;
}

Section::Section(Loader& loader, const YAML::Node& map, std::string path)
    : loader_(loader), map_(map), path_(std::move(path)) {
  loader_.check_duplicates(map_, path_);
}

Section::~Section() {
  if (abandoned_ || !map_.IsMap()) return;
  for (const auto& kv : map_) {
    const std::string key = kv.first.Scalar();
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    std::string list;
    for (const auto& k : known_) list += (list.empty() ? "" : ", ") + k;
    loader_.error(join(path_, key), "unknown key (allowed: " + list + ")");
  }
}

YAML::Node Section::operator[](std::string_view key) {
  const std::string k(key);
  if (std::find(known_.begin(), known_.end(), k) == known_.end()) known_.push_back(k);
  const YAML::Node& map = map_;  // the const operator[] never inserts
  return map[k];
}

std::optional<std::string> Section::text(std::string_view key) {
  const auto n = (*this)[key];
  return n ? loader_.string(n, at(key)) : std::nullopt;
}

void Section::string(std::string_view key, std::string& field) {
  if (const auto n = (*this)[key])
    if (auto v = loader_.string(n, at(key))) field = *v;
}

void Section::nonempty(std::string_view key, std::string& field) {
  if (const auto n = (*this)[key])
    if (auto v = loader_.nonempty_string(n, at(key))) field = *v;
}

void Section::boolean(std::string_view key, bool& field) {
  if (const auto n = (*this)[key])
    if (auto v = loader_.boolean(n, at(key))) field = *v;
}

void Section::duration(std::string_view key, Millis& field) {
  if (const auto n = (*this)[key])
    if (auto v = loader_.duration(n, at(key))) field = *v;
}

void Section::size(std::string_view key, std::size_t& field) {
  if (const auto n = (*this)[key])
    if (auto v = loader_.size(n, at(key))) field = *v;
}

void Section::list(std::string_view key, std::vector<std::string>& field) {
  if (const auto n = (*this)[key]) field = loader_.string_list(n, at(key));
}

bool Section::require(std::string_view key, const std::string& hint) {
  if ((*this)[key]) return true;
  loader_.error(at(key), hint.empty() ? "is required" : "is required (" + hint + ")");
  return false;
}

// YAML parsers keep only one of two equal keys; a config that says a thing twice is a mistake.
void Loader::check_duplicates(const YAML::Node& map, const std::string& path) {
  std::set<std::string> seen;
  for (const auto& kv : map)
    if (!seen.insert(kv.first.Scalar()).second) error(join(path, kv.first.Scalar()), "duplicate key");
}

// "${NAME}" is replaced from the environment; "$$" is a literal "$".
std::optional<std::string> Loader::substitute(const std::string& raw, const std::string& path) {
  std::string out;
  bool ok = true;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '$' || i + 1 >= raw.size()) {
      out.push_back(raw[i]);
      continue;
    }
    if (raw[i + 1] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    if (raw[i + 1] != '{') {
      out.push_back('$');
      continue;
    }
    const std::size_t close = raw.find('}', i + 2);
    if (close == std::string::npos) {
      error(path, "unterminated ${ in value");
      return std::nullopt;
    }
    const std::string name = raw.substr(i + 2, close - i - 2);
    bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
    for (char c : name) valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    if (!valid) {
      error(path, "invalid variable name ${" + name + "}");
      ok = false;
    } else if (auto v = env_(name)) {
      out += *v;
    } else {
      error(path, "environment variable " + name + " is not set");
      ok = false;
    }
    i = close;
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::string> Loader::string(const YAML::Node& n, const std::string& path) {
  if (!n.IsScalar()) {
    error(path, "must be a string");
    return std::nullopt;
  }
  return substitute(n.Scalar(), path);
}

std::optional<std::string> Loader::nonempty_string(const YAML::Node& n, const std::string& path) {
  auto s = string(n, path);
  if (s && s->empty()) {
    error(path, "must not be empty");
    return std::nullopt;
  }
  return s;
}

std::optional<bool> Loader::boolean(const YAML::Node& n, const std::string& path) {
  auto s = string(n, path);
  if (!s) return std::nullopt;
  if (*s == "true" || *s == "yes" || *s == "on") return true;
  if (*s == "false" || *s == "no" || *s == "off") return false;
  error(path, "must be true or false");
  return std::nullopt;
}

std::optional<long long> Loader::integer(const YAML::Node& n, const std::string& path, long long min,
                                 long long max) {
  auto s = string(n, path);
  if (!s) return std::nullopt;
  char* end = nullptr;
  const long long v = std::strtoll(s->c_str(), &end, 10);
  if (s->empty() || *end != '\0') {
    error(path, "must be a whole number");
    return std::nullopt;
  }
  if (v < min || v > max) {
    error(path, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return v;
}

std::optional<Millis> Loader::duration(const YAML::Node& n, const std::string& path) {
  auto s = string(n, path);
  if (!s) return std::nullopt;
  auto d = parse_duration(*s);
  if (!d) error(path, "must be a duration such as 500ms, 30s, 10m, 72h or 1h30m");
  return d;
}

std::optional<std::size_t> Loader::size(const YAML::Node& n, const std::string& path) {
  auto s = string(n, path);
  if (!s) return std::nullopt;
  auto v = parse_size(*s);
  if (!v) error(path, "must be a size such as 1048576, 512KiB, 25MiB or 1GiB");
  return v;
}

std::vector<std::string> Loader::string_list(const YAML::Node& n, const std::string& path) {
  std::vector<std::string> out;
  if (!n.IsSequence()) {
    error(path, "must be a list");
    return out;
  }
  for (std::size_t i = 0; i < n.size(); ++i)
    if (auto s = string(n[i], path + "[" + std::to_string(i) + "]")) out.push_back(*s);
  return out;
}

// Converts a YAML subtree to JSON (for templated target bodies), substituting variables.
nlohmann::json Loader::to_json(const YAML::Node& n, const std::string& path) {
  if (n.IsMap()) {
    nlohmann::json o = nlohmann::json::object();
    for (const auto& kv : n) o[kv.first.Scalar()] = to_json(kv.second, join(path, kv.first.Scalar()));
    return o;
  }
  if (n.IsSequence()) {
    nlohmann::json a = nlohmann::json::array();
    for (std::size_t i = 0; i < n.size(); ++i) a.push_back(to_json(n[i], path + "[" + std::to_string(i) + "]"));
    return a;
  }
  if (n.IsNull()) return nullptr;
  // Plain scalars keep YAML's typing for numbers and booleans; quoted ones stay strings.
  if (n.Tag() == "?") {
    const std::string& s = n.Scalar();
    if (s == "true") return true;
    if (s == "false") return false;
    char* end = nullptr;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && *end == '\0') return v;
  }
  return substitute(n.Scalar(), path).value_or("");
}

void Loader::check_template(const std::string& tmpl, const std::string& path, const Project* project) {
  const auto parsed = parse_template(tmpl);
  for (const auto& name : parsed.names) {
    bool known = false;
    for (const auto& p : template_placeholders()) known = known || p == name;
    if (!known && project && name.rfind("image.", 0) == 0)
      known = project->component(std::string_view(name).substr(6)) != nullptr;
    if (!known) {
      std::string list;
      for (const auto& p : template_placeholders()) list += (list.empty() ? "{" : ", {") + p + "}";
      error(path, "unknown placeholder {" + name + "} (known: " + list + ", {image.<component>})");
    }
  }
}

void Loader::check_template_json(const nlohmann::json& doc, const std::string& path, const Project* project) {
  if (doc.is_string()) check_template(doc.get<std::string>(), path, project);
  else if (doc.is_object())
    for (auto it = doc.begin(); it != doc.end(); ++it) check_template_json(it.value(), join(path, it.key()), project);
  else if (doc.is_array())
    for (std::size_t i = 0; i < doc.size(); ++i) check_template_json(doc[i], path + "[" + std::to_string(i) + "]", project);
}

void Loader::check_url(const std::string& url, const std::string& path) {
  // {preview_url} is itself checked as a URL (a blue_green target's), and the environment must have one.
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0 && url.rfind("{preview_url}", 0) != 0)
    error(path, "must be an http:// or https:// URL");
}

// HOST:PORT into its parts; false (with an error) when malformed.
bool Loader::address(const YAML::Node& n, const std::string& path, std::string& listen, std::string& host,
             std::uint16_t& port_out) {
  auto v = nonempty_string(n, path);
  if (!v) return false;
  const auto colon = v->rfind(':');
  char* end = nullptr;
  const long port = colon == std::string::npos ? -1 : std::strtol(v->c_str() + colon + 1, &end, 10);
  if (colon == std::string::npos || colon == 0 || *end != '\0' || port < 0 || port > 65535) {
    error(path, "must be HOST:PORT, e.g. 0.0.0.0:8080");
    return false;
  }
  listen = *v;
  host = v->substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  port_out = static_cast<std::uint16_t>(port);
  return true;
}

}  // namespace shipgate::config::detail
