// config_source: where the rest of the config comes from (a folder of the platform Git repository).
#include "config/loader_internal.hpp"

#include "common/text.hpp"

namespace shipgate::config::detail {

void Loader::load_config_source(const YAML::Node& n, std::optional<ConfigSourceConfig>& out) {
  if (!is_map(n, "config_source")) return;
  Section s(*this, n, "config_source");
  ConfigSourceConfig c;
  if (s.require("git", "the platform repository's clone URL")) s.nonempty("git", c.git);
  // Handed to git as one argument after "--": a URL or a path, never an option.
  if (!c.git.empty() && (c.git.front() == '-' || !is_plain_text(c.git, 2048)))
    error(s.at("git"), "must be a clone URL or a path");
  s.nonempty("repository", c.repository);
  if (!c.repository.empty() && (c.repository.find('/') == std::string::npos || !is_token(c.repository, 200)))
    error(s.at("repository"), "must be owner/name");
  s.nonempty("branch", c.branch);
  if (!is_token(c.branch, 200) || c.branch.front() == '-') error(s.at("branch"), "must be a branch name");
  if (const auto path = s.text("path")) {
    std::string p = *path;
    while (!p.empty() && p.back() == '/') p.pop_back();
    while (!p.empty() && p.front() == '/') p.erase(0, 1);
    if (p == ".") p.clear();
    if (p.find("..") != std::string::npos || escape_control(p) != p || (!p.empty() && p.front() == '-'))
      error(s.at("path"), "must be a folder inside the repository");
    c.path = p;
  }
  s.nonempty("token_file", c.token_file);
  s.nonempty("ca_file", c.ca_file);
  s.duration("poll", c.poll);
  if (c.poll < Millis(1'000)) error(s.at("poll"), "must be at least 1s");
  s.boolean("allow_rewind", c.allow_rewind);
  s.nonempty("cache_dir", c.cache_dir);
  out = std::move(c);
}

}  // namespace shipgate::config::detail
