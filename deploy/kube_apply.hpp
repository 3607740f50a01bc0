// Applying a rendered manifest set through the API with server-side apply (field manager "shipgate"),
// and pruning what shipgate applied for the set before that the set no longer has.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "deploy/kube_api.hpp"
#include "deploy/manifest_set.hpp"

namespace shipgate::deploy {

inline constexpr std::string_view kFieldManager = "shipgate";

// Applies each object in order. Returns the first failure (nothing after it is applied), empty when all
// were applied. A field another manager owns is a conflict naming the fields and the manager, unless
// `force` takes them over. A Secret's failure never quotes the API's message.
boost::asio::awaitable<std::string> apply_objects(KubeApi& api, const std::vector<ManifestObject>& objects, bool force);

// The one-line reason of a server-side apply conflict, from the API's 409 Status.
std::string conflict_reason(const ManifestObject& object, const std::string& status_body);

// Deletes the objects labelled as the set's that `keep` does not have, newest kinds first; Namespaces are
// never pruned. A kind the API does not serve or RBAC does not let shipgate list is skipped and named
// in `skipped`. Returns the first failure, empty when done; `pruned` lists what was deleted.
boost::asio::awaitable<std::string> prune_objects(KubeApi& api, const std::vector<ManifestObject>& keep, std::string set_value,
                                                  nlohmann::json& pruned, nlohmann::json& skipped);

}  // namespace shipgate::deploy
