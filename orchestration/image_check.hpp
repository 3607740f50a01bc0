// Before a deployment's first target runs: every image it names exists in its registry, and its
// digest is recorded, so targets (pin_digests) and the next environment (promotion) get exactly the
// image this one was checked against, whatever happens to the tag afterwards.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "http/http_client.hpp"

namespace shipgate::orchestration {

struct ImageCheck {
  bool ok = false;
  bool superseded = false;                     // gave up waiting: newer work is queued behind it
  std::string message;                         // why not, when !ok
  std::map<std::string, std::string> digests;  // component -> sha256:...
};

// Called when an image is first found missing ("waiting for image ...") and once all are there ("").
using WaitingNote = std::function<boost::asio::awaitable<void>(std::string)>;

// Asked before each pause: a reason to stop waiting (a newer deployment is queued behind this one), or
// nothing. A missing image must not hold the environment's queue for the whole wait.
using NewerWork = std::function<boost::asio::awaitable<std::optional<std::string>>()>;

// Asks each image's registry; with `env.wait_for_images`, asks again with growing pauses (1 s doubling
// to 15 s) until all exist, the time is up, or `newer` names work queued behind it. A registry that
// refuses (credentials) fails at once.
boost::asio::awaitable<ImageCheck> check_images(http::HttpClient& http, const config::Config& config,
                                                const config::Environment& env,
                                                const std::map<std::string, std::string>& images,
                                                const WaitingNote& waiting, const NewerWork& newer = nullptr);

// The images a target receives: with `pin_digests`, each reference pinned to its recorded digest.
std::map<std::string, std::string> pinned_images(const std::map<std::string, std::string>& images,
                                                 const std::map<std::string, std::string>& digests);

// The digests recorded in a deployment's result ("images": {component: {reference, digest}}), and back.
std::map<std::string, std::string> recorded_digests(const nlohmann::json& result);
nlohmann::json digest_record(const std::map<std::string, std::string>& images,
                             const std::map<std::string, std::string>& digests);

}  // namespace shipgate::orchestration
