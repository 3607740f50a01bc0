#include "deploy/image_reference.hpp"

#include <cctype>

namespace shipgate::deploy {

namespace {

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One path component: lowercase letters and digits, separated by '.', '_', '__' or runs of '-'.
bool valid_component(std::string_view c) {
  if (c.empty() || !lower_alnum(c.front()) || !lower_alnum(c.back())) return false;
  for (std::size_t i = 0; i < c.size(); ++i) {
    const char ch = c[i];
    if (lower_alnum(ch) || ch == '-') continue;
    if (ch != '.' && ch != '_') return false;
    if (!lower_alnum(c[i + 1]) && !(ch == '_' && c[i + 1] == '_' && i + 2 < c.size() && lower_alnum(c[i + 2])))
      return false;
    if (ch == '_' && c[i + 1] == '_') ++i;
  }
  return true;
}

bool valid_registry(std::string_view host) {
  const auto colon = host.find(':');
  const auto name = host.substr(0, colon);
  if (name.empty() || name.size() > 253) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return false;
  if (colon == std::string_view::npos) return true;
  const auto port = host.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  for (char c : port)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

bool valid_tag(std::string_view t) {
  if (t.empty() || t.size() > 128) return false;
  if (!std::isalnum(static_cast<unsigned char>(t.front())) && t.front() != '_') return false;
  for (char c : t)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') return false;
  return true;
}

}  // namespace

bool is_sha256_digest(std::string_view s) {
  if (s.size() != 71 || s.substr(0, 7) != "sha256:") return false;
  for (char c : s.substr(7))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::optional<ImageReference> parse_image_reference(std::string_view text) {
  if (text.empty() || text.size() > 512) return std::nullopt;
  ImageReference ref;
  if (const auto at = text.find('@'); at != std::string_view::npos) {
    if (!is_sha256_digest(text.substr(at + 1))) return std::nullopt;
    ref.digest = std::string(text.substr(at + 1));
    text = text.substr(0, at);
  }
  const auto last_slash = text.rfind('/');
  if (const auto colon = text.rfind(':'); colon != std::string_view::npos &&
                                          (last_slash == std::string_view::npos || colon > last_slash)) {
    if (!valid_tag(text.substr(colon + 1))) return std::nullopt;
    ref.tag = std::string(text.substr(colon + 1));
    text = text.substr(0, colon);
  }
  ref.name = std::string(text);
  std::string_view path = text;
  const auto first_slash = text.find('/');
  const auto first = text.substr(0, first_slash);
  if (first_slash != std::string_view::npos &&
      (first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos || first == "localhost")) {
    if (!valid_registry(first)) return std::nullopt;
    ref.registry = std::string(first);
    path = text.substr(first_slash + 1);
  } else {
    ref.registry = "docker.io";
  }
  if (path.empty() || path.size() > 255) return std::nullopt;
  for (std::size_t start = 0;;) {
    const auto end = path.find('/', start);
    if (!valid_component(path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)))
      return std::nullopt;
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  ref.repository = std::string(path);
  if (ref.registry == "docker.io" && ref.repository.find('/') == std::string::npos)
    ref.repository = "library/" + ref.repository;
  return ref;
}

std::string ImageReference::api_host() const {
  return registry == "docker.io" || registry == "index.docker.io" ? "registry-1.docker.io" : registry;
}

std::string ImageReference::manifest_reference() const {
  if (!digest.empty()) return digest;
  return tag.empty() ? "latest" : tag;
}

std::string ImageReference::pinned(const std::string& d) const { return name + "@" + d; }

}  // namespace shipgate::deploy
