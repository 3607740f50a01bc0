// A Kubernetes target's manifest directory, read with the config: a changed file is a new config
// generation, and a file that cannot be read or names an unknown placeholder is reported with the
// config's other errors.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/loader_internal.hpp"

namespace shipgate::config::detail {

namespace {

constexpr std::size_t kMaxManifestFiles = 200;
constexpr std::uintmax_t kMaxManifestBytes = 1 << 20;  // per file

bool manifest_name(const std::filesystem::path& p) {
  const auto ext = p.extension().string();
  return (ext == ".yaml" || ext == ".yml") && p.filename().string().front() != '.';
}

}  // namespace

void Loader::load_manifests(const std::string& path, const Project& project, KubernetesTargetConfig& k) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(k.manifests).is_absolute() ? fs::path(k.manifests) : fs::path(base_dir_) / k.manifests;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    error(path, "is not a directory: " + dir.string());
    return;
  }
  std::vector<fs::path> files;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
    if (it->is_regular_file(ec) && manifest_name(it->path())) files.push_back(it->path());
  std::sort(files.begin(), files.end());
  if (ec) error(path, "cannot list " + dir.string() + ": " + ec.message());
  if (files.empty()) error(path, "has no .yaml or .yml files: " + dir.string());
  if (files.size() > kMaxManifestFiles) error(path, "has more than " + std::to_string(kMaxManifestFiles) + " files");
  for (const auto& f : files) {
    const std::string name = f.filename().string(), where = path + "/" + name;
    if (fs::file_size(f, ec) > kMaxManifestBytes) {
      error(where, "is larger than 1 MiB");
      continue;
    }
    std::ifstream in(f, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) {
      error(where, "cannot be read");
      continue;
    }
    check_template(text.str(), where, &project);  // the YAML is read once rendered (deploy::check_manifest_sets)
    k.manifest_files.push_back({name, text.str()});
  }
}

}  // namespace shipgate::config::detail
