#include "orchestration/image_check.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "config/units.hpp"
#include "deploy/image_reference.hpp"
#include "deploy/registry_client.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;
using deploy::ImageState;

namespace {

// Every image as a reference a registry understands; false (with the message) at the first that is not.
bool parse_references(const std::map<std::string, std::string>& images,
                      std::map<std::string, deploy::ImageReference>& pending, std::string& message) {
  for (const auto& [component, text] : images) {
    auto ref = deploy::parse_image_reference(text);
    if (!ref) {
      message = "image " + text + " (" + component + ") is not an image reference a registry understands";
      return false;
    }
    pending.emplace(component, std::move(*ref));
  }
  return true;
}

// One round of lookups: found images leave `pending` with their digests, the others keep their last
// answer in `why`; false (with the message in `out`) when a registry refused one for good.
asio::awaitable<bool> look_up_pending(http::HttpClient& http, const config::Config& config,
                                      const std::map<std::string, std::string>& images,
                                      std::map<std::string, deploy::ImageReference>& pending, ImageCheck& out,
                                      std::map<std::string, std::string>& why) {
  for (auto it = pending.begin(); it != pending.end();) {
    const auto lookup = co_await deploy::look_up_image(http, it->second, config.registry(it->second.registry));
    if (lookup.state == ImageState::found) {
      out.digests[it->first] = lookup.digest;
      it = pending.erase(it);
      continue;
    }
    if (lookup.state == ImageState::refused) {
      out.message = "image " + images.at(it->first) + ": " + lookup.message;
      co_return false;
    }
    why[it->first] = lookup.message;
    ++it;
  }
  co_return true;
}

}  // namespace

asio::awaitable<ImageCheck> check_images(http::HttpClient& http, const config::Config& config,
                                         const config::Environment& env,
                                         const std::map<std::string, std::string>& images, const WaitingNote& waiting,
                                         const NewerWork& newer) {
  ImageCheck out;
  std::map<std::string, deploy::ImageReference> pending;  // component -> image not found yet
  if (!parse_references(images, pending, out.message)) co_return out;
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + env.wait_for_images;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto pause = std::chrono::milliseconds(1'000);
  bool noted = false;
  std::map<std::string, std::string> why;  // component -> last answer
  for (;;) {
    if (!co_await look_up_pending(http, config, images, pending, out, why)) co_return out;
    const auto now = std::chrono::steady_clock::now();
    if (pending.empty() || now >= deadline) break;
    std::optional<std::string> reason;
    if (newer) reason = co_await newer();
    if (reason) {
      const auto& first = *pending.begin();
      out.superseded = true;
      out.message = *reason + " while waiting for image " + images.at(first.first);
      if (noted && waiting) co_await waiting("");
      co_return out;
    }
    if (!noted && waiting) {
      std::string line = "waiting for image";
      for (const auto& [component, ref] : pending) line += " " + images.at(component);
      co_await waiting(std::move(line));
      noted = true;
    }
    timer.expires_after(std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    pause = std::min(pause * 2, std::chrono::milliseconds(15'000));
  }
  if (noted && waiting) co_await waiting("");
  if (pending.empty()) {
    out.ok = true;
    co_return out;
  }
  const auto& [component, ref] = *pending.begin();
  out.message = "image " + images.at(component) + " " + (why[component] == "not found" ? "not found" : "unavailable (" + why[component] + ")");
  if (env.wait_for_images.count() > 0) out.message += " after " + config::format_duration(env.wait_for_images);
  co_return out;
}

std::map<std::string, std::string> pinned_images(const std::map<std::string, std::string>& images,
                                                 const std::map<std::string, std::string>& digests) {
  auto out = images;
  for (auto& [component, text] : out) {
    const auto digest = digests.find(component);
    const auto ref = deploy::parse_image_reference(text);
    if (digest != digests.end() && ref) text = ref->pinned(digest->second);
  }
  return out;
}

std::map<std::string, std::string> recorded_digests(const nlohmann::json& result) {
  std::map<std::string, std::string> out;
  const auto it = result.find("images");
  if (it == result.end() || !it->is_object()) return out;
  for (const auto& [component, entry] : it->items())
    if (entry.is_object() && entry.contains("digest") && entry["digest"].is_string())
      out[component] = entry["digest"].get<std::string>();
  return out;
}

nlohmann::json digest_record(const std::map<std::string, std::string>& images,
                             const std::map<std::string, std::string>& digests) {
  auto out = nlohmann::json::object();
  for (const auto& [component, digest] : digests) {
    const auto image = images.find(component);
    out[component] = {{"reference", image == images.end() ? std::string() : image->second}, {"digest", digest}};
  }
  return out;
}

}  // namespace shipgate::orchestration
