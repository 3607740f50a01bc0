// An environment's registry watch (watch: { every, semver, tags, component }).
#include "config/loader_internal.hpp"

namespace shipgate::config::detail {

void Loader::load_watch(const YAML::Node& n, const std::string& path, const Project& project, Environment& env) {
  if (!is_map(n, path)) return;
  Section s(*this, n, path);
  RegistryWatch w;
  s.duration("every", w.every);
  if (w.every < Millis(1000)) error(s.at("every"), "must be at least 1s");
  if (auto range = s.text("semver")) {
    w.semver = parse_semver_range(*range);
    w.semver_text = *range;
    if (!w.semver) error(s.at("semver"), "a range like ^1, ^1.4, ~1.4, 1.4.2, >=1.4.0 or *");
  }
  s.nonempty("tags", w.tags);
  s.nonempty("component", w.component);
  if (w.component.empty() && project.components.size() == 1) w.component = project.components.front().name;
  if (w.component.empty())
    error(s.at("component"), "is required when the project has " + std::to_string(project.components.size()) +
                                 " components (whose repository is watched)");
  else if (!project.component(w.component))
    error(s.at("component"), "unknown component '" + w.component + "'");
  env.watch = std::move(w);
  env.deploy_on.insert(Trigger::registry);  // what the watch finds deploys here
}

}  // namespace shipgate::config::detail
