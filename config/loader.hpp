// Loads and validates a YAML config. Every problem is collected with its key path, so one run of
// `shipgate check` shows them all.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace shipgate::config {

struct ConfigError {
  std::string path;     // e.g. "projects.planera.environments.production.approval.required"
  std::string message;  // e.g. "must be >= 1"
  std::string where;    // the file and line ("shipgate/projects/planera.yaml:12") when several files make the config
  std::string to_string() const {
    return (where.empty() ? "" : where + ": ") + (path.empty() ? message : path + ": " + message);
  }
};

// Looks up an environment variable; std::nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_environment();

struct LoadResult {
  std::shared_ptr<const Config> config;  // set only when errors is empty
  std::vector<ConfigError> errors;
  std::map<std::string, std::string> project_files;  // project -> the file defining it (a layered config)
};

// Relative paths the config names (manifest directories) are read from `base_dir` ("dir/"; empty: the
// working directory); load_config_file passes the file's own directory.
// `commit`: the platform commit the text was read at (Config::source_commit), when it comes from there.
LoadResult load_config_text(const std::string& yaml_text, const EnvLookup& env, const std::string& base_dir = "",
                            const std::string& commit = "");
LoadResult load_config_file(const std::string& path, const EnvLookup& env);

}  // namespace shipgate::config
