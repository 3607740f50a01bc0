// Asks a container registry whether an image exists and what its digest is (OCI distribution API:
// HEAD /v2/<name>/manifests/<reference>). Registries that want a token (ghcr.io, Docker Hub and most
// others) answer 401 with a Bearer challenge; the token is fetched from the realm it names, with the
// configured credentials or anonymously, and the request repeated once.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "http/http_client.hpp"
#include "deploy/image_reference.hpp"

namespace shipgate::deploy {

enum class ImageState {
  found,        // the manifest exists; digest set
  missing,      // the registry says it does not exist (yet)
  refused,      // not allowed to read it (credentials), or the answer makes no sense: waiting will not help
  unavailable,  // the registry could not be asked (network, 5xx, 429): worth asking again
};

struct ImageLookup {
  ImageState state = ImageState::unavailable;
  std::string digest;   // sha256:... when found
  std::string message;  // why, when not found
};

// One lookup, bounded by `timeout` per request. `access` may be null (anonymous over HTTPS).
boost::asio::awaitable<ImageLookup> look_up_image(http::HttpClient& http, const ImageReference& image,
                                                  const config::RegistryConfig* access,
                                                  Millis timeout = Millis(15'000));

// The tags of an image's repository (GET /v2/<name>/tags/list, `page_size` a page (the registry may send fewer), following the Link
// header's rel="next" up to 100 pages), with the same credentials and token flow as look_up_image.
struct TagList {
  ImageState state = ImageState::unavailable;  // found: `tags` holds them (missing: no such repository)
  std::vector<std::string> tags;
  std::string message;
};
boost::asio::awaitable<TagList> list_tags(http::HttpClient& http, const ImageReference& image,
                                          const config::RegistryConfig* access, Millis timeout = Millis(15'000),
                                          int page_size = 100);

// The next page a Link header names (`<url>; rel="next"`), as a path (and query) on the same registry.
std::optional<std::string> next_page(std::string_view link);
// The tags of a tags/list answer page; none when it has no `tags` array (a non-string entry is skipped).
std::optional<std::vector<std::string>> read_tags(std::string_view body);

// The bearer token of a token service's answer (`token`, else `access_token`); none when it has no
// usable one (missing, not a string, too long, or with characters a header cannot carry).
std::optional<std::string> read_registry_token(std::string_view body);

// An authentication challenge: "Bearer realm="https://x/token",service="y",scope="z"".
struct Challenge {
  std::string scheme;  // lower-cased: "bearer", "basic"
  std::map<std::string, std::string> params;
};
std::optional<Challenge> parse_challenge(std::string_view header);

}  // namespace shipgate::deploy
