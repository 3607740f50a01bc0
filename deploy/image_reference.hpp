// Container image references as Docker and OCI registries read them:
// [registry[:port]/]repository[:tag][@sha256:digest], with Docker Hub's defaults (docker.io,
// library/ for one-part names).
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace shipgate::deploy {

struct ImageReference {
  std::string name;        // as written, without tag or digest: "ghcr.io/acme/api", "nginx"
  std::string registry;    // "ghcr.io", "127.0.0.1:5000", "docker.io"
  std::string repository;  // path inside the registry: "acme/api", "library/nginx"
  std::string tag;         // empty when none
  std::string digest;      // "sha256:<64 hex>", empty when none

  // Host (and port) the registry API answers on: Docker Hub's API is not on docker.io itself.
  std::string api_host() const;
  // What the manifest is asked for by: the digest when there is one, else the tag ("latest" if neither).
  std::string manifest_reference() const;
  // The same image pinned: "<name>@<digest>".
  std::string pinned(const std::string& digest) const;
};

// Nothing when the text is not a well-formed reference (characters, lengths, shape).
std::optional<ImageReference> parse_image_reference(std::string_view text);

// "sha256:" followed by 64 lowercase hex digits.
bool is_sha256_digest(std::string_view s);

}  // namespace shipgate::deploy
