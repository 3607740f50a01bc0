// The Kubernetes API's answers (deploy/rollout_rules.hpp, deploy/kube_watch.hpp, deploy/kube_apply.hpp,
// deploy/canary_traffic.hpp): a Deployment, StatefulSet, DaemonSet or Job read for its rollout and
// containers, an apply conflict's Status, an HTTPRoute read for its weights, and a watch stream's lines. Input: the body (for the stream, fed in
// two pieces split at its first byte's value).
#include <cstdint>
#include <string>
#include <string_view>

#include "common/json_read.hpp"
#include "deploy/canary_traffic.hpp"
#include "deploy/kube_apply.hpp"
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
  for (const char* kind : {"StatefulSet", "DaemonSet"}) {
    why.clear();
    (void)workload_rollout_state(kind, doc, why);
    if (why.empty()) __builtin_trap();
  }
  why.clear();
  (void)job_state(doc, why);
  if (why.empty()) __builtin_trap();
  const ManifestObject object{kube_kind("apps/v1", "Deployment"), "web", "api", "", {}};
  if (conflict_reason(object, std::string(body)).rfind("conflict applying Deployment web/api: ", 0) != 0) __builtin_trap();
  std::string error;
  const auto ops = weight_patch(doc, {"api", "api", "api-canary"}, 30, error);
  if (!ops.is_array() || ops.empty() || (ops.size() == 1) != !error.empty()) __builtin_trap();
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
