#include "domain/input_rules.hpp"

#include <cctype>

#include "common/text.hpp"

namespace shipgate::orchestration {

namespace {

bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

// The parts of Git's ref-name rules shared by versions and full refs.
std::optional<std::string> check_ref_name(std::string_view name, std::string_view what, std::size_t max) {
  if (name.empty()) return std::string(what) + " is empty";
  if (name.size() > max) return std::string(what) + " is longer than " + std::to_string(max) + " characters";
  for (char c : name) {
    if (is_control(c)) return std::string(what) + " contains a control character";
    if (c == ' ' || c == '\t') return std::string(what) + " contains whitespace";
    if (std::string_view("~^:?*[\\").find(c) != std::string_view::npos)
      return std::string(what) + " contains '" + std::string(1, c) + "', which a Git ref name cannot";
  }
  if (name.find("..") != std::string_view::npos) return std::string(what) + " contains \"..\"";
  if (name.find("@{") != std::string_view::npos) return std::string(what) + " contains \"@{\"";
  if (name.find("//") != std::string_view::npos) return std::string(what) + " contains \"//\"";
  if (name == "@") return std::string(what) + " cannot be \"@\"";
  if (name.front() == '-') return std::string(what) + " starts with '-'";
  if (name.front() == '/' || name.back() == '/') return std::string(what) + " starts or ends with '/'";
  if (name.back() == '.') return std::string(what) + " ends with '.'";
  if (name.size() >= 5 && name.substr(name.size() - 5) == ".lock") return std::string(what) + " ends with \".lock\"";
  if (name.front() == '.' || name.find("/.") != std::string_view::npos)
    return std::string(what) + " has a part starting with '.'";
  return std::nullopt;
}

bool tag_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'; }

}  // namespace

std::optional<std::string> check_version(std::string_view version) {
  return check_ref_name(version, "version", kMaxVersionLength);
}

std::optional<std::string> check_ref(std::string_view ref) {
  if (ref.rfind("refs/", 0) != 0) return std::string("ref must start with \"refs/\"");
  return check_ref_name(ref, "ref", kMaxRefLength);
}

std::optional<std::string> check_sha(std::string_view sha) {
  if (sha.size() != 40 || !is_hex(sha)) return std::string("sha must be 40 hexadecimal digits");
  return std::nullopt;
}

std::optional<std::string> check_image_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128) return std::string("image tag must be 1 to 128 characters");
  if (tag.front() == '.' || tag.front() == '-') return std::string("image tag cannot start with '.' or '-'");
  for (char c : tag)
    if (!tag_char(c)) return std::string("image tag may only contain letters, digits, '_', '.' and '-'");
  return std::nullopt;
}

std::optional<std::string> check_image_override(const config::Component& component, std::string_view reference) {
  const std::string what = "images." + component.name;
  if (reference.size() > 512) return what + " is longer than 512 characters";
  std::string_view rest = reference;
  std::string_view digest;
  if (const auto at = rest.find('@'); at != std::string_view::npos) {
    digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
    if (digest.size() != 71 || digest.substr(0, 7) != "sha256:" || !is_hex(digest.substr(7)))
      return what + ": a digest must be sha256: and 64 hexadecimal digits";
  }
  // The tag is what follows the last ':' after the last '/' (a registry host may carry a port).
  std::string_view repository = rest;
  const auto slash = rest.rfind('/');
  const auto colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    repository = rest.substr(0, colon);
    if (auto why = check_image_tag(rest.substr(colon + 1))) return what + ": " + *why;
  } else if (digest.empty()) {
    return what + " needs a tag or a digest (\"latest\" by omission is never deployed)";
  }
  bool allowed = repository == component.image;
  for (const auto& pattern : component.allow_repositories) allowed = allowed || glob_match(pattern, repository);
  if (!allowed)
    return what + " names repository " + std::string(repository) + ", not the component's " + component.image +
           (component.allow_repositories.empty() ? "" : " or one its allow_repositories lists");
  return std::nullopt;
}

}  // namespace shipgate::orchestration
