// Files a config names, read with it: a Kubernetes target's manifest directory and the Job templates
// of `before` steps. A changed file is a new config generation, and a file that cannot be read or names
// an unknown placeholder is reported with the config's other errors.
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
  const fs::path dir = config_relative(k.manifests);
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
    std::string text;
    if (!read_file(f, where, text)) continue;
    check_template(text, where, &project);  // the YAML is read once rendered (deploy::check_manifest_sets)
    k.manifest_files.push_back({name, std::move(text)});
  }
}

std::filesystem::path Loader::config_relative(const std::string& name) const {
  namespace fs = std::filesystem;
  return fs::path(name).is_absolute() ? fs::path(name) : fs::path(base_dir_) / name;
}

bool Loader::read_file(const std::filesystem::path& file, const std::string& path, std::string& text) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec || size > kMaxManifestBytes) {
    error(path, ec ? "cannot read " + file.string() + ": " + ec.message() : "is larger than 1 MiB");
    return false;
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in) {
    error(path, "cannot read " + file.string());
    return false;
  }
  text = buf.str();
  return true;
}

void Loader::load_before(const YAML::Node& n, const std::string& path, const Project& project, Environment& env) {
  if (!n.IsSequence()) {
    error(path, "must be a list of steps (type: job or command)");
    return;
  }
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string p = path + "[" + std::to_string(i) + "]";
    if (!is_map(n[i], p)) continue;
    Section s(*this, n[i], p);
    const auto type = s.require("type", "job or command") ? s.text("type") : std::nullopt;
    TargetConfig step;
    step.type = type.value_or("");
    if (step.type == "job") load_job(s, project, env, step);
    else if (step.type == "command") load_command(s, project, step);
    if (step.type != "job" && step.type != "command") {
      if (type) error(s.at("type"), "a before step is a job or a command, not '" + *type + "'");
      s.abandon();
      continue;
    }
    env.before.push_back(std::move(step));
  }
}

void Loader::load_job(Section& s, const Project& project, const Environment& env, TargetConfig& out) {
  JobTargetConfig job;
  for (const auto& t : env.targets)
    if (const auto* k = std::get_if<KubernetesTargetConfig>(&t.spec)) {
      job.cluster = *k;
      job.cluster.manifest_files.clear();
      job.cluster.workloads.clear();
      break;
    }
  std::string file;
  if (s.require("file", "a Job manifest, relative to the config file")) s.nonempty("file", file);
  if (!file.empty() && read_file(config_relative(file), s.at("file"), job.manifest.text)) {
    job.manifest.name = std::filesystem::path(file).filename().string();
    check_template(job.manifest.text, s.at("file"), &project);
  }
  s.nonempty("namespace", job.cluster.namespace_);
  s.nonempty("kubeconfig", job.cluster.kubeconfig);
  s.nonempty("context", job.cluster.context);
  s.nonempty("service_account_dir", job.cluster.service_account_dir);
  s.duration("timeout", job.timeout);
  s.duration("poll_interval", job.cluster.poll_interval);
  if (job.cluster.namespace_.empty())
    error(s.at("namespace"), "is required: the environment has no Kubernetes target to take it from");
  if (job.timeout.count() <= 0) error(s.at("timeout"), "must be greater than 0");
  out.spec = std::move(job);
}

void Loader::check_preview_url(const std::string& path, const Environment& env) {
  bool given = false;
  for (const auto& t : env.targets)
    if (const auto* k = std::get_if<KubernetesTargetConfig>(&t.spec); k && k->blue_green && !k->blue_green->preview_url.empty()) given = true;
  for (std::size_t i = 0; i < env.smoke.size() && !given; ++i) {
    const auto& c = env.smoke[i];
    if ((c.url + c.body_contains + c.body.dump()).find("{preview_url}") != std::string::npos)
      error(path + "[" + std::to_string(i) + "]", "uses {preview_url}, but no blue_green target of this environment sets preview_url");
  }
}

void Loader::load_blue_green(Section& t, KubernetesTargetConfig& k) {
  std::string strategy = "rolling";
  t.nonempty("strategy", strategy);
  if (strategy != "rolling" && strategy != "blue_green") {
    error(t.at("strategy"), "is rolling (the default) or blue_green, not '" + strategy + "'");
    return;
  }
  const auto node = t["blue_green"];
  if (strategy == "rolling") {
    if (node) error(t.at("blue_green"), "needs strategy: blue_green");
    return;
  }
  BlueGreenConfig bg;
  if (node && is_map(node, t.at("blue_green"))) {
    Section s(*this, node, t.at("blue_green"));
    s.nonempty("label", bg.label);
    s.nonempty("preview_url", bg.preview_url);
    s.duration("keep_old", bg.keep_old);
    if (!bg.preview_url.empty()) check_url(bg.preview_url, s.at("preview_url"));
  }
  if (!k.manifests.empty()) error(t.at("strategy"), "blue_green works with deployments, not manifests");
  if (t["drift"]) error(t.at("drift"), "is not watched for blue_green targets (the live colour changes with each deploy)");
  k.blue_green = std::move(bg);
}

}  // namespace shipgate::config::detail
