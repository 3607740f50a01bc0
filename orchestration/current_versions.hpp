// The version current in each of some lanes: the newest running, queued or succeeded deployment there,
// so a config redeploy never puts an older version back over a newer one on its way.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <string>
#include <utility>
#include <vector>

#include "domain/triggers.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration {

boost::asio::awaitable<CurrentVersions> current_versions(Store& store,
                                                         std::vector<std::pair<std::string, std::string>> lanes);

}  // namespace shipgate::orchestration
