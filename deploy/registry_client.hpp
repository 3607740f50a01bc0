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
