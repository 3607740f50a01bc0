// The config of a daemon whose local file names a config_source: the local file with a folder of the
// platform repository (exported at one commit) laid over it. The folder holds `shipgate.yaml`
// (optional: any top-level section the local file does not have, and projects) and `projects/*.yaml`
// (each a map of project names to projects, as under `projects:`, so a project can live in its own
// file). A project defined twice, or a section both in the local file and in the folder, is an error
// naming both files; every error names its file and line.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/loader.hpp"

namespace shipgate::config {

// The config_source section of a local file: nothing when it has none; `errors` when it (or the file's
// YAML) is malformed. Nothing else of the file is checked.
std::optional<ConfigSourceConfig> read_config_source(const std::string& local_text, std::vector<ConfigError>& errors);

// The local file's github_app (nothing when it has none or it is malformed): with config_source over
// HTTPS and no token_file, the app's installation token fetches the platform repository.
std::optional<GithubAppConfig> read_local_github_app(const std::string& local_text);

struct Layers {
  std::string local_name;   // the local file, as messages name it
  std::string local_text;
  std::string folder;       // the exported folder on disk
  std::string folder_name;  // the folder as messages name it ("shipgate/")
  std::string commit;       // the platform commit the folder was read at
};

LoadResult load_layered_config(const Layers& layers, const EnvLookup& env);

// Each project's section of the config as read (Config::source), as text: two configs' sections are
// equal when the project's settings are.
std::map<std::string, std::string> project_sections(const Config& config);

}  // namespace shipgate::config
