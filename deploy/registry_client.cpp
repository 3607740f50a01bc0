#include "deploy/registry_client.hpp"

#include <variant>

#include <nlohmann/json.hpp>

#include "common/crypto.hpp"
#include "common/json_read.hpp"
#include "common/text.hpp"
#include "config/template.hpp"

namespace shipgate::deploy {

namespace asio = boost::asio;

namespace {

// Image indexes first: a multi-platform image is found by its index digest, which is what a
// Kubernetes node or Docker resolves the tag to as well.
constexpr const char* kManifestTypes =
    "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

http::OutboundRequest request(std::string method, std::string url, const config::RegistryConfig* access, Millis timeout) {
  http::OutboundRequest r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.timeout = timeout;
  r.connect_timeout = std::min(timeout, Millis(5'000));
  r.max_response_body = 4u << 20;  // manifests are small; a token answer too
  if (access) r.ca_file = access->tls.ca_file;
  return r;
}

std::string basic_credentials(const config::RegistryConfig& access) {
  return "Basic " + base64_encode(access.username + ":" + access.password);
}

ImageLookup unavailable(std::string message) { return {ImageState::unavailable, {}, std::move(message)}; }
ImageLookup refused(std::string message) { return {ImageState::refused, {}, std::move(message)}; }

// The Authorization value a 401's challenge asks for, or a lookup that says why there is none.
// The host of "host[:port]" ("[v6]:port" included), lower-cased.
std::string host_of(std::string_view authority) {
  if (!authority.empty() && authority.front() == '[') return to_lower(authority.substr(0, authority.find(']') + 1));
  return to_lower(authority.substr(0, authority.find(':')));
}

// The host of an http(s) URL; empty when it has none.
std::string url_host(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  url.remove_prefix(scheme + 3);
  return host_of(url.substr(0, url.find_first_of("/?#")));
}

asio::awaitable<std::variant<std::string, ImageLookup>> authorize(http::HttpClient& http, const http::OutboundResponse& denied,
                                                                  const std::string& registry_host,
                                                                  const config::RegistryConfig* access, Millis timeout) {
  const auto challenge = parse_challenge(denied.header("WWW-Authenticate"));
  if (challenge && challenge->scheme == "basic") {
    if (!access || access->username.empty()) co_return refused("the registry wants credentials; add them under registries");
    co_return basic_credentials(*access);
  }
  if (!challenge || challenge->scheme != "bearer" || !challenge->params.count("realm"))
    co_return refused("HTTP 401 without a challenge shipgate understands");
  const std::string& realm = challenge->params.at("realm");
  // Credentials go to the realm only over HTTPS, or plain HTTP where the registry itself is.
  const bool realm_https = realm.rfind("https://", 0) == 0;
  const bool plain = access && access->plain_http;
  if (!realm_https && !(plain && realm.rfind("http://", 0) == 0))
    co_return refused("the registry's token service " + realm + " is not HTTPS");
  std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
  bool first = true;
  for (const char* key : {"service", "scope"}) {
    const auto it = challenge->params.find(key);
    if (it == challenge->params.end()) continue;
    url += (first ? "" : "&") + std::string(key) + "=" + config::percent_encode(it->second);
    first = false;
  }
  auto req = request("GET", url, access, timeout);
  // Credentials travel only over HTTPS, or in the clear to the registry's own host (a plain_http
  // registry on loopback or a private network): never to another host a challenge names.
  const bool own_host = !registry_host.empty() && url_host(realm) == host_of(registry_host);
  if (access && !access->username.empty() && (realm_https || own_host))
    req.headers.emplace_back("Authorization", basic_credentials(*access));
  auto res = co_await http.send(std::move(req));
  if (!res) co_return unavailable("token service " + realm + ": " + res.error().message());
  if (res->status == 401 || res->status == 403)
    co_return refused("token service " + realm + " refused the credentials (HTTP " + std::to_string(res->status) + ")");
  // Its body is not repeated: what a service that refuses says is not for the deployment's message.
  if (res->status != 200) co_return unavailable("token service " + realm + ": HTTP " + std::to_string(res->status));
  const auto token = read_registry_token(res->body);
  if (!token) co_return refused("token service " + realm + " answered without a usable token");
  co_return "Bearer " + *token;
}

}  // namespace

std::optional<std::string> read_registry_token(std::string_view body) {
  const auto doc = json_read::parse(body);
  // Docker's token protocol names it `token`; OAuth2-style services `access_token`.
  std::string token = json_read::text(doc, "token");
  if (token.empty()) token = json_read::text(doc, "access_token");
  if (token.empty() || token.size() > 16384 || token.find_first_of("\r\n ") != std::string::npos) return std::nullopt;
  return token;
}

std::optional<Challenge> parse_challenge(std::string_view h) {
  h = trim(h);
  const auto space = h.find(' ');
  if (h.empty()) return std::nullopt;
  Challenge c;
  c.scheme = to_lower(h.substr(0, space));
  if (space == std::string_view::npos) return c;
  std::string_view rest = h.substr(space + 1);
  while (!rest.empty()) {
    rest = trim(rest);
    const auto eq = rest.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string key = to_lower(trim(rest.substr(0, eq)));
    rest = rest.substr(eq + 1);
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      std::size_t i = 1;
      for (; i < rest.size() && rest[i] != '"'; ++i) {
        if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
        value.push_back(rest[i]);
      }
      if (i >= rest.size()) return std::nullopt;  // unterminated quote
      rest = rest.substr(i + 1);
    } else {
      const auto comma = rest.find(',');
      value = std::string(trim(rest.substr(0, comma)));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma);
    }
    rest = trim(rest);
    if (!rest.empty()) {
      if (rest.front() != ',') return std::nullopt;
      rest = rest.substr(1);
    }
    c.params[std::move(key)] = std::move(value);
  }
  return c;
}

asio::awaitable<ImageLookup> look_up_image(http::HttpClient& http, const ImageReference& image,
                                           const config::RegistryConfig* access, Millis timeout) {
  const std::string base = std::string(access && access->plain_http ? "http://" : "https://") + image.api_host();
  const std::string url = base + "/v2/" + image.repository + "/manifests/" + image.manifest_reference();
  std::string authorization;
  for (int round = 0; round < 2; ++round) {
    auto req = request("HEAD", url, access, timeout);
    req.headers.emplace_back("Accept", kManifestTypes);
    if (!authorization.empty()) req.headers.emplace_back("Authorization", authorization);
    auto res = co_await http.send(std::move(req));
    if (!res) co_return unavailable(image.registry + ": " + res.error().message());
    if (res->status == 401 && round == 0) {
      auto auth = co_await authorize(http, *res, image.api_host(), access, timeout);
      if (auto* failed = std::get_if<ImageLookup>(&auth)) co_return std::move(*failed);
      authorization = std::get<std::string>(auth);
      continue;
    }
    if (res->status == 404) co_return ImageLookup{ImageState::missing, {}, "not found"};
    if (res->status == 401 || res->status == 403)
      co_return refused(image.registry + " refused to show it (HTTP " + std::to_string(res->status) + ")");
    if (res->status == 429 || res->status >= 500) co_return unavailable(image.registry + ": HTTP " + std::to_string(res->status));
    if (res->status != 200) co_return refused(image.registry + ": unexpected HTTP " + std::to_string(res->status));
    std::string digest = res->header("Docker-Content-Digest");
    if (digest.empty()) {
      // Some registries leave the digest out of HEAD answers: it is the SHA-256 of the manifest itself.
      auto get = request("GET", url, access, timeout);
      get.headers.emplace_back("Accept", kManifestTypes);
      if (!authorization.empty()) get.headers.emplace_back("Authorization", authorization);
      auto body = co_await http.send(std::move(get));
      if (!body || body->status != 200) co_return unavailable(image.registry + ": manifest: " + http::describe_failure(body));
      digest = "sha256:" + sha256_hex(body->body);
    }
    if (!is_sha256_digest(digest)) co_return refused(image.registry + " answered with a digest shipgate does not use: " + digest.substr(0, 80));
    // Asked by digest: the answer must be that very manifest.
    if (!image.digest.empty() && digest != image.digest) co_return refused(image.registry + " answered with another digest");
    co_return ImageLookup{ImageState::found, digest, {}};
  }
  co_return refused(image.registry + " refused the token it issued");
}

std::optional<std::string> next_page(std::string_view link) {
  // <path?n=100&last=x>; rel="next" (several links may be separated by commas)
  while (!link.empty()) {
    const auto open = link.find('<'), close = link.find('>');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) return std::nullopt;
    const auto target = link.substr(open + 1, close - open - 1);
    const auto end = link.find(',', close);
    const auto params = link.substr(close + 1, end == std::string_view::npos ? std::string_view::npos : end - close - 1);
    if (params.find("rel=\"next\"") != std::string_view::npos || params.find("rel=next") != std::string_view::npos) {
      // Only a path on the same registry: a next page elsewhere would carry the token to another host.
      if (target.empty() || target[0] != '/' || target.rfind("//", 0) == 0 || target.size() > 2000) return std::nullopt;
      return std::string(target);
    }
    if (end == std::string_view::npos) break;
    link.remove_prefix(end + 1);
  }
  return std::nullopt;
}

std::optional<std::vector<std::string>> read_tags(std::string_view body) {
  const auto doc = json_read::parse(body);
  const auto* tags = json_read::member(doc, "tags");
  if (!tags || !(tags->is_array() || tags->is_null())) return std::nullopt;
  std::vector<std::string> out;
  if (tags->is_array())
    for (const auto& t : *tags)
      if (t.is_string() && t.get_ref<const std::string&>().size() <= 128) out.push_back(t.get<std::string>());
  return out;
}

asio::awaitable<TagList> list_tags(http::HttpClient& http, const ImageReference& image, const config::RegistryConfig* access,
                                   Millis timeout, int page_size) {
  const std::string base = std::string(access && access->plain_http ? "http://" : "https://") + image.api_host();
  std::string path = "/v2/" + image.repository + "/tags/list?n=" + std::to_string(page_size);
  std::string authorization;
  TagList out;
  for (int page = 0, round = 0; page < 100;) {
    auto req = request("GET", base + path, access, timeout);
    if (!authorization.empty()) req.headers.emplace_back("Authorization", authorization);
    auto res = co_await http.send(std::move(req));
    if (!res) co_return TagList{ImageState::unavailable, {}, image.registry + ": " + res.error().message()};
    if (res->status == 401 && round++ == 0) {
      auto auth = co_await authorize(http, *res, image.api_host(), access, timeout);
      if (auto* failed = std::get_if<ImageLookup>(&auth)) co_return TagList{failed->state, {}, failed->message};
      authorization = std::get<std::string>(auth);
      continue;
    }
    if (res->status == 404) co_return TagList{ImageState::missing, {}, image.name + ": no such repository"};
    if (res->status == 429 || res->status >= 500) co_return TagList{ImageState::unavailable, {}, image.registry + ": HTTP " + std::to_string(res->status)};
    if (res->status != 200) co_return TagList{ImageState::refused, {}, image.registry + ": HTTP " + std::to_string(res->status)};
    auto tags = read_tags(res->body);
    if (!tags) co_return TagList{ImageState::refused, {}, image.registry + " answered tags/list without a tags array"};
    out.tags.insert(out.tags.end(), tags->begin(), tags->end());
    const auto next = next_page(res->header("Link"));
    if (!next) break;
    path = *next;
    ++page;
  }
  out.state = ImageState::found;
  co_return out;
}

}  // namespace shipgate::deploy
