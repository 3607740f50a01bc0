// The Kubernetes API's answers (deploy/kubernetes_target.hpp, deploy/kube_watch.hpp): a Deployment read
// for its rollout and containers, and a watch stream's lines. Input: the body (for the stream, fed in
// two pieces split at its first byte's value).
#include <cstdint>
#include <string>
#include <string_view>

#include "common/json_read.hpp"
#include "deploy/kube_watch.hpp"
#include "deploy/kubernetes_target.hpp"
#include "deploy/rollout_rules.hpp"

using namespace shipgate::deploy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto doc = shipgate::json_read::parse(body);
  std::string why;
  const auto state = rollout_state(doc, why);
  if (why.empty() || (state == RolloutState::complete && why != "rolled out")) __builtin_trap();
  for (const auto& [name, image] : container_images(doc))
    if (name.size() + image.size() > size) __builtin_trap();
  (void)object_name(doc);
  WatchStream stream;
  const std::size_t split = size == 0 ? 0 : data[0] % (size + 1);
  for (const auto& part : {body.substr(0, split), body.substr(split)})
    for (const auto& e : stream.feed(part)) {
      if (!e.object.is_object()) __builtin_trap();
      (void)object_name(e.object);
    }
  return 0;
}
