#include "config/layered_config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/text.hpp"
#include "config/loader_internal.hpp"

namespace shipgate::config {

namespace {

namespace fs = std::filesystem;

// Sections the daemon reads before it can reach the repository: they stay in the local file.
constexpr const char* kLocalOnly[] = {"server", "store", "config_source"};

struct Layer {
  std::string name;  // as messages name the file
  YAML::Node root;
};

std::optional<YAML::Node> parse(const std::string& text, const std::string& name, std::vector<ConfigError>& errors) {
  try {
    YAML::Node root = YAML::Load(text);
    if (root.IsNull()) return YAML::Node(YAML::NodeType::Map);
    if (!root.IsMap()) {
      errors.push_back({"", "must be a YAML mapping", name});
      return std::nullopt;
    }
    return root;
  } catch (const YAML::Exception& e) {
    errors.push_back({"", "YAML syntax error at column " + std::to_string(e.mark.column + 1) + ": " + e.msg,
                      name + ":" + std::to_string(e.mark.line + 1)});
    return std::nullopt;
  }
}

// The folder's files, in a fixed order: shipgate.yaml first, then projects/ by name.
std::vector<std::pair<fs::path, std::string>> folder_files(const Layers& l) {
  std::vector<std::pair<fs::path, std::string>> out;
  const fs::path folder(l.folder);
  std::error_code ec;
  for (const char* main : {"shipgate.yaml", "shipgate.yml"})
    if (fs::is_regular_file(folder / main, ec)) out.emplace_back(folder / main, l.folder_name + main);
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder / "projects", ec)) {
    const auto ext = entry.path().extension().string();
    if (entry.is_regular_file(ec) && (ext == ".yaml" || ext == ".yml")) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  for (const auto& n : names) out.emplace_back(folder / "projects" / n, l.folder_name + "projects/" + n);
  return out;
}

// Where each top-level section and each project came from, and the tree they make together.
struct Merged {
  YAML::Node root{YAML::NodeType::Map};
  YAML::Node projects{YAML::NodeType::Map};
  std::map<std::string, std::string> section_file;  // top-level key -> file
  std::map<std::string, std::string> project_file;  // project name -> file
};

void add_projects(Merged& m, const YAML::Node& projects, const std::string& file, std::vector<ConfigError>& errors) {
  if (!projects.IsMap()) {
    errors.push_back({"projects", "must be a map of project names to projects", file});
    return;
  }
  for (const auto& kv : projects) {
    const std::string name = kv.first.Scalar();
    if (const auto seen = m.project_file.find(name); seen != m.project_file.end()) {
      errors.push_back({"projects." + name, "is defined in " + seen->second + " and again in " + file,
                        file + ":" + std::to_string(kv.first.Mark().line + 1)});
      continue;
    }
    m.project_file[name] = file;
    m.projects[name] = kv.second;
  }
}

void add_layer(Merged& m, const Layer& layer, bool local, std::vector<ConfigError>& errors) {
  for (const auto& kv : layer.root) {
    const std::string key = kv.first.Scalar();
    const std::string where = layer.name + ":" + std::to_string(kv.first.Mark().line + 1);
    if (key == "projects") {
      add_projects(m, kv.second, layer.name, errors);
      continue;
    }
    if (!local && std::find(std::begin(kLocalOnly), std::end(kLocalOnly), key) != std::end(kLocalOnly)) {
      errors.push_back({key, "belongs in the local file: it is read before the repository is", where});
      continue;
    }
    if (const auto seen = m.section_file.find(key); seen != m.section_file.end()) {
      errors.push_back({key, "is in " + seen->second + " and again in " + layer.name, where});
      continue;
    }
    m.section_file[key] = layer.name;
    m.root[key] = kv.second;
  }
}

// The line of the node an error's key path names (as far down the path as the tree goes).
std::string line_of(const YAML::Node& root, const std::string& path) {
  YAML::Node at = root;  // read through const references only: a lookup must never add a key
  int line = -1;
  std::stringstream parts(path);
  for (std::string part; std::getline(parts, part, '.');) {
    std::string key = part;
    std::vector<std::size_t> indexes;
    for (auto open = key.find('['); open != std::string::npos; open = key.find('[')) {
      const auto close = key.find(']', open);
      if (close == std::string::npos) break;
      indexes.push_back(std::strtoul(key.substr(open + 1, close - open - 1).c_str(), nullptr, 10));
      key.erase(open, close - open + 1);
    }
    const YAML::Node& here = at;
    if (!here.IsMap() || !here[key]) break;
    at.reset(here[key]);
    line = at.Mark().line;
    for (auto i : indexes) {
      const YAML::Node& list = at;
      if (!list.IsSequence() || i >= list.size()) return line < 0 ? "" : std::to_string(line + 1);
      at.reset(list[i]);
      line = at.Mark().line;
    }
  }
  return line < 0 ? "" : std::to_string(line + 1);
}

// Each error of the merged config named by the file (and line) it comes from.
void locate(std::vector<ConfigError>& errors, const Merged& m) {
  for (auto& e : errors) {
    if (!e.where.empty()) continue;
    const std::string first = e.path.substr(0, e.path.find_first_of(".["));
    std::string file;
    if (first == "projects") {
      const auto rest = e.path.size() > 9 ? e.path.substr(9) : std::string();
      const auto it = m.project_file.find(rest.substr(0, rest.find_first_of(".[")));
      if (it != m.project_file.end()) file = it->second;
    } else if (const auto it = m.section_file.find(first); it != m.section_file.end()) {
      file = it->second;
    }
    if (file.empty()) continue;
    const std::string line = line_of(m.root, e.path);
    e.where = line.empty() ? file : file + ":" + line;
  }
}

// One section of the local file, loaded alone (nothing else of the file is checked); its errors go to `errors`.
template <class T>
std::optional<T> local_section(const YAML::Node& root, const char* key, std::vector<ConfigError>& errors,
                               void (detail::Loader::*load)(const YAML::Node&, std::optional<T>&)) {
  if (!root[key]) return std::nullopt;
  const EnvLookup env = process_environment();  // named: the loader keeps a reference to it
  detail::Loader loader(env, "");
  std::optional<T> out;
  (loader.*load)(root[key], out);
  if (loader.errors.empty()) return out;
  errors.insert(errors.end(), loader.errors.begin(), loader.errors.end());
  return std::nullopt;
}

}  // namespace

std::optional<ConfigSourceConfig> read_config_source(const std::string& local_text, std::vector<ConfigError>& errors) {
  const auto root = parse(local_text, "", errors);
  if (!root) return std::nullopt;
  auto out = local_section(*root, "config_source", errors, &detail::Loader::load_config_source);
  const YAML::Node platform = (*root)["platform"];
  if (out && out->repository.empty() && platform && platform.IsMap() && platform["repository"])
    out->repository = platform["repository"].as<std::string>("");
  return out;
}

std::optional<GithubAppConfig> read_local_github_app(const std::string& local_text) {
  std::vector<ConfigError> errors;
  const auto root = parse(local_text, "", errors);
  return root ? local_section(*root, "github_app", errors, &detail::Loader::load_github_app) : std::nullopt;
}

std::map<std::string, std::string> project_sections(const Config& config) {
  std::map<std::string, std::string> out;
  try {
    const YAML::Node root = YAML::Load(config.source);
    const YAML::Node projects = root["projects"];
    if (!projects || !projects.IsMap()) return out;
    for (const auto& kv : projects) out[kv.first.Scalar()] = YAML::Dump(kv.second);
  } catch (const YAML::Exception&) {
    // The source loaded once already; a text that no longer parses has no sections to compare.
  }
  return out;
}

LoadResult load_layered_config(const Layers& l, const EnvLookup& env) {
  LoadResult out;
  Merged merged;
  const auto local = parse(l.local_text, l.local_name, out.errors);
  if (local) add_layer(merged, {l.local_name, *local}, true, out.errors);
  for (const auto& [path, name] : folder_files(l)) {
    const auto text = read_whole_file(path.string());
    if (!text) {
      out.errors.push_back({"", "cannot be read", name});
      continue;
    }
    const auto root = parse(*text, name, out.errors);
    if (!root) continue;
    // A file of projects/ is a map of projects; shipgate.yaml is a config of its own.
    if (path.parent_path().filename() == "projects") add_projects(merged, *root, name, out.errors);
    else add_layer(merged, {name, *root}, false, out.errors);
  }
  if (!out.errors.empty()) return out;
  if (merged.projects.size() > 0) merged.root["projects"] = merged.projects;
  YAML::Emitter emitter;
  emitter << merged.root;
  std::string folder = l.folder;
  if (!folder.empty() && folder.back() != '/') folder += '/';
  out = load_config_text(emitter.c_str(), env, folder, l.commit);
  locate(out.errors, merged);
  out.project_files = merged.project_file;
  return out;
}

}  // namespace shipgate::config
