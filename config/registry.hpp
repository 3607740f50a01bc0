// The config in force and the generations that still matter. A reload installs a new generation;
// deployments created under an older one keep running with its settings, so that generation stays
// reachable (by the file's SHA-256) until no unfinished deployment refers to it.
//
// Thread-safety: every member may be called from any thread.
#pragma once
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace shipgate::config {

class ConfigRegistry {
 public:
  explicit ConfigRegistry(ConfigPtr initial);

  ConfigPtr current() const;
  // The generation loaded from a file with this SHA-256; null when it was dropped or never loaded.
  ConfigPtr find(std::string_view sha256) const;
  // Makes `next` current. The previous generation stays findable until retain_only() drops it.
  void install(ConfigPtr next);
  // Makes `generation` findable without making it current (one another replica loaded).
  void add(ConfigPtr generation);
  // Drops every generation that is neither current nor listed.
  void retain_only(const std::set<std::string>& sha256s);
  std::size_t generations() const;

 private:
  mutable std::mutex mutex_;
  ConfigPtr current_;
  std::map<std::string, ConfigPtr, std::less<>> by_sha_;
};

}  // namespace shipgate::config
