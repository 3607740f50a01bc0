#include "config/registry.hpp"

namespace shipgate::config {

ConfigRegistry::ConfigRegistry(ConfigPtr initial) { install(std::move(initial)); }

ConfigPtr ConfigRegistry::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

ConfigPtr ConfigRegistry::find(std::string_view sha256) const {
  std::lock_guard lock(mutex_);
  auto it = by_sha_.find(sha256);
  return it == by_sha_.end() ? nullptr : it->second;
}

void ConfigRegistry::install(ConfigPtr next) {
  std::lock_guard lock(mutex_);
  current_ = next;
  by_sha_[next->source_sha256] = std::move(next);
}

void ConfigRegistry::add(ConfigPtr generation) {
  std::lock_guard lock(mutex_);
  by_sha_.emplace(generation->source_sha256, std::move(generation));
}

void ConfigRegistry::retain_only(const std::set<std::string>& sha256s) {
  std::lock_guard lock(mutex_);
  std::erase_if(by_sha_, [&](const auto& entry) {
    return entry.first != current_->source_sha256 && !sha256s.contains(entry.first);
  });
}

std::size_t ConfigRegistry::generations() const {
  std::lock_guard lock(mutex_);
  return by_sha_.size();
}

}  // namespace shipgate::config
